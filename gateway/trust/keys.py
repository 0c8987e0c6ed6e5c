"""The gateway's own signing keys: one current key, older keys kept for verification.

Keyring file (private, JSON)::

    {"current": "gw-2026-11",
     "keys": [<private JWK with kid>, ...],
     "retired": {"gw-2026-05": "2026-11-20T00:00:00Z"}}

The current key signs. A retired key is still published in the JWKS and still accepted for
verification until ``retired_at + access token lifetime`` (its tokens have expired by then);
after that it is dropped. Keys that are neither current nor retired are published as
"next" keys, so registries can fetch them before the switch.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, JWKRegistry, Key, OKPKey, RSAKey

from gateway.trust import jose
from gateway.trust.errors import ConfigurationError
from standards.safeio import load_json, read_bytes


def generate_key(alg: str, kid: str) -> Key:
    """A fresh private key for one of the allowed algorithms."""
    key: Key
    if alg == "ES256":
        key = ECKey.generate_key("P-256", parameters={"kid": kid, "use": "sig", "alg": "ES256"})
    elif alg == "Ed25519":
        key = OKPKey.generate_key("Ed25519", parameters={"kid": kid, "use": "sig", "alg": "Ed25519"})
    elif alg == "PS256":
        key = RSAKey.generate_key(3072, parameters={"kid": kid, "use": "sig", "alg": "PS256"})
    else:
        raise ConfigurationError(f"cannot generate a key for {alg!r} (allowed: {jose.ALLOWED_ALGORITHMS})")
    return key


def import_jwk(data: Mapping[str, Any], *, private: bool, what: str) -> Key:
    """Import one JWK, requiring a ``kid``, an allowed key type and strength, and (when
    ``private`` is False) no private members."""
    if not isinstance(data, Mapping):
        raise ConfigurationError(f"{what}: a JWK must be a JSON object")
    if not private and jose.has_private_members(data):
        raise ConfigurationError(f"{what}: a public key set holds private key material")
    kid = data.get("kid")
    if not isinstance(kid, str) or not kid:
        raise ConfigurationError(f"{what}: every key needs a kid")
    try:
        key = JWKRegistry.import_key(dict(data))
    except (JoseError, ValueError, TypeError) as exc:
        raise ConfigurationError(f"{what}: key {kid!r} cannot be imported: {exc}") from exc
    try:
        jose.algorithm_for(key)
    except jose.JwsRejected as exc:
        raise ConfigurationError(f"{what}: {exc.message}") from exc
    if private and key.private_key is None:
        raise ConfigurationError(f"{what}: key {kid!r} has no private part")
    return key


def public_jwk(key: Key) -> dict[str, Any]:
    """The public JWK with ``kid``, ``use`` and ``alg``."""
    out = dict(key.as_dict(private=False))
    out["use"] = "sig"
    out["alg"] = jose.algorithm_for(key)
    return out


@dataclass
class SigningKeyRing:
    """The gateway's keys (see module docstring)."""

    current: Key
    others: dict[str, Key] = field(default_factory=dict)
    retired_at: dict[str, float] = field(default_factory=dict)
    grace_seconds: int = 300
    #: the current key's :class:`jose.CompactSigner` (made again when ``current`` is replaced)
    _signer: jose.CompactSigner | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def from_file(cls, path: Path, *, grace_seconds: int) -> SigningKeyRing:
        doc = load_json(read_bytes(path, limit=1024 * 1024), what=str(path))
        return cls.from_document(doc, grace_seconds=grace_seconds, what=str(path))

    @classmethod
    def from_document(cls, doc: Any, *, grace_seconds: int, what: str = "keyring") -> SigningKeyRing:
        if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
            raise ConfigurationError(f"{what}: a keyring is an object with a 'keys' list")
        keys = {str(k.kid): k for k in (import_jwk(raw, private=True, what=what) for raw in doc["keys"])}
        current_kid = doc.get("current") or next(iter(keys), None)
        if current_kid not in keys:
            raise ConfigurationError(f"{what}: the current key {current_kid!r} is not in the keyring")
        retired: dict[str, float] = {}
        for kid, when in dict(doc.get("retired") or {}).items():
            if kid not in keys or kid == current_kid:
                raise ConfigurationError(f"{what}: retired key {kid!r} is unknown or current")
            try:
                retired[kid] = datetime.fromisoformat(str(when).replace("Z", "+00:00")).timestamp()
            except ValueError as exc:
                raise ConfigurationError(f"{what}: retired time {when!r} is not an ISO 8601 time") from exc
        current = keys.pop(str(current_kid))
        return cls(current=current, others=keys, retired_at=retired, grace_seconds=grace_seconds)

    @classmethod
    def generate(
        cls, alg: str = "ES256", *, kid: str = "gateway-dev-1", grace_seconds: int = 300
    ) -> SigningKeyRing:
        return cls(current=generate_key(alg, kid), grace_seconds=grace_seconds)

    def to_document(self) -> dict[str, Any]:
        keys = [self.current, *self.others.values()]
        return {
            "current": self.current.kid,
            "keys": [dict(k.as_dict(private=True)) for k in keys],
            "retired": {
                kid: datetime.fromtimestamp(t).astimezone().isoformat() for kid, t in self.retired_at.items()
            },
        }

    def _live_others(self, now: float) -> dict[str, Key]:
        return {
            kid: k
            for kid, k in self.others.items()
            if kid not in self.retired_at or now < self.retired_at[kid] + self.grace_seconds
        }

    def verification_key(self, kid: object, now: float | None = None) -> Key:
        """The key named ``kid`` if the gateway still accepts it, else :class:`~jose.JwsRejected`."""
        if not isinstance(kid, str):
            raise jose.JwsRejected("KID", "the token has no kid")
        if kid == self.current.kid:
            return self.current
        key = self._live_others(time.time() if now is None else now).get(kid)
        if key is None:
            raise jose.JwsRejected("KID", f"kid {kid!r} is not a key of this gateway (or it expired)")
        return key

    def jwks(self, now: float | None = None) -> dict[str, Any]:
        """The public JWKS: current key first, then next and still-valid retired keys."""
        live = self._live_others(time.time() if now is None else now)
        return {"keys": [public_jwk(self.current), *(public_jwk(k) for k in live.values())]}

    def sign(self, header: Mapping[str, Any], claims: Mapping[str, Any] | bytes) -> str:
        """A compact JWS by the current key (the bytes :func:`jose.sign` makes, see :class:`jose.CompactSigner`)."""
        signer = self._signer
        if signer is None or signer.key is not self.current:
            signer = jose.CompactSigner(self.current)
            self._signer = signer
        return signer.sign(header, claims)

    def self_test(self) -> None:
        """Sign and verify a probe; raises :class:`ConfigurationError` if the key is unusable."""
        try:
            token = self.sign({"typ": "probe+jwt"}, {"probe": True})
            jose.verify(token, typ=["probe+jwt"], key_for=lambda h: self.current)
        except jose.JwsRejected as exc:
            raise ConfigurationError(f"the signing key {self.current.kid!r} is unusable: {exc.message}") from exc
        except JoseError as exc:
            raise ConfigurationError(f"the signing key {self.current.kid!r} is unusable: {exc}") from exc


def public_key_set(doc: Any, *, what: str) -> dict[str, Key]:
    """Import a public JWKS (``{"keys": [...]}``) into ``{kid: Key}``; private parts refused."""
    if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list) or not doc["keys"]:
        raise ConfigurationError(f"{what}: a JWKS is an object with a non-empty 'keys' list")
    out: dict[str, Key] = {}
    for raw in doc["keys"]:
        key = import_jwk(raw, private=False, what=what)
        if key.kid in out:
            raise ConfigurationError(f"{what}: duplicate kid {key.kid!r}")
        out[str(key.kid)] = key
    return out


def dumps(doc: Any) -> bytes:
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
