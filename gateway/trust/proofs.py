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
    public = dict(key.as_dict(private=False))
    public.pop("kid", None)
    claims: dict[str, Any] = {
        "jti": secrets.token_urlsafe(16),
        "htm": method,
        "htu": url,
        "iat": int(time.time() if now is None else now),
    }
    if nonce is not None:
        claims["nonce"] = nonce
    if access_token is not None:
        claims["ath"] = access_token_hash(access_token)
    claims.update(extra or {})
    hdr = {"typ": "dpop+jwt", "jwk": public, **(header or {})}
    return jose.sign(hdr, claims, _without_kid(key))


def _without_kid(key: Key) -> Key:
    """DPoP proofs identify the key by ``jwk``, not ``kid``."""
    if key.kid is None:
        return key
    from joserfc.jwk import JWKRegistry

    data = dict(key.as_dict(private=True))
    data.pop("kid", None)
    return JWKRegistry.import_key(data)
