"""RFC 9449 DPoP proof verification.

Checks, in order: exactly one ``DPoP`` header; ``typ`` ``dpop+jwt``; an allowed asymmetric
``alg``; a *public* ``jwk`` in the header (private members refused) that fits the alg; the
signature; ``htm`` and ``htu`` (compared without query or fragment, against the gateway's
public URL, never the request's Host header); ``iat`` inside a narrow window; the current
server ``nonce`` (derived from a secret and the clock, :mod:`gateway.trust.nonces`); ``ath``
(hash of the access token) at protected endpoints; and finally the ``jti`` replay cache, shared
across processes when Redis is configured.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry, Key

from gateway.digests import sha256_b64
from gateway.trust import jose
from gateway.trust.errors import InvalidDPoPProof, UseDPoPNonce
from gateway.trust.nonces import DerivedNonces
from gateway.trust.replay import ReplayStore

DPOP_TYP = ("dpop+jwt",)
MAX_PROOF_BYTES = 8 * 1024


@lru_cache(maxsize=512)
def access_token_hash(token: str) -> str:
    """``ath``: base64url SHA-256 of the ASCII access token (remembered for the last tokens: a client sends its
    token with many proofs)."""
    return sha256_b64(token.encode("ascii"))


@lru_cache(maxsize=1024)
def normalize_htu(url: str) -> str:
    """Scheme and host lower-cased, default port dropped, no query or fragment."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port
    scheme = parts.scheme.lower()
    if port is not None and not ((scheme == "https" and port == 443) or (scheme == "http" and port == 80)):
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, parts.path or "/", "", ""))


def _normalized_or_none(url: str) -> str | None:
    """:func:`normalize_htu` of a URL a client sent, or None when it is no URL (a port that is not a number,
    a broken IPv6 host): such an ``htu`` is refused as any other wrong one."""
    try:
        return normalize_htu(url)
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def _import_public(sorted_jwk: bytes) -> tuple[Key, str]:
    """Import a proof's public JWK (as sorted-key JSON bytes) once per distinct key (clients reuse
    their DPoP key)."""
    try:
        imported = JWKRegistry.import_key(orjson.loads(sorted_jwk))
    except (JoseError, ValueError, TypeError) as exc:
        raise jose.JwsRejected("JWK", "the proof header's jwk is not a usable public key") from exc
    return imported, imported.thumbprint()


class DPoPVerifier:
    def __init__(
        self, replay: ReplayStore, *, iat_window: int = 60, skew: int = 10, require_nonce: bool = True,
        nonces: DerivedNonces | None = None,
    ) -> None:
        self.replay = replay
        #: The server nonces (default: a secret of this verifier alone, for one process).
        self.nonces = nonces or DerivedNonces()
        self.iat_window = iat_window
        self.skew = skew
        self.require_nonce = require_nonce

    def verify(
        self, headers: Sequence[str], *, method: str, url: str, access_token: str | None = None
    ) -> str:
        """Verify the request's DPoP proof; return the RFC 7638 thumbprint of its key."""
        if len(headers) != 1:
            raise InvalidDPoPProof(
                f"exactly one DPoP header is required (got {len(headers)})", code="DPOP.HEADER"
            )
        proof = headers[0]
        key: dict[str, Any] = {}

        def key_for(header: dict[str, Any]) -> Key:
            jwk = header.get("jwk")
            if not isinstance(jwk, dict):
                raise jose.JwsRejected("JWK", "the proof header carries no jwk")
            if jose.has_private_members(jwk):
                raise jose.JwsRejected("PRIVATE_KEY", "the proof header carries a private key")
            imported, thumbprint = _import_public(orjson.dumps(jwk, option=orjson.OPT_SORT_KEYS))
            key["k"], key["jkt"] = imported, thumbprint
            return imported

        try:
            claims = jose.verify(proof, typ=DPOP_TYP, key_for=key_for, max_bytes=MAX_PROOF_BYTES).claims
        except jose.JwsRejected as exc:
            raise InvalidDPoPProof(f"DPoP proof refused: {exc.message}", code=f"DPOP.{exc.reason}") from exc
        jkt = str(key["jkt"])
        jti, iat = self._check_claims(claims, method=method, url=url)
        if self.require_nonce:
            self._check_nonce(claims.get("nonce"))
        if access_token is not None and claims.get("ath") != access_token_hash(access_token):
            raise InvalidDPoPProof("the proof's ath does not match the access token", code="DPOP.ATH")
        if not self.replay.first_use("dpop", f"{jkt}:{jti}", iat + self.iat_window + self.skew):
            raise InvalidDPoPProof("this DPoP proof was already used (jti replay)", code="DPOP.REPLAY")
        return jkt

    def _check_claims(self, claims: dict[str, Any], *, method: str, url: str) -> tuple[str, float]:
        """``jti``, ``htm``, ``htu`` and ``iat`` (RFC 9449 §4.3); returns the jti and iat."""
        now = time.time()
        jti = claims.get("jti")
        if not isinstance(jti, str) or not 8 <= len(jti) <= 256:
            raise InvalidDPoPProof("the proof needs a jti of 8 to 256 characters", code="DPOP.CLAIMS")
        if claims.get("htm") != method:
            raise InvalidDPoPProof(f"the proof's htm is not {method}", code="DPOP.HTM")
        htu = claims.get("htu")
        if not isinstance(htu, str) or _normalized_or_none(htu) != normalize_htu(url):
            raise InvalidDPoPProof(f"the proof's htu is not {normalize_htu(url)}", code="DPOP.HTU")
        iat = claims.get("iat")
        if not isinstance(iat, int | float) or isinstance(iat, bool):
            raise InvalidDPoPProof("the proof needs a numeric iat", code="DPOP.CLAIMS")
        if iat < now - self.iat_window or iat > now + self.skew:
            raise InvalidDPoPProof(
                f"the proof's iat is outside the {self.iat_window} s window", code="DPOP.IAT"
            )
        return jti, float(iat)

    def _check_nonce(self, nonce: object) -> None:
        """The proof carries a current server nonce (RFC 9449 §8); else a fresh one to use."""
        if nonce is None:
            raise UseDPoPNonce("this gateway requires a DPoP nonce", nonce=self.nonces.issue())
        if not isinstance(nonce, str) or not self.nonces.valid(nonce):
            raise UseDPoPNonce(
                "the DPoP nonce is stale or unknown",
                nonce=self.nonces.issue(),
                code="DPOP.NONCE_STALE",
            )
