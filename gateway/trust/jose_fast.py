"""ES256 and Ed25519 compact JWS verification without joserfc's per-call overhead, accepting and refusing
exactly what ``joserfc.jws.deserialize_compact`` (with the caller's registry) accepts and refuses.

:func:`gateway.trust.jose.verify` has already decoded the protected header (orjson, lenient base64url),
checked ``alg``, ``typ`` and ``crit`` and chosen a key that fits the algorithm. :func:`verify_fast` then does
what joserfc does, in joserfc's order, so the first failure is the one joserfc reports (its ``error`` code):

1. sizes: the whole token, then the header, signature and payload segments, against the registry's limits;
2. the header segment strictly base64url-decoded (joserfc's decoder: no padding, no ``+``/``/``, canonical last
   character) and read as JSON - done once per distinct header segment (:func:`remember_head`);
3. RFC 7797: ``b64`` present and not ``true`` needs ``crit`` naming ``b64``; the payload is then the raw segment
   (or the detached content); otherwise the payload segment is strictly base64url-decoded (or the detached
   content is encoded);
4. the registry's own header checks (``crit``, parameter types, no unregistered parameters) and algorithm list;
5. the key's own checks (``use``, key type, ``alg``, curve) - worked out once per key, see :func:`key_check`;
6. the signature strictly base64url-decoded; ES256: exactly 64 bytes ``r || s`` (RFC 7518 §3.4); the key's
   ``key_ops`` must allow ``verify``; the signature over ``ASCII(header segment) || '.' || payload segment``
   (RFC 7797 §3: the raw payload when ``b64`` is false) checked by the key's ``cryptography`` object.

The tests in ``tests/trust/test_jose_fast.py`` compare both paths on valid and hostile tokens.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from joserfc.errors import JoseError
from joserfc.jwk import Key
from joserfc.jws import JWSRegistry
from joserfc.util import urlsafe_b64decode, urlsafe_b64encode

from gateway.trust.errors import JwsRejected

#: ECDSA with SHA-256 (ES256, RFC 7518 §3.4).
_ES256 = ec.ECDSA(hashes.SHA256())
#: Keys whose checks are remembered (directory keys, the gateway's own, clients' DPoP keys); all are forgotten
#: when the table is full.
MAX_KEYS = 4096


@dataclass(frozen=True, slots=True)
class KeyCheck:
    """What joserfc checks of one verification key for one algorithm, and its ``cryptography`` public key."""

    key: Key  #: held, so the ``id`` the check is remembered under stays this key's
    alg: str
    refused: str | None  #: joserfc's error code from the algorithm's ``check_key`` (use, type, alg, curve)
    no_verify: str | None  #: joserfc's error code when the key's ``key_ops`` do not allow ``verify``
    public: ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey


_checks: dict[tuple[int, str], KeyCheck] = {}
_lock = threading.Lock()


def key_check(key: Key, alg: str) -> KeyCheck | None:
    """The checks of ``key`` for ``alg`` (ES256 or Ed25519), worked out once per key object; None for other
    algorithms (and keys without the expected ``cryptography`` object), which joserfc verifies."""
    found = _checks.get((id(key), alg))
    if found is not None and found.key is key:
        return found
    if alg == "ES256":
        wanted: type = ec.EllipticCurvePublicKey
    elif alg == "Ed25519":
        wanted = ed25519.Ed25519PublicKey
    else:
        return None
    public = getattr(key, "public_key", None)
    if not isinstance(public, wanted) or not isinstance(public, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
        return None
    refused = no_verify = None
    try:
        JWSRegistry.algorithms[alg].check_key(key)
    except JoseError as exc:
        refused = exc.error
    try:
        key.check_key_op("verify")
    except JoseError as exc:
        no_verify = exc.error
    check = KeyCheck(key, alg, refused, no_verify, public)
    with _lock:
        if len(_checks) >= MAX_KEYS:
            _checks.clear()
        _checks[(id(key), alg)] = check
    return check


def _refused(error: str) -> JwsRejected:
    """The refusal :func:`gateway.trust.jose.verify` makes of a joserfc error other than a bad signature."""
    return JwsRejected("MALFORMED", f"the JWS is not acceptable: {error}")


def _bad_signature() -> JwsRejected:
    return JwsRejected("SIGNATURE", "the signature does not verify")


def _registry_checks(registry: JWSRegistry, header: dict[str, Any], alg: str) -> None:
    """joserfc's own header checks of ``registry`` (``crit``, parameter types, no unregistered parameter) and its
    algorithm list."""
    try:
        registry.check_header(header)
        registry.get_alg(alg)
    except JoseError as exc:
        raise _refused(exc.error) from exc
    except TypeError as exc:  # "crit": null, which joserfc iterates without a JoseError
        raise _refused("invalid_header_value") from exc


def verify_fast(token: str, protected: dict[str, Any] | None, check: KeyCheck, payload: bytes | None,
                registry: JWSRegistry, max_payload: int) -> tuple[dict[str, Any], bytes]:
    """Verify ``token`` (see the module docstring); its protected header (as joserfc reads it) and payload.

    ``protected`` is the header as joserfc reads it (:func:`strict_header`: None when joserfc cannot decode
    it); ``payload`` the detached content, if any; ``max_payload`` the payload limit (``registry``'s, or the
    caller's instead)."""
    head, segment, signature = _segments(token, registry, max_payload)
    if protected is None:
        raise _refused("decode_error")
    header = protected
    content, signed = _content(header, segment, payload, max_payload)
    _registry_checks(registry, header, check.alg)
    if check.refused is not None:
        raise _refused(check.refused)
    _check_signature(check, signature, head + b"." + signed)
    return header, content


def _segments(token: str, registry: JWSRegistry, max_payload: int) -> tuple[bytes, bytes, bytes]:
    """The three segments of ``token`` within the registry's size limits."""
    try:
        value = token.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate: joserfc fails on it without a JoseError
        raise _refused("decode_error") from exc
    max_header, max_signature = registry.max_header_length, registry.max_signature_length
    if len(value) > max_header + max_payload + max_signature:
        raise _refused("exceeded_size")
    head, segment, signature = value.split(b".")  # peek_header saw three parts
    if len(head) > max_header or len(signature) > max_signature or len(segment) > max_payload:
        raise _refused("exceeded_size")
    return head, segment, signature


@dataclass(frozen=True, slots=True)
class Head:
    """A protected header segment, read once: as :func:`gateway.trust.jose.peek_header` reads it (orjson,
    lenient base64url) and as joserfc reads it (None when joserfc refuses to decode the segment)."""

    peeked: dict[str, Any]
    strict: dict[str, Any] | None


#: Header segments read before (clients repeat theirs: an access token's, a DPoP key's); all are forgotten when
#: the table is full. Only segments of at most MAX_HEAD_CHARS characters are kept.
_heads: dict[str, Head] = {}
MAX_HEADS = 1024
MAX_HEAD_CHARS = 1024


def remembered_head(segment: str) -> Head | None:
    return _heads.get(segment)


def remember_head(segment: str, peeked: dict[str, Any]) -> Head:
    """The :class:`Head` of ``segment`` (whose lenient reading is ``peeked``), kept for the next token."""
    head = Head(peeked, strict_header(segment, peeked))
    if len(segment) <= MAX_HEAD_CHARS:
        with _lock:
            if len(_heads) >= MAX_HEADS:
                _heads.clear()
            _heads[segment] = head
    return head


def strict_header(segment: str, peeked: dict[str, Any]) -> dict[str, Any] | None:
    """The protected header as joserfc reads it, or None where joserfc refuses it: the strict base64url decoding
    must succeed (it then yields the bytes the lenient one read), and values orjson reads otherwise than the
    standard library are read again by the latter."""
    try:
        decoded = urlsafe_b64decode(segment.encode("ascii"))
    except (TypeError, ValueError):
        return None
    if any(type(v) is float for v in peeked.values()):
        # orjson reads an integer beyond 64 bits as a float, the standard library (joserfc) as an int
        try:
            standard: dict[str, Any] = json.loads(decoded)
        except (TypeError, ValueError, RecursionError):
            return None
        return standard
    return peeked


def _content(header: dict[str, Any], segment: bytes, payload: bytes | None, max_payload: int
             ) -> tuple[bytes, bytes]:
    """The payload and what the signature covers after the header segment and '.' (RFC 7797 when ``b64`` is
    false: the payload itself; else its base64url segment); ``payload`` is the detached content, if any."""
    if "b64" in header and header["b64"] is not True:  # RFC 7797 §6: b64 must be critical
        crit = header.get("crit")
        if not (isinstance(crit, list) and "b64" in crit):
            raise _refused("missing_crit_header")
        if not segment and payload:
            if len(payload) > max_payload:
                raise _refused("exceeded_size")
            return payload, payload
        return segment, segment
    if not segment and payload:
        return payload, urlsafe_b64encode(payload)
    try:
        return urlsafe_b64decode(segment), segment
    except (TypeError, ValueError) as exc:
        raise _refused("decode_error") from exc


def _check_signature(check: KeyCheck, segment: bytes, signing_input: bytes) -> None:
    """The signature segment decodes and verifies over ``signing_input`` with the key (joserfc's order: a
    signature of the wrong length before the key's ``key_ops``)."""
    try:
        signature = urlsafe_b64decode(segment)
    except (TypeError, ValueError) as exc:
        raise _bad_signature() from exc
    public = check.public
    try:
        if isinstance(public, ec.EllipticCurvePublicKey):
            if len(signature) != 64:
                raise _bad_signature()
            if check.no_verify is not None:
                raise _refused(check.no_verify)
            r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            public.verify(encode_dss_signature(r, s), signing_input, _ES256)
        else:
            if check.no_verify is not None:
                raise _refused(check.no_verify)
            public.verify(signature, signing_input)
    except InvalidSignature as exc:
        raise _bad_signature() from exc
