"""SHA-256 digests in the two spellings the gateway writes: lower-case hex (evidence, receipts,
idempotency keys) and unpadded base64url (JWS thumbprints and the ``req`` binding, RFC 7515 §2)."""

from __future__ import annotations

import base64
import hashlib
import re

from standards import sha256_hex

__all__ = ["is_sha256_hex", "sha256_b64", "sha256_hex"]

_HEX64 = re.compile(r"[0-9a-f]{64}")


def is_sha256_hex(value: object) -> bool:
    """Whether ``value`` is a lower-case hex SHA-256 digest."""
    return isinstance(value, str) and _HEX64.fullmatch(value) is not None


def sha256_b64(data: bytes) -> str:
    """Unpadded base64url SHA-256 of ``data``."""
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
