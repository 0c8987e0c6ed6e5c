"""Deterministic CAD Trust record ids: UUIDv5 of registry, record kind and natural key."""

from __future__ import annotations

import uuid
from hashlib import sha1

#: The namespace of carbonlink's CAD Trust record ids (UUIDv5 over registry and natural key).
ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/Chia-Network/cadt/carbonlink-record-ids")


_NAMESPACE_BYTES = ID_NAMESPACE.bytes


def stable_id(registry: str, kind: str, *key: str) -> str:
    """The deterministic id of one record: UUIDv5 of registry, record kind and natural key.

    Computed as RFC 4122 section 4.3 defines it (SHA-1 of namespace and name, version 5, variant
    RFC 4122), the same string ``str(uuid.uuid5(ID_NAMESPACE, name))`` gives, without building a
    ``UUID`` object per record (one per unit of an export)."""
    digest = bytearray(sha1(_NAMESPACE_BYTES + "\x1f".join((registry, kind, *key)).encode(), usedforsecurity=False)
                       .digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
