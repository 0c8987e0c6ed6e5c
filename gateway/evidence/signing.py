"""Signatures over evidence: the :class:`Signer` protocol the log needs, a JWK-backed signer,
and :class:`KeySetVerifier`, which checks signatures against a public JWKS with joserfc.

The evidence log depends only on this protocol: the gateway hands it any object with a ``kid``,
a ``public_jwk()`` and ``sign(payload) -> compact JWS``. Keys are imported and checked the way the
trust layer imports every key (:func:`gateway.trust.keys.import_jwk`, one allow-list of algorithms).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import orjson
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, OKPKey

from gateway.evidence.errors import EvidenceConfigError, EvidenceError
from gateway.trust import jose
from gateway.trust.errors import ConfigurationError
from gateway.trust.jose import signature_maker as signature_maker  # the evidence path's own name for it
from gateway.trust.keys import import_jwk
from standards.safeio import load_json, read_bytes

#: Media type in the ``typ`` header of every evidence signature.
EVIDENCE_JWS_TYPE = "evidence+jws"
#: Algorithms accepted for evidence signatures (the gateway's own allow-list).
EVIDENCE_ALGORITHMS = ("ES256", "Ed25519", "PS256")
MAX_SIGNATURE_CHARS = 4096


@runtime_checkable
class Signer(Protocol):
    """Signs evidence. ``sign`` returns a compact JWS whose payload is exactly ``payload``."""

    @property
    def kid(self) -> str: ...

    def public_jwk(self) -> dict[str, Any]: ...

    def sign(self, payload: bytes) -> str: ...


def _algorithm(key: Key) -> str:
    """The one algorithm ``key`` signs with (the gateway's allow-list, :func:`jose.algorithm_for`)."""
    try:
        return jose.algorithm_for(key)
    except jose.JwsRejected as exc:
        raise EvidenceConfigError(f"key {key.kid!r} is not a P-256, Ed25519 or RSA >= 2048 signing key") from exc


def _b64(segment: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        return b""


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _import(jwk: Any, *, private: bool, what: str) -> Key:
    """One JWK, imported and checked as the trust layer imports keys (:func:`import_jwk`)."""
    try:
        return import_jwk(jwk, private=private, what=what)
    except ConfigurationError as exc:
        raise EvidenceConfigError(exc.message) from exc


class JwkSigner:
    """A :class:`Signer` holding one private JWK (ES256, Ed25519 or PS256)."""

    def __init__(self, key: Key) -> None:
        if not key.kid:
            raise EvidenceConfigError("the evidence signing key needs a kid")
        self._key = key
        self._alg = _algorithm(key)
        self._header = {"alg": self._alg, "kid": str(key.kid), "typ": EVIDENCE_JWS_TYPE}
        # the header is the same for every signature: joserfc serializes (and checks) it once, here
        probe = jws.serialize_compact(self._header, b"", key, algorithms=[self._alg])
        self._head = probe.split(".", 1)[0]
        self._make = signature_maker(key, self._alg)

    @property
    def kid(self) -> str:
        return str(self._key.kid)

    def public_jwk(self) -> dict[str, Any]:
        out = dict(self._key.as_dict(private=False))
        out.update(use="sig", alg=self._alg)
        return out

    def sign(self, payload: bytes) -> str:
        """A compact JWS over ``payload`` (RFC 7515 §7.1), with the header serialized at construction."""
        signing_input = f"{self._head}.{_b64encode(payload)}"
        return f"{signing_input}.{_b64encode(self._make(signing_input.encode('ascii')))}"

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any], *, what: str = "signing key") -> JwkSigner:
        return cls(_import(jwk, private=True, what=what))

    @classmethod
    def generate(cls, alg: str = "Ed25519", *, kid: str = "evidence-1") -> JwkSigner:
        """A fresh key (tests, benchmarks, development)."""
        params: Any = {"kid": kid, "use": "sig", "alg": alg}
        if alg == "ES256":
            return cls(ECKey.generate_key("P-256", parameters=params))
        if alg == "Ed25519":
            return cls(OKPKey.generate_key("Ed25519", parameters=params))
        raise EvidenceConfigError(f"cannot generate a {alg!r} evidence key (ES256 or Ed25519)")

    @classmethod
    def from_keyring_file(cls, path: Path) -> JwkSigner:
        """The current key of a gateway keyring file (``{"current": kid, "keys": [JWK...]}``)."""
        doc = load_json(read_bytes(path, limit=1024 * 1024), what=str(path))
        return cls.from_keyring(doc, what=str(path))

    @classmethod
    def from_keyring(cls, doc: Any, *, what: str = "keyring") -> JwkSigner:
        if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list) or not doc["keys"]:
            raise EvidenceConfigError(f"{what}: a keyring is an object with a non-empty 'keys' list")
        current = doc.get("current") or (doc["keys"][0] or {}).get("kid")
        for jwk in doc["keys"]:
            if isinstance(jwk, Mapping) and jwk.get("kid") == current:
                return cls.from_jwk(jwk, what=what)
        raise EvidenceConfigError(f"{what}: the current key {current!r} is not in the keyring")


class SignatureProblem(EvidenceError):
    """A signature check failed; ``rule`` (also its ``code``) is the evidence rule id it maps to."""

    code = "EVIDENCE.SIGNATURE_INVALID"

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message, code=rule)
        self.rule = rule


class KeySetVerifier:
    """Verifies evidence signatures against a public JWKS (``{"keys": [...]}``)."""

    def __init__(self, keys: Mapping[str, Key]) -> None:
        self._keys = dict(keys)

    @classmethod
    def from_jwks(cls, doc: Any, *, what: str = "JWKS") -> KeySetVerifier:
        if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list) or not doc["keys"]:
            raise EvidenceConfigError(f"{what}: a JWKS is an object with a non-empty 'keys' list")
        keys: dict[str, Key] = {}
        for raw in doc["keys"]:
            key = _import(raw, private=False, what=what)
            if str(key.kid) in keys:
                raise EvidenceConfigError(f"{what}: duplicate kid {key.kid!r}")
            keys[str(key.kid)] = key
        return cls(keys)

    @classmethod
    def from_file(cls, path: Path) -> KeySetVerifier:
        return cls.from_jwks(load_json(read_bytes(path, limit=1024 * 1024), what=str(path)), what=str(path))

    @property
    def kids(self) -> list[str]:
        return list(self._keys)

    def jwks(self) -> dict[str, Any]:
        out = []
        for key in self._keys.values():
            jwk = dict(key.as_dict(private=False))
            jwk.update(use="sig", alg=_algorithm(key))
            out.append(jwk)
        return {"keys": out}

    def verify(self, token: object, payload: bytes) -> str:
        """Check that ``token`` is a valid evidence JWS over exactly ``payload``; return its kid.

        Raises :class:`SignatureProblem` with rule ``EVIDENCE.SIGNATURE_INVALID``,
        ``EVIDENCE.KEY_UNKNOWN`` or ``EVIDENCE.SIGNATURE_MISMATCH``.
        """
        if not isinstance(token, str) or not token or len(token) > MAX_SIGNATURE_CHARS:
            raise SignatureProblem("EVIDENCE.SIGNATURE_INVALID", "the signature is missing or oversized")
        parts = token.split(".")
        if len(parts) != 3:
            raise SignatureProblem("EVIDENCE.SIGNATURE_INVALID", "the signature is not a compact JWS")
        try:
            header = orjson.loads(_b64(parts[0]) or b"null")
        except orjson.JSONDecodeError:
            header = None
        if not isinstance(header, dict):
            raise SignatureProblem("EVIDENCE.SIGNATURE_INVALID", "the signature header is not a JSON object")
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in EVIDENCE_ALGORITHMS or header.get("typ") != EVIDENCE_JWS_TYPE:
            raise SignatureProblem("EVIDENCE.SIGNATURE_INVALID",
                                   f"the signature has alg {alg!r} / typ {header.get('typ')!r}; expected "
                                   f"one of {', '.join(EVIDENCE_ALGORITHMS)} with typ {EVIDENCE_JWS_TYPE}")
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise SignatureProblem("EVIDENCE.KEY_UNKNOWN", f"the signing key {kid!r} is not in the key set")
        if _algorithm(key) != alg:
            raise SignatureProblem("EVIDENCE.SIGNATURE_INVALID", f"key {kid!r} cannot make {alg} signatures")
        try:
            obj = jws.deserialize_compact(token, key, algorithms=[str(alg)])
        except JoseError as exc:
            raise SignatureProblem("EVIDENCE.SIGNATURE_INVALID",
                                   f"the signature by key {kid!r} does not verify ({exc.error})") from exc
        if obj.payload != payload:
            raise SignatureProblem("EVIDENCE.SIGNATURE_MISMATCH",
                                   f"the signature by key {kid!r} is valid but signs a different hash "
                                   f"({obj.payload[:64].decode('ascii', 'replace')})")
        return str(kid)
