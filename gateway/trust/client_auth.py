"""Client authentication at the token endpoint.

``private_key_jwt`` (RFC 7523): the assertion is a JWT with ``typ`` ``JWT`` or
``client-authentication+jwt``; ``iss`` = ``sub`` = the client id; ``aud`` = the gateway's issuer
identifier as a single string (no endpoint URL, no array); ``exp``, ``iat`` and ``jti``
required; lifetime ``exp - iat`` at most the cap; the ``jti`` is remembered until ``exp``.
The key is the registry's, from the directory (``jwks``, or ``jwks_uri`` fetched and cached).

``tls_client_auth`` (RFC 8705): the client certificate, verified by TLS at the gateway or
passed by a configured trusted proxy, must match the thumbprint the directory lists.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import httpx
import orjson
from joserfc.jwk import Key

from gateway.digests import sha256_b64
from gateway.trust import jose
from gateway.trust.directory import DirectoryStore, Participant
from gateway.trust.errors import ConfigurationError, InvalidClient, InvalidRequest, ParticipantUnknown
from gateway.trust.keys import public_key_set
from gateway.trust.replay import ReplayStore

log = logging.getLogger("carbonlink.trust")
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_TYP = ("JWT", "client-authentication+jwt")
MAX_JWKS_BYTES = 64 * 1024


def cert_thumbprint(der: bytes) -> str:
    """RFC 8705 ``x5t#S256``: base64url SHA-256 of the DER certificate, no padding."""
    return sha256_b64(der)


@dataclass(frozen=True, slots=True)
class AuthenticatedClient:
    participant: Participant
    method: Literal["private_key_jwt", "tls_client_auth"]
    cert_thumbprint: str | None


class JwksCache:
    """Public keys of participants that publish a ``jwks_uri`` (fetched, size-capped, cached). When a fetch
    fails, the last good keys of that URI serve for up to ``max_stale`` seconds after they expired."""

    def __init__(self, *, ttl: float = 300, timeout: float = 5, min_refetch: float = 30,
                 max_stale: float = 86400) -> None:
        self._ttl = ttl
        self._min_refetch = min_refetch
        self._max_stale = max_stale
        self._timeout = timeout
        self._cache: dict[str, tuple[float, dict[str, Key]]] = {}
        self._lock = threading.Lock()

    def keys(self, uri: str, *, refresh: bool = False) -> dict[str, Key]:
        now = time.time()
        with self._lock:
            cached = self._cache.get(uri)
        if cached is not None and not refresh and cached[0] > now:
            return cached[1]
        if cached is not None and refresh and cached[0] - self._ttl + self._min_refetch > now:
            return cached[1]  # re-fetch on an unknown kid at most every min_refetch seconds
        try:
            resp = httpx.get(uri, timeout=self._timeout)
            if resp.status_code != 200 or len(resp.content) > MAX_JWKS_BYTES:
                raise InvalidClient(
                    f"the registry's jwks_uri answered HTTP {resp.status_code} ({len(resp.content)} bytes)",
                    code="CLIENT.JWKS_UNAVAILABLE",
                )
            keys = public_key_set(orjson.loads(resp.content), what=uri)
        except (httpx.HTTPError, orjson.JSONDecodeError, ConfigurationError, InvalidClient) as exc:
            if cached is not None and cached[0] + self._max_stale > now:
                log.warning("keys at %s unusable (%s): the last good keys serve", uri, exc)
                return cached[1]
            if isinstance(exc, InvalidClient):
                raise
            raise InvalidClient(
                f"the registry's keys at {uri} are unusable: {exc}", code="CLIENT.JWKS_UNAVAILABLE"
            ) from exc
        with self._lock:
            self._cache[uri] = (now + self._ttl, keys)
        return keys


@lru_cache(maxsize=1024)
def _inline_keys(participant_id: str, canonical_jwks: bytes) -> dict[str, Key]:
    return public_key_set(orjson.loads(canonical_jwks), what=f"participant {participant_id}")


def participant_keys(
    participant: Participant, jwks_cache: JwksCache, *, refresh: bool = False
) -> dict[str, Key]:
    """The signing keys the directory names for ``participant``."""
    if participant.jwks is not None:
        return _inline_keys(participant.id, orjson.dumps(participant.jwks, option=orjson.OPT_SORT_KEYS))
    if participant.jwks_uri is not None:
        return jwks_cache.keys(participant.jwks_uri, refresh=refresh)
    return {}


@dataclass(frozen=True, slots=True)
class ClientAuthPolicy:
    issuer: str
    max_lifetime: int = 300
    skew: int = 30


class ClientAuthenticator:
    """Authenticates token-endpoint callers against the directory."""

    def __init__(
        self,
        directory: DirectoryStore,
        replay: ReplayStore,
        policy: ClientAuthPolicy,
        jwks_cache: JwksCache | None = None,
    ) -> None:
        self.directory = directory
        self.replay = replay
        self.policy = policy
        self.jwks_cache = jwks_cache or JwksCache()

    def authenticate(self, form: Mapping[str, str], client_cert_der: bytes | None) -> AuthenticatedClient:
        thumbprint = cert_thumbprint(client_cert_der) if client_cert_der else None
        if "client_assertion" in form or "client_assertion_type" in form:
            client = self._private_key_jwt(form)
            return AuthenticatedClient(client, "private_key_jwt", thumbprint)
        if "client_secret" in form:
            raise InvalidClient(
                "client secrets are not accepted; use private_key_jwt or tls_client_auth",
                code="CLIENT.METHOD",
            )
        client_id = form.get("client_id")
        if not client_id:
            raise InvalidClient(
                "no client authentication: send a client_assertion (private_key_jwt) or "
                "client_id with a TLS client certificate",
                code="CLIENT.MISSING",
            )
        return AuthenticatedClient(self._tls_client(client_id, thumbprint), "tls_client_auth", thumbprint)

    def _participant(self, client_id: str) -> Participant:
        try:
            return self.directory.participant(client_id)
        except ParticipantUnknown as exc:
            raise InvalidClient(exc.message, code=exc.code) from exc

    def _tls_client(self, client_id: str, thumbprint: str | None) -> Participant:
        participant = self._participant(client_id)
        if thumbprint is None:
            raise InvalidClient(
                "tls_client_auth needs a TLS client certificate verified by the gateway or its trusted proxy",
                code="CLIENT.CERTIFICATE_MISSING",
            )
        expected = participant.tls_client_certificate_thumbprint
        if expected is None or expected != thumbprint:
            raise InvalidClient(
                f"the client certificate is not the one the directory lists for {client_id!r}",
                code="CLIENT.CERTIFICATE_MISMATCH",
            )
        return participant

    def _private_key_jwt(self, form: Mapping[str, str]) -> Participant:
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise InvalidClient(
                f"client_assertion_type must be {ASSERTION_TYPE}", code="CLIENT.ASSERTION_TYPE"
            )
        assertion = form.get("client_assertion", "")
        try:
            header = jose.peek_header(assertion)
            jose.check_header(header, typ=ASSERTION_TYP)
            unverified = _unverified_claims(assertion)
        except jose.JwsRejected as exc:
            raise InvalidClient(
                f"client assertion refused: {exc.message}", code=f"CLIENT.ASSERTION_{exc.reason}"
            ) from exc
        client_id = unverified.get("iss")
        if not isinstance(client_id, str) or not client_id:
            raise InvalidClient("the client assertion has no iss", code="CLIENT.ASSERTION_CLAIMS")
        if form.get("client_id") not in (None, client_id):
            raise InvalidClient(
                "client_id does not match the assertion's iss", code="CLIENT.ASSERTION_CLAIMS"
            )
        participant = self._participant(client_id)

        def key_for(hdr: dict[str, Any]) -> Key:
            kid = hdr.get("kid")
            if not isinstance(kid, str):
                raise jose.JwsRejected("KID", "the client assertion has no kid")
            keys = participant_keys(participant, self.jwks_cache)
            if kid not in keys and participant.jwks_uri is not None:
                keys = participant_keys(participant, self.jwks_cache, refresh=True)
            if kid not in keys:
                raise jose.JwsRejected(
                    "KID", f"kid {kid!r} is not a key the directory lists for {client_id!r}"
                )
            return keys[kid]

        try:
            claims = jose.verify(assertion, typ=ASSERTION_TYP, key_for=key_for).claims
        except jose.JwsRejected as exc:
            raise InvalidClient(
                f"client assertion refused: {exc.message}", code=f"CLIENT.ASSERTION_{exc.reason}"
            ) from exc
        exp = self._check_claims(claims, client_id)
        if not self.replay.first_use("assertion", f"{client_id}:{claims['jti']}", exp + self.policy.skew):
            raise InvalidClient(
                "this client assertion was already used (jti replay)", code="CLIENT.ASSERTION_REPLAY"
            )
        return participant

    def _check_claims(self, claims: dict[str, Any], client_id: str) -> float:
        p = self.policy
        now = time.time()
        if claims.get("sub") != client_id:
            raise InvalidClient(
                "the assertion's sub must equal its iss (the client id)", code="CLIENT.ASSERTION_CLAIMS"
            )
        if claims.get("aud") != p.issuer:
            raise InvalidClient(
                f"the assertion's aud must be exactly the issuer identifier {p.issuer!r} (a single string)",
                code="CLIENT.ASSERTION_AUDIENCE",
            )
        jti = claims.get("jti")
        if not isinstance(jti, str) or not 8 <= len(jti) <= 256:
            raise InvalidClient(
                "the assertion needs a jti of 8 to 256 characters", code="CLIENT.ASSERTION_CLAIMS"
            )
        exp, iat = claims.get("exp"), claims.get("iat")
        if not _is_time(exp) or not _is_time(iat):
            raise InvalidClient("the assertion needs numeric exp and iat", code="CLIENT.ASSERTION_CLAIMS")
        assert isinstance(exp, int | float) and isinstance(iat, int | float)
        if exp <= now - p.skew:
            raise InvalidClient("the client assertion has expired", code="CLIENT.ASSERTION_EXPIRED")
        if iat > now + p.skew:
            raise InvalidClient(
                "the client assertion is issued in the future", code="CLIENT.ASSERTION_NOT_YET_VALID"
            )
        nbf = claims.get("nbf")
        if nbf is not None and (not _is_time(nbf) or nbf > now + p.skew):
            raise InvalidClient(
                "the client assertion is not valid yet (nbf)", code="CLIENT.ASSERTION_NOT_YET_VALID"
            )
        if exp - iat > p.max_lifetime or exp > now + p.max_lifetime + p.skew:
            raise InvalidClient(
                f"the client assertion lives longer than {p.max_lifetime} s", code="CLIENT.ASSERTION_LIFETIME"
            )
        return float(exp)


def _is_time(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 1e11


def _unverified_claims(token: str) -> dict[str, Any]:
    """Read the payload to find the client id (the signature is verified right after)."""
    try:
        segment = token.split(".")[1]
        claims = orjson.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (IndexError, ValueError, orjson.JSONDecodeError) as exc:
        raise jose.JwsRejected("MALFORMED", "the assertion payload is not base64url JSON") from exc
    if not isinstance(claims, dict):
        raise jose.JwsRejected("MALFORMED", "the assertion payload is not a JSON object")
    return claims


def form_scope(form: Mapping[str, str], participant: Participant) -> list[str]:
    """The scopes granted: those requested (all registered ones if none), each registered."""
    requested = form.get("scope")
    if requested is None:
        return list(participant.scopes)
    scopes = [s for s in requested.split(" ") if s]
    if not scopes:
        raise InvalidRequest("scope is empty")
    unknown = [s for s in scopes if s not in participant.scopes]
    if unknown:
        from gateway.trust.errors import InvalidScope

        raise InvalidScope(f"scope {' '.join(unknown)!r} is not registered for {participant.id!r}")
    return scopes
