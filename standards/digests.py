"""Content digests carbonlink records and compares (evidence entries, receipts, idempotency keys)."""

from __future__ import annotations

import hashlib


def sha256_hex(data: bytes) -> str:
    """The SHA-256 digest of ``data`` as 64 lowercase hexadecimal characters."""
    return hashlib.sha256(data).hexdigest()


__all__ = ["sha256_hex"]
