"""Who may call the sandbox: the gateway (a token it signed) and the sandbox's own operator.

The gateway calls with ``Authorization: Bearer <at+jwt>`` minted by
:meth:`gateway.trust.outbound.OutboundClient.gateway_token`. The sandbox checks it the way the
trust layer checks tokens (:func:`gateway.trust.jose.verify`: algorithm allow-list, ``typ``
``at+jwt``, header checked before a key is chosen), against the gateway's JWKS, then ``iss`` =
the configured gateway issuer, ``aud`` = one of this registry's audiences, ``exp``/``iat`` with
clock skew, a bounded lifetime and a ``jti`` seen only once (remembered in the SQLite file, so a
restart does not reopen a replay window).

A message also carries the gateway's detached signature over its body (``Carbonlink-Signature``,
RFC 7797, ``typ`` ``carbonlink-message+jws``, ``iss`` the gateway issuer): :meth:`GatewayVerifier.verify`
checks it before the token's ``jti`` is spent and before anything is recorded, so a body garbled on
the wire is refused (401 ``SANDBOX.SIGNATURE_*``) and the true message can still be delivered afterwards.

Certificate-bound tokens (RFC 8705 section 3): when the sandbox terminates TLS with client certificates, a
token whose ``cnf`` names ``x5t#S256`` is taken only over a connection presenting that certificate
(``SANDBOX.AUTH_BINDING``); a token bound some other way is refused (``SANDBOX.AUTH_CNF``); with
``require_binding`` a token without ``cnf`` is refused too (``SANDBOX.AUTH_UNBOUND``).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from joserfc.jwk import Key

from gateway.sandbox.errors import GatewayAuthError, GatewayKeysUnavailable, OperatorAuthError, SandboxConfigError
from gateway.sandbox.store import SandboxStore
from gateway.trust import jose
from gateway.trust.client_auth import JwksCache
from gateway.trust.errors import ConfigurationError, InvalidClient
from gateway.trust.keys import SigningKeyRing, public_key_set
from gateway.trust.tokens import AT_TYP
from standards.errors import InputError
from standards.safeio import load_json, read_bytes

DEVELOPMENT = "development"
#: ``typ`` of the gateway's signature over a message it relays (``gateway.transfers._signer.MESSAGE_TYP``).
MESSAGE_TYP = "carbonlink-message+jws"
KeySource = Callable[[bool], dict[str, Key]]
#: Where the app hands the handlers the ``x5t#S256`` of the connection's verified TLS client certificate:
#: a key no HTTP header can have (``:`` is not a header-name character), so a client cannot supply it.
TLS_CLIENT_X5T = ":tls-client-x5t#s256"


def key_source(spec: str) -> KeySource:
    """Where the gateway's public keys come from: ``development`` (the shipped development
    keyring), an ``http(s)://`` JWKS URL (fetched, cached 5 minutes, re-fetched on an unknown
    ``kid``), or a JWKS file."""
    if spec == DEVELOPMENT:
        from gateway.trust import development

        ring = SigningKeyRing.from_document(development.keyring_document(), grace_seconds=330,
                                            what="development keyring")
        dev_keys = public_key_set(ring.jwks(), what="development gateway JWKS")
        return lambda refresh: dev_keys
    if spec.startswith(("http://", "https://")):
        cache = JwksCache(ttl=300, timeout=5)

        def fetch(refresh: bool) -> dict[str, Key]:
            try:
                return cache.keys(spec, refresh=refresh)
            except InvalidClient as exc:
                raise GatewayKeysUnavailable(f"the gateway's JWKS cannot be fetched: {exc.message}") from exc
        return fetch
    try:
        file_keys = public_key_set(load_json(read_bytes(Path(spec), limit=256 * 1024), what=spec), what=spec)
    except (InputError, ConfigurationError, OSError) as exc:
        raise SandboxConfigError(f"--gateway-jwks {spec}: {exc}") from exc
    return lambda refresh: file_keys


class GatewayVerifier:
    """Verifies the gateway's bearer tokens (see module docstring)."""

    def __init__(self, keys: KeySource, *, issuer: str, audiences: tuple[str, ...], store: SandboxStore,
                 skew: int = 30, max_lifetime: int = 600, require_binding: bool = False) -> None:
        self.keys = keys
        self.require_binding = require_binding
        self.issuer = issuer
        self.audiences = audiences
        self.store = store
        self.skew = skew
        self.max_lifetime = max_lifetime

    def _key_for(self, header: dict[str, Any]) -> Key:
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise jose.JwsRejected("KID", "the token has no kid")
        keys = self.keys(False)
        if kid not in keys:
            keys = self.keys(True)
        if kid not in keys:
            raise jose.JwsRejected("KID", f"kid {kid!r} is not a key of the gateway")
        return keys[kid]

    def check_body(self, body: bytes, signature: str | None, now: float | None = None) -> None:
        """The gateway's detached signature over ``body`` verifies (typ, key, ``iss``, ``iat``), or
        :class:`GatewayAuthError` with a ``SANDBOX.SIGNATURE_*`` code. Records nothing."""
        if not signature:
            raise GatewayAuthError("the message carries no gateway signature (Carbonlink-Signature)",
                                   code="SANDBOX.SIGNATURE_MISSING")
        parts = signature.split(".")
        if len(parts) != 3 or parts[1]:
            raise GatewayAuthError("the gateway signature is not a detached compact JWS",
                                   code="SANDBOX.SIGNATURE_MALFORMED")

        def key_for(header: dict[str, Any]) -> Key:
            if header.get("b64") is not False:
                raise jose.JwsRejected("B64", "message signatures are detached with b64 false")
            return self._key_for(header)

        try:
            header = jose.verify(signature, typ=[MESSAGE_TYP], key_for=key_for, payload=body,
                                 registry=jose.make_registry(max_payload=max(len(body) * 2, 1024))).header
        except jose.JwsRejected as exc:
            raise GatewayAuthError(f"the gateway signature over the body is refused: {exc.message}",
                                   code=f"SANDBOX.SIGNATURE_{exc.reason}") from exc
        if header.get("iss") != self.issuer:
            raise GatewayAuthError("the body is signed by another issuer than the gateway",
                                   code="SANDBOX.SIGNATURE_ISSUER")
        iat = _time(header.get("iat"))
        moment = time.time() if now is None else now
        if iat is None or iat < moment - self.max_lifetime - self.skew or iat > moment + self.skew:
            raise GatewayAuthError("the gateway signature is stale or from the future", code="SANDBOX.SIGNATURE_STALE")

    def check_binding(self, claims: dict[str, Any], client_x5t: str | None) -> None:
        """RFC 8705 section 3: a ``cnf`` ``x5t#S256`` must be the thumbprint of the connection's client
        certificate (``client_x5t``); see the module docstring."""
        cnf = claims.get("cnf")
        if cnf is None:
            if self.require_binding:
                raise GatewayAuthError("this registry takes only certificate-bound tokens (cnf x5t#S256)",
                                       code="SANDBOX.AUTH_UNBOUND")
            return
        bound = cnf.get("x5t#S256") if isinstance(cnf, dict) else None
        if not isinstance(bound, str) or set(cnf) != {"x5t#S256"}:
            raise GatewayAuthError("the token is bound by a method this registry does not support (cnf)",
                                   code="SANDBOX.AUTH_CNF")
        if client_x5t is None or not hmac.compare_digest(bound.encode(), client_x5t.encode()):
            raise GatewayAuthError("the token is bound to a client certificate this connection does not present",
                                   code="SANDBOX.AUTH_BINDING")

    def verify(self, authorization: str | None, now: float | None = None, *,
               body: bytes | None = None, signature: str | None = None,
               client_x5t: str | None = None) -> dict[str, Any]:
        """The verified claims of the ``Authorization: Bearer`` token, or :class:`GatewayAuthError`. With
        ``body``, the gateway's ``signature`` over it is checked too (:meth:`check_body`) before the token's
        ``jti`` is spent; ``client_x5t`` is the thumbprint of the TLS client certificate (:meth:`check_binding`)."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise GatewayAuthError("send the gateway's token as 'Authorization: Bearer <token>'",
                                   code="SANDBOX.AUTH_MISSING")
        try:
            claims = jose.verify(token.strip(), typ=AT_TYP, key_for=self._key_for).claims
        except jose.JwsRejected as exc:
            raise GatewayAuthError(f"the gateway token is refused: {exc.message}",
                                   code=f"SANDBOX.AUTH_{exc.reason}") from exc
        moment = time.time() if now is None else now
        if claims.get("iss") != self.issuer:
            raise GatewayAuthError(f"the token was issued by {claims.get('iss')!r}, not the gateway {self.issuer!r}",
                                   code="SANDBOX.AUTH_ISSUER")
        aud = claims.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        if not any(isinstance(a, str) and a in self.audiences for a in auds):
            raise GatewayAuthError(f"the token is meant for {aud!r}, not this registry", code="SANDBOX.AUTH_AUDIENCE")
        exp, iat, jti = _time(claims.get("exp")), _time(claims.get("iat")), claims.get("jti")
        if exp is None or iat is None or not isinstance(jti, str) or not 8 <= len(jti) <= 256:
            raise GatewayAuthError("the token needs numeric exp and iat and a jti of 8 to 256 characters",
                                   code="SANDBOX.AUTH_CLAIMS")
        if exp <= moment - self.skew:
            raise GatewayAuthError("the gateway token has expired", code="SANDBOX.AUTH_EXPIRED")
        if iat > moment + self.skew:
            raise GatewayAuthError("the gateway token is issued in the future", code="SANDBOX.AUTH_NOT_YET_VALID")
        if exp - iat > self.max_lifetime:
            raise GatewayAuthError(f"the gateway token lives longer than {self.max_lifetime} s",
                                   code="SANDBOX.AUTH_LIFETIME")
        self.check_binding(claims, client_x5t)
        if body is not None:
            self.check_body(body, signature, now)
        if not self.store.first_use(jti, exp + self.skew):
            raise GatewayAuthError("this gateway token was already used (jti replay)", code="SANDBOX.AUTH_REPLAY")
        return claims


def _time(value: object) -> float | None:
    """A NumericDate, or None for anything else (booleans, strings, absurd values)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 1e11:
        return float(value)
    return None


def check_operator(authorization: str | None, expected: str) -> None:
    """The operator endpoints take ``Authorization: Bearer <operator token>`` (constant-time compare)."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.encode()):
        raise OperatorAuthError("this endpoint needs the sandbox operator token", code="SANDBOX.OPERATOR_AUTH")
