"""Request dependencies: the trust layer, the client certificate and the calling registry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import unquote

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from fastapi import Depends, Request

from gateway.api.blocking import run_blocking
from gateway.settings import Settings
from gateway.trust.client_auth import cert_thumbprint
from gateway.trust.directory import Participant
from gateway.trust.errors import (
    DirectoryError,
    InsufficientScope,
    InvalidRequest,
    InvalidToken,
    ParticipantUnknown,
)
from gateway.trust.replay import MemoryReplayStore
from gateway.trust.setup import Trust
from gateway.trust.tokens import AccessClaims


async def get_trust(request: Request) -> Trust:
    trust = request.app.state.trust
    assert isinstance(trust, Trust)
    return trust


TrustDep = Annotated[Trust, Depends(get_trust)]


async def get_app_settings(trust: TrustDep) -> Settings:
    return trust.settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def _pem_to_der(pem: str) -> bytes:
    try:
        return x509.load_pem_x509_certificate(pem.encode("ascii")).public_bytes(Encoding.DER)
    except (ValueError, UnicodeEncodeError) as exc:
        raise InvalidRequest(
            "the client certificate passed by the proxy is not a PEM certificate",
            code="CLIENT.CERTIFICATE_MALFORMED",
        ) from exc


async def client_certificate(request: Request, settings: SettingsDep) -> bytes | None:
    """The registry's verified TLS client certificate (DER), or None.

    Taken from the TLS connection when TLS terminates here (ASGI ``tls`` extension), or from
    ``settings.client_cert_header`` only when the TCP peer is a configured trusted proxy. A
    certificate header from anyone else is refused, never silently trusted or ignored.
    """
    header = request.headers.getlist(settings.client_cert_header)
    peer = request.client.host if request.client else None
    if header and peer not in settings.trusted_proxies:
        raise InvalidRequest(
            "a client-certificate header came from a peer that is not a trusted proxy",
            code="CLIENT.CERTIFICATE_UNTRUSTED_SOURCE",
        )
    tls = (request.scope.get("extensions") or {}).get("tls") or {}
    chain = tls.get("client_cert_chain") or []
    if chain:
        return _pem_to_der(str(chain[0]))
    if header:
        if len(header) != 1:
            raise InvalidRequest(
                "more than one client-certificate header", code="CLIENT.CERTIFICATE_MALFORMED"
            )
        return _pem_to_der(unquote(header[0]))
    return None


ClientCertDep = Annotated[bytes | None, Depends(client_certificate)]


@dataclass(frozen=True, slots=True)
class Caller:
    """A registry authenticated by a sender-constrained access token."""

    participant: Participant
    token: AccessClaims


def _access_token(request: Request) -> tuple[str, str]:
    values = request.headers.getlist("authorization")
    if not values:
        raise InvalidToken(
            "this endpoint needs an access token (Authorization: DPoP ...)", code="TOKEN.MISSING"
        )
    if len(values) != 1:
        raise InvalidRequest("more than one Authorization header", code="TOKEN.MALFORMED")
    scheme, _, token = values[0].partition(" ")
    scheme = scheme.lower()
    if scheme not in ("dpop", "bearer") or not token.strip():
        raise InvalidToken(
            "the Authorization scheme must be DPoP (or Bearer for certificate-bound tokens)",
            code="TOKEN.SCHEME",
        )
    return scheme, token.strip()


async def current_caller(request: Request, trust: TrustDep, cert: ClientCertDep) -> Caller:
    """Verify the access token and its binding on this request; the registry must still be active.

    With in-process replay caches the checks are CPU only (two signature checks, a dict lookup) and
    run on the event loop; a shared (Redis) replay cache means network I/O, so they go to a thread.
    """
    if isinstance(trust.replay, MemoryReplayStore):
        return verify_caller(request, trust, cert)
    return await run_blocking(verify_caller, request, trust, cert)


def verify_caller(request: Request, trust: Trust, cert: bytes | None) -> Caller:
    """The token and its binding checked (blocking when the replay cache is shared: see :func:`current_caller`)."""
    scheme, token = _access_token(request)
    claims = trust.tokens.verify(token)
    if claims.jkt is not None:
        if scheme != "dpop":
            raise InvalidToken(
                "a DPoP-bound token must be sent with the DPoP scheme and a proof", code="TOKEN.BINDING"
            )
        url = trust.settings.issuer + request.url.path
        jkt = trust.dpop.verify(
            request.headers.getlist("dpop"), method=request.method, url=url, access_token=token
        )
        if jkt != claims.jkt:
            raise InvalidToken(
                "the DPoP proof is signed by another key than the token is bound to", code="TOKEN.BINDING"
            )
    else:
        if cert is None or cert_thumbprint(cert) != claims.x5t:
            raise InvalidToken(
                "the token is bound to a client certificate this request does not present",
                code="TOKEN.BINDING",
            )
    try:
        participant = trust.directory.participant(claims.client_id)
    except (ParticipantUnknown, DirectoryError) as exc:
        raise InvalidToken(exc.message, code=exc.code) from exc
    return Caller(participant=participant, token=claims)


CurrentCaller = Annotated[Caller, Depends(current_caller)]


async def authenticate(request: Request) -> Caller:
    """:func:`current_caller` as one call (no dependency tree to solve): the same checks in the same
    order (client certificate, then token and binding), for routes on the relay's hot path."""
    trust = await get_trust(request)
    cert = await client_certificate(request, trust.settings)
    return await current_caller(request, trust, cert)


def require_scope(caller: Caller, scope: str) -> None:
    if scope not in caller.token.scopes:
        raise InsufficientScope(f"this needs the scope {scope!r}")
