"""Client-side builders: client assertions (RFC 7523) and DPoP proofs (RFC 9449).

The gateway uses them for its own outbound calls; registries and tests use them as the
reference client.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from joserfc.jwk import Key

from gateway.trust import jose
from gateway.trust.client_auth import ASSERTION_TYPE
from gateway.trust.dpop import access_token_hash
from gateway.trust.errors import ClaimsUnwritable


def client_assertion(
    key: Key,
    *,
    client_id: str,
    audience: str,
    lifetime: int = 60,
    now: float | None = None,
    extra: dict[str, Any] | None = None,
    header: dict[str, Any] | None = None,
) -> str:
    """A ``private_key_jwt`` assertion: iss = sub = client id, aud = the issuer, short lifetime."""
    issued = int(time.time() if now is None else now)
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": issued,
        "exp": issued + lifetime,
        "jti": secrets.token_urlsafe(16),
        **(extra or {}),
    }
    return jose.sign({"typ": "client-authentication+jwt", **(header or {})}, claims, key)


def assertion_form(assertion: str, *, scope: str | None = None, **extra: str) -> dict[str, str]:
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
        **extra,
    }
    if scope is not None:
        form["scope"] = scope
    return form


def _proof_claims(method: str, url: str, nonce: str | None, access_token: str | None, now: float | None,
                  extra: dict[str, Any] | None) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "jti": secrets.token_urlsafe(16),
        "htm": method,
        "htu": url,
        "iat": int(time.time() if now is None else now),
    }
    if nonce is not None:
        claims["nonce"] = nonce
    if access_token is not None:
        if not access_token.isascii():
            raise ClaimsUnwritable("an access token is ASCII (RFC 6750); this one is not")
        claims["ath"] = access_token_hash(access_token)
    claims.update(extra or {})
    return claims


def _proof_header(key: Key) -> dict[str, Any]:
    """The header of a proof by ``key``: its public JWK, without ``kid``."""
    public = dict(key.as_dict(private=False))
    public.pop("kid", None)
    return {"typ": "dpop+jwt", "jwk": public}


def dpop_proof(
    key: Key,
    *,
    method: str,
    url: str,
    nonce: str | None = None,
    access_token: str | None = None,
    now: float | None = None,
    extra: dict[str, Any] | None = None,
    header: dict[str, Any] | None = None,
) -> str:
    """A DPoP proof for one request, signed by ``key`` (its public JWK goes in the header)."""
    claims = _proof_claims(method, url, nonce, access_token, now, extra)
    return jose.sign({**_proof_header(key), **(header or {})}, claims, _without_kid(key))


class DpopProver:
    """:func:`dpop_proof` for one key that proves many requests (a client's): the same proofs, with the
    protected header serialized and checked once (:class:`jose.CompactSigner`) instead of per proof."""

    def __init__(self, key: Key) -> None:
        self.key = key
        self._header = _proof_header(key)
        self._signer = jose.CompactSigner(_without_kid(key))

    def proof(self, *, method: str, url: str, nonce: str | None = None, access_token: str | None = None,
              now: float | None = None, extra: dict[str, Any] | None = None) -> str:
        """A proof for one request (the arguments of :func:`dpop_proof`)."""
        return self._signer.sign(self._header, _proof_claims(method, url, nonce, access_token, now, extra))


def _without_kid(key: Key) -> Key:
    """DPoP proofs identify the key by ``jwk``, not ``kid``."""
    if key.kid is None:
        return key
    from joserfc.jwk import JWKRegistry

    data = dict(key.as_dict(private=True))
    data.pop("kid", None)
    return JWKRegistry.import_key(data)
