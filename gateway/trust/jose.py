"""Strict JWS handling on top of joserfc.

joserfc's defaults are tightened here once, for every kind of JWT the gateway reads: an explicit
algorithm allow-list (PS256, ES256, Ed25519: never ``none``, never a MAC), a mandatory ``typ``
per JWT kind, a header inspected *before* any key is chosen (so ``alg``/``kid`` games fail
early with a coded reason), key-strength checks and a size cap.
"""

from __future__ import annotations

import base64
import binascii
import copy
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, OKPKey, RSAKey
from joserfc.jws import JWSRegistry
from joserfc.registry import HeaderParameter

from gateway.trust import jose_fast
from gateway.trust.errors import ClaimsUnwritable
from gateway.trust.errors import JwsRejected as JwsRejected  # raised by every check here
from gateway.trust.jose_fast import Head, key_check, verify_fast

#: The only signature algorithms the gateway accepts or produces (FAPI 2.0).
ALLOWED_ALGORITHMS: tuple[str, ...] = ("PS256", "ES256", "Ed25519")
#: Largest compact JWS (tokens, assertions, proofs) the gateway will look at.
MAX_COMPACT_BYTES = 16 * 1024
MIN_RSA_BITS = 2048

_PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


@dataclass(frozen=True, slots=True)
class VerifiedJws:
    header: dict[str, Any]
    claims: dict[str, Any]


#: Protected header parameters of signed responses (see gateway/trust/outbound.py).
RESPONSE_HEADERS = {
    "iss": HeaderParameter("Signer (participant id)", "str"),
    "iat": HeaderParameter("Signing time", "int"),
    "req": HeaderParameter("SHA-256 of the request body", "str"),
}


def make_registry(max_payload: int = 64 * 1024) -> JWSRegistry:
    """A joserfc registry limited to :data:`ALLOWED_ALGORITHMS`."""
    registry = JWSRegistry(header_registry=RESPONSE_HEADERS, algorithms=list(ALLOWED_ALGORITHMS))
    registry.max_payload_length = max_payload
    registry.max_header_length = 4096
    return registry


_DEFAULT_REGISTRY = make_registry()


def _b64decode(segment: str) -> bytes:
    padded = segment + "=" * (-len(segment) % 4)
    try:
        return base64.urlsafe_b64decode(padded.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise JwsRejected("MALFORMED", "the JWS is not valid base64url") from exc


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def peek_header(token: str, *, max_bytes: int = MAX_COMPACT_BYTES) -> dict[str, Any]:
    """Decode the protected header of a compact JWS without trusting it."""
    return dict(_peek(token, max_bytes).peeked)


def _peek(token: str, max_bytes: int) -> Head:
    """:func:`peek_header`, with the header as joserfc will read it; a header segment seen before is not
    decoded again (:func:`jose_fast.remember_head`)."""
    if not isinstance(token, str) or not token:
        raise JwsRejected("MALFORMED", "no JWS given")
    if len(token) > max_bytes:
        raise JwsRejected("TOO_LARGE", f"the JWS is larger than {max_bytes} bytes")
    parts = token.split(".")
    if len(parts) != 3:
        raise JwsRejected("MALFORMED", "a compact JWS has exactly three dot-separated parts")
    known = jose_fast.remembered_head(parts[0])
    if known is not None:
        return known
    try:
        header = orjson.loads(_b64decode(parts[0]))
    except orjson.JSONDecodeError as exc:
        raise JwsRejected("MALFORMED", "the JWS header is not JSON") from exc
    if not isinstance(header, dict):
        raise JwsRejected("MALFORMED", "the JWS header is not a JSON object")
    return jose_fast.remember_head(parts[0], header)


def check_header(
    header: Mapping[str, Any], *, typ: Collection[str], algorithms: Collection[str] = ALLOWED_ALGORITHMS
) -> str:
    """Check ``alg`` against the allow-list and ``typ`` against the expected kinds; return alg."""
    alg = header.get("alg")
    if alg == "none" or not isinstance(alg, str):
        raise JwsRejected("ALG", "unsigned JWS (alg none or missing) is refused")
    if alg not in algorithms:
        raise JwsRejected("ALG", f"algorithm {alg!r} is not allowed (allowed: {', '.join(algorithms)})")
    got = header.get("typ")
    if not isinstance(got, str) or got.lower() not in {t.lower() for t in typ}:
        raise JwsRejected("TYP", f"typ {got!r} is wrong here (expected {' or '.join(sorted(typ))})")
    crit = header.get("crit")
    if crit is not None and crit != ["b64"]:
        raise JwsRejected("CRIT", f"unsupported critical header parameters {crit!r}")
    return alg


def key_fits(key: Key, alg: str) -> bool:
    """True when ``key`` is of the right type and strength for ``alg``."""
    if alg == "PS256":
        return isinstance(key, RSAKey) and _rsa_bits(key) >= MIN_RSA_BITS
    if alg == "ES256":
        return isinstance(key, ECKey) and key.dict_value.get("crv") == "P-256"
    if alg == "Ed25519":
        return isinstance(key, OKPKey) and key.dict_value.get("crv") == "Ed25519"
    return False


def _rsa_bits(key: RSAKey) -> int:
    n = str(key.dict_value.get("n", ""))
    try:
        return len(_b64decode(n)) * 8
    except JwsRejected:
        return 0


def algorithm_for(key: Key) -> str:
    """The one allowed algorithm a key signs with (RSA → PS256, P-256 → ES256, Ed25519)."""
    for alg in ALLOWED_ALGORITHMS:
        if key_fits(key, alg):
            return alg
    raise JwsRejected("KEY", f"key {key.kid!r} fits none of {', '.join(ALLOWED_ALGORITHMS)}")


def has_private_members(jwk: Mapping[str, Any]) -> bool:
    return bool(_PRIVATE_JWK_MEMBERS.intersection(jwk))


def verify(
    token: str,
    *,
    typ: Collection[str],
    key_for: Callable[[dict[str, Any]], Key],
    payload: bytes | None = None,
    registry: JWSRegistry | None = None,
    max_bytes: int = MAX_COMPACT_BYTES,
    max_payload: int | None = None,
) -> VerifiedJws:
    """Verify a compact JWS strictly and decode its JSON object payload.

    ``key_for(header)`` chooses the verification key (it raises :class:`JwsRejected` for an
    unknown ``kid``); the key must fit the header's algorithm. ``payload`` is the detached
    content for RFC 7797 signatures. ``registry`` sets the header parameters and the size limits
    (default: :func:`make_registry`'s); ``max_payload`` replaces its payload limit.

    ES256 and Ed25519 signatures are checked by :mod:`gateway.trust.jose_fast` (joserfc's checks, in
    joserfc's order, without its per-call overhead); PS256 by joserfc.
    """
    return _verify(token, typ=typ, key_for=key_for, payload=payload, registry=registry, max_bytes=max_bytes,
                   max_payload=max_payload, fast=True)


def _verify_joserfc(token: str, **options: Any) -> VerifiedJws:
    """:func:`verify` (same keyword arguments) with joserfc's ``deserialize_compact`` for every algorithm: the
    reference the fast path is tested against."""
    return _verify(token, **{"payload": None, "registry": None, "max_bytes": MAX_COMPACT_BYTES, "max_payload": None,
                             **options, "fast": False})


def _verify(
    token: str,
    *,
    typ: Collection[str],
    key_for: Callable[[dict[str, Any]], Key],
    payload: bytes | None,
    registry: JWSRegistry | None,
    max_bytes: int,
    max_payload: int | None,
    fast: bool,
) -> VerifiedJws:
    head = _peek(token, max_bytes)
    header = dict(head.peeked)
    alg = check_header(header, typ=typ)
    key = key_for(header)
    if not key_fits(key, alg):
        raise JwsRejected("KEY", f"the key {key.kid!r} cannot verify {alg} signatures")
    registry = registry or _DEFAULT_REGISTRY
    checked = key_check(key, alg) if fast else None
    if checked is not None:
        limit = registry.max_payload_length if max_payload is None else max_payload
        protected, content = verify_fast(token, head.strict, checked, payload, registry, limit)
        return VerifiedJws(header=dict(protected), claims={} if payload is not None else json_object(content))
    if max_payload is not None and max_payload != registry.max_payload_length:
        registry = copy.copy(registry)  # shallow: only the size limit changes
        registry.max_payload_length = max_payload
    try:
        obj = jws.deserialize_compact(
            token,
            key,
            algorithms=list(ALLOWED_ALGORITHMS),
            registry=registry,
            payload=payload,
        )
    except JoseError as exc:
        if exc.error == "bad_signature":
            raise JwsRejected("SIGNATURE", "the signature does not verify") from exc
        raise JwsRejected("MALFORMED", f"the JWS is not acceptable: {exc.error}") from exc
    if payload is not None:
        return VerifiedJws(header=dict(obj.headers()), claims={})
    return VerifiedJws(header=dict(obj.headers()), claims=json_object(obj.payload))


def json_object(payload: bytes) -> dict[str, Any]:
    """A JWS payload that must be a JSON object."""
    try:
        claims = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise JwsRejected("MALFORMED", "the JWS payload is not JSON") from exc
    if not isinstance(claims, dict):
        raise JwsRejected("MALFORMED", "the JWS payload is not a JSON object")
    return claims


def sign_detached(header: Mapping[str, Any], body: bytes, key: Key) -> str:
    """A detached JWS over ``body`` with an unencoded payload (RFC 7797: ``b64`` false, ``crit`` b64):
    ``<header>..<signature>``. ``header`` names ``typ`` and whatever else the signature binds."""
    alg = algorithm_for(key)
    protected = {**header, "b64": False, "crit": ["b64"], "alg": alg}
    if key.kid and "kid" not in protected:
        protected["kid"] = key.kid
    head = _b64encode(orjson.dumps(protected))
    # signed here, not by joserfc, whose RFC 7797 serializer decodes the payload as UTF-8 (binary bodies such
    # as XLSX fail there); the signing input is RFC 7797 §3's ASCII(BASE64URL(header)) || '.' || payload
    signature = _DEFAULT_REGISTRY.get_alg(alg).sign(head.encode("ascii") + b"." + body, key)
    return f"{head}..{_b64encode(signature)}"


def claims_payload(claims: Mapping[str, Any] | bytes) -> bytes:
    """The JWS payload of ``claims``: raw bytes as they are, a JSON object as its JSON; claims JSON cannot hold
    (an integer beyond 64 bits, a lone surrogate, a non-string key) are refused (:class:`ClaimsUnwritable`)."""
    if isinstance(claims, bytes):
        return claims
    try:
        return orjson.dumps(dict(claims))
    except orjson.JSONEncodeError as exc:
        raise ClaimsUnwritable(f"the claims cannot be written as JSON: {exc}") from exc


def sign(
    header: Mapping[str, Any],
    claims: Mapping[str, Any] | bytes,
    key: Key,
    registry: JWSRegistry | None = None,
) -> str:
    """Sign ``claims`` (a JSON object, or raw bytes) with ``key`` using its allowed algorithm."""
    alg = algorithm_for(key)
    protected = {**header, "alg": alg}
    if key.kid and "kid" not in protected:
        protected["kid"] = key.kid
    payload = claims_payload(claims)
    return jws.serialize_compact(
        protected, payload, key, algorithms=list(ALLOWED_ALGORITHMS), registry=registry or _DEFAULT_REGISTRY
    )


#: ECDSA with SHA-256 (ES256, RFC 7518 §3.4): one immutable parameter object for every signature.
_ES256 = ec.ECDSA(hashes.SHA256())


def signature_maker(key: Key, alg: str) -> Callable[[bytes], bytes]:
    """A function making ``alg`` signatures with ``key`` over a JWS signing input: the bytes joserfc's own
    algorithm makes (ES256: ``r || s``, 32 bytes each, RFC 7518 §3.4; Ed25519: RFC 8037 §3.1), through the
    key's ``cryptography`` object taken once, without joserfc's per-call key look-ups. PS256 signs through
    joserfc (its padding parameters stay joserfc's)."""
    private = getattr(key, "private_key", None)
    if alg == "ES256" and isinstance(private, ec.EllipticCurvePrivateKey):
        es256_key = private

        def es256(signing_input: bytes) -> bytes:
            r, s = decode_dss_signature(es256_key.sign(signing_input, _ES256))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")

        return es256
    if alg == "Ed25519" and isinstance(private, ed25519.Ed25519PrivateKey):
        return private.sign
    algorithm = make_registry().get_alg(alg)
    return lambda signing_input: algorithm.sign(signing_input, key)


class CompactSigner:
    """:func:`sign` with one key, made cheaper for keys that sign many JWTs (the gateway's access tokens).

    The same compact JWS as :func:`sign`: the protected header is ``{**header, "alg", "kid"}`` serialized
    and checked by joserfc (with :data:`_DEFAULT_REGISTRY`), but once per distinct header rather than per
    token; the payload is the claims' JSON, base64url-encoded; the signature is made by
    :func:`signature_maker` (the bytes joserfc's algorithm makes)."""

    #: Distinct headers remembered (callers use a handful of fixed ``typ`` headers).
    MAX_HEADERS = 64

    def __init__(self, key: Key) -> None:
        self.key = key
        self.alg = algorithm_for(key)
        self._make = signature_maker(key, self.alg)
        #: header JSON (as given, in its order) -> its protected header's base64url text; replaced whole
        self._heads: dict[bytes, str] = {}
        self._lock = threading.Lock()

    def _head(self, header: Mapping[str, Any]) -> str:
        which = orjson.dumps(dict(header))
        head = self._heads.get(which)
        if head is None:
            protected = {**header, "alg": self.alg}
            if self.key.kid and "kid" not in protected:
                protected["kid"] = self.key.kid
            # joserfc serializes and checks the header once; its signature over an empty payload is dropped
            probe = jws.serialize_compact(protected, b"", self.key, algorithms=list(ALLOWED_ALGORITHMS),
                                          registry=_DEFAULT_REGISTRY)
            head = probe.split(".", 1)[0]
            with self._lock:
                heads = self._heads if len(self._heads) < self.MAX_HEADERS else {}
                self._heads = {**heads, which: head}
        return head

    def sign(self, header: Mapping[str, Any], claims: Mapping[str, Any] | bytes) -> str:
        """A compact JWS of ``claims`` (a JSON object, or raw bytes) under ``header`` (RFC 7515 §7.1)."""
        payload = claims_payload(claims)
        signing_input = f"{self._head(header)}.{_b64encode(payload)}"
        return f"{signing_input}.{_b64encode(self._make(signing_input.encode('ascii')))}"
