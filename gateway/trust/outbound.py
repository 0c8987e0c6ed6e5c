"""The gateway as a client of registries, and verification of registries' signed responses.

* :meth:`OutboundClient.access_token`: ``private_key_jwt`` at the registry's token endpoint
  named in the directory (assertion signed with the gateway's current key, ``aud`` = the
  registry's issuer, 60 s lifetime); tokens are cached until shortly before they expire.
* :meth:`OutboundClient.gateway_token`: a gateway-signed RFC 9068 token for registries that
  verify the gateway's JWKS instead of running a token endpoint.
* :func:`verify_response`: a registry's response carries a detached JWS (RFC 7797, ``b64``
  false) over the exact body bytes in the ``Carbonlink-Signature`` header; it must verify with
  a key the directory lists for the registry the caller expected, name that registry in
  ``iss``, be fresh, and (when given) echo the SHA-256 of the request body in ``req``.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from joserfc.jwk import Key

from gateway.digests import sha256_b64
from gateway.trust import jose
from gateway.trust.client_auth import JwksCache, participant_keys
from gateway.trust.directory import DirectoryStore, Participant
from gateway.trust.errors import ConfigurationError, ParticipantUnknown, PeerError, ResponseSignatureInvalid
from gateway.trust.keys import SigningKeyRing
from gateway.trust.proofs import assertion_form, client_assertion

SIGNATURE_HEADER = "Carbonlink-Signature"
RESPONSE_TYP = "carbonlink-response+jws"
MAX_TOKEN_RESPONSE = 64 * 1024


def sign_response(
    key: Key, *, signer: str, body: bytes, request_body: bytes | None = None, now: float | None = None
) -> str:
    """A registry's detached signature over a response body (the reference signer)."""
    header: dict[str, Any] = {
        "typ": RESPONSE_TYP,
        "b64": False,
        "crit": ["b64"],
        "iss": signer,
        "iat": int(time.time() if now is None else now),
    }
    if request_body is not None:
        header["req"] = sha256_b64(request_body)
    return jose.sign_detached(header, body, key)


def verify_response(
    participant: Participant,
    body: bytes,
    signature: str | None,
    *,
    jwks_cache: JwksCache | None = None,
    request_body: bytes | None = None,
    max_age: int = 300,
    skew: int = 30,
) -> dict[str, Any]:
    """Verify that ``body`` was signed by ``participant`` (see module docstring); return the header."""
    if not signature:
        raise ResponseSignatureInvalid(
            f"the response of {participant.id!r} is not signed", code="OUTBOUND.RESPONSE_UNSIGNED"
        )
    cache = jwks_cache or JwksCache()

    def key_for(header: dict[str, Any]) -> Key:
        if header.get("b64") is not False:
            raise jose.JwsRejected("B64", "response signatures are detached with b64 false")
        kid = header.get("kid")
        keys = participant_keys(participant, cache)
        if not isinstance(kid, str) or kid not in keys:
            raise jose.JwsRejected(
                "KID", f"kid {kid!r} is not a key the directory lists for {participant.id!r}"
            )
        return keys[kid]

    parts = signature.split(".")
    if len(parts) != 3 or parts[1]:
        raise ResponseSignatureInvalid(
            "the response signature is not a detached compact JWS", code="OUTBOUND.RESPONSE_MALFORMED"
        )
    try:
        header = jose.verify(
            signature,
            typ=[RESPONSE_TYP],
            key_for=key_for,
            payload=body,
            max_payload=max(len(body) * 2, 1024),
            max_bytes=16 * 1024,
        ).header
    except jose.JwsRejected as exc:
        raise ResponseSignatureInvalid(
            f"the response signature of {participant.id!r} is refused: {exc.message}",
            code=f"OUTBOUND.RESPONSE_{exc.reason}",
        ) from exc
    if header.get("iss") != participant.id:
        raise ResponseSignatureInvalid(
            f"the response names {header.get('iss')!r}, not {participant.id!r}",
            code="OUTBOUND.RESPONSE_ISSUER",
        )
    iat = header.get("iat")
    now = time.time()
    if not isinstance(iat, int) or iat < now - max_age or iat > now + skew:
        raise ResponseSignatureInvalid(
            "the response signature is stale or from the future", code="OUTBOUND.RESPONSE_STALE"
        )
    if request_body is not None and header.get("req") != sha256_b64(request_body):
        raise ResponseSignatureInvalid(
            "the response is not linked to this request (req)", code="OUTBOUND.RESPONSE_REQUEST"
        )
    return header


@dataclass(frozen=True, slots=True)
class PeerToken:
    access_token: str
    token_type: str
    expires_at: float


class OutboundClient:
    """Authenticates the gateway to registries named in the directory."""

    def __init__(
        self,
        keyring: SigningKeyRing,
        directory: DirectoryStore,
        *,
        client_id: str,
        http: httpx.Client | None = None,
        jwks_cache: JwksCache | None = None,
        assertion_lifetime: int = 60,
    ) -> None:
        self.keyring = keyring
        self.directory = directory
        self.client_id = client_id
        self.http = http or httpx.Client(timeout=10, follow_redirects=False)
        self.jwks_cache = jwks_cache or JwksCache()
        self.assertion_lifetime = assertion_lifetime
        self._tokens: dict[tuple[str, str | None], PeerToken] = {}
        self._lock = threading.Lock()

    def participant(self, participant_id: str) -> Participant:
        try:
            return self.directory.participant(participant_id)
        except ParticipantUnknown as exc:
            raise PeerError(exc.message, code=exc.code) from exc

    def access_token(self, participant_id: str, scope: str | None = None) -> PeerToken:
        """A token from the registry's token endpoint (cached until 30 s before expiry)."""
        with self._lock:
            cached = self._tokens.get((participant_id, scope))
        if cached is not None and cached.expires_at - 30 > time.time():
            return cached
        peer = self.participant(participant_id)
        if peer.endpoints.token is None or peer.issuer is None:
            raise ConfigurationError(
                f"the directory names no token endpoint and issuer for {participant_id!r}"
            )
        assertion = client_assertion(
            self.keyring.current,
            client_id=self.client_id,
            audience=peer.issuer,
            lifetime=self.assertion_lifetime,
        )
        try:
            resp = self.http.post(peer.endpoints.token, data=assertion_form(assertion, scope=scope))
        except httpx.HTTPError as exc:
            raise PeerError(
                f"{participant_id!r} token endpoint unreachable: {exc}", code="OUTBOUND.PEER_UNREACHABLE"
            ) from exc
        if resp.status_code != 200 or len(resp.content) > MAX_TOKEN_RESPONSE:
            raise PeerError(
                f"{participant_id!r} refused the gateway's token request: HTTP {resp.status_code} "
                f"{resp.text[:200]}",
                code="OUTBOUND.PEER_REFUSED",
            )
        try:
            body = orjson.loads(resp.content)
            token = PeerToken(
                str(body["access_token"]),
                str(body.get("token_type", "Bearer")),
                time.time() + float(body.get("expires_in", 60)),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise PeerError(
                f"{participant_id!r} answered the token request with an unusable body",
                code="OUTBOUND.PEER_MALFORMED",
            ) from exc
        with self._lock:
            self._tokens[(participant_id, scope)] = token
        return token

    def gateway_token(self, participant_id: str, scope: str = "", lifetime: int = 60) -> str:
        """A gateway-signed ``at+jwt`` for the registry (it verifies it against our JWKS)."""
        peer = self.participant(participant_id)
        now = int(time.time())
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "client_id": self.client_id,
            "aud": peer.issuer or peer.id,
            "iat": now,
            "exp": now + lifetime,
            "jti": secrets.token_urlsafe(16),
            "scope": scope,
        }
        return self.keyring.sign({"typ": "at+jwt"}, claims)

    def verify(
        self, participant_id: str, body: bytes, headers: Mapping[str, str], request_body: bytes | None = None
    ) -> dict[str, Any]:
        """Verify a response of ``participant_id`` (see :func:`verify_response`)."""
        wanted = SIGNATURE_HEADER.lower()
        signature = next((v for k, v in headers.items() if k.lower() == wanted), None)
        return verify_response(
            self.participant(participant_id),
            body,
            signature,
            jwks_cache=self.jwks_cache,
            request_body=request_body,
        )
