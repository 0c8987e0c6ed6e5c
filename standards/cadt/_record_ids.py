"""Deterministic CAD Trust record ids: UUIDv5 of registry, record kind and natural key."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from hashlib import sha1

#: The namespace of carbonlink's CAD Trust record ids (UUIDv5 over registry and natural key).
ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/Chia-Network/cadt/carbonlink-record-ids")


_NAMESPACE_BYTES = ID_NAMESPACE.bytes


def stable_id(registry: str, kind: str, *key: str) -> str:
    """The deterministic id of one record: UUIDv5 of registry, record kind and natural key.

    Computed as RFC 4122 section 4.3 defines it (SHA-1 of namespace and name, version 5, variant
    RFC 4122), the same string ``str(uuid.uuid5(ID_NAMESPACE, name))`` gives, without building a
    ``UUID`` object per record (one per unit of an export)."""
    text = sha1(_NAMESPACE_BYTES + "\x1f".join((registry, kind, *key)).encode(), usedforsecurity=False).hexdigest()
    # version 5 in the 13th hex digit; the RFC 4122 variant (10xx) in the top bits of the 17th
    return f"{text[:8]}-{text[8:12]}-5{text[13:16]}-{_VARIANT[text[16]]}{text[17:20]}-{text[20:32]}"


#: A hex digit with its top two bits set to the RFC 4122 variant, 10.
_VARIANT = {digit: "89ab"[int(digit, 16) & 0x3] for digit in "0123456789abcdef"}


def id_maker(registry: str, kind: str) -> Callable[[str], tuple[str, int]]:
    """``stable_id(registry, kind, key)`` for one key, as a function of the key, with the id's first 64
    bits as an integer (the hex digits before its fourth dash); the name's fixed start is hashed once."""
    start = sha1(_NAMESPACE_BYTES + f"{registry}\x1f{kind}\x1f".encode(), usedforsecurity=False)

    def make(key: str) -> tuple[str, int]:
        digest = start.copy()  # the fixed start already hashed; then the key
        digest.update(key.encode())
        text = digest.hexdigest()
        head = (int(text[:16], 16) & ~0xF000) | 0x5000
        return f"{text[:8]}-{text[8:12]}-5{text[13:16]}-{_VARIANT[text[16]]}{text[17:20]}-{text[20:32]}", head

    return make
