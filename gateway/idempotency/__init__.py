"""Exactly-once delivery per ``(sender, message id)``.

Before delivering, the gateway claims the message::

    claim = store.claim(sender, message_id, body_sha256)
    claim.state is ClaimState.NEW          -> deliver, then store.complete(..., claim.token, receipt)
                                              (or store.release(..., claim.token) if it surely failed)
    claim.state is ClaimState.DONE         -> answer claim.receipt (the original receipt)
    claim.state is ClaimState.IN_PROGRESS  -> another request is delivering it: retry later
    claim.state is ClaimState.CONFLICT     -> same id, different body: refuse (IdempotencyConflict)

``claim.raise_unless_new()`` turns the last two into coded errors. :func:`open_store` picks the
backend from a URL: ``sqlite:///path`` (single node) or ``redis://...`` (scale-out).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from gateway.idempotency.store import (
    DEFAULT_LEASE_SECONDS,
    DEFAULT_RETENTION_SECONDS,
    Claim,
    ClaimInProgress,
    ClaimState,
    IdempotencyConflict,
    IdempotencyError,
    IdempotencyStore,
    IdempotencyStoreUnavailable,
    InvalidClaim,
    LeaseLost,
)

__all__ = [
    "Claim",
    "ClaimInProgress",
    "ClaimState",
    "IdempotencyConflict",
    "IdempotencyError",
    "IdempotencyStore",
    "IdempotencyStoreUnavailable",
    "InvalidClaim",
    "LeaseLost",
    "open_store",
]


def open_store(url: str, *, lease_seconds: float = DEFAULT_LEASE_SECONDS,
               retention_seconds: float = DEFAULT_RETENTION_SECONDS) -> IdempotencyStore:
    """``sqlite:///path[?table=..&synchronous=..]`` or ``redis://host:port/db[?prefix=..]``."""
    base, _, query = url.partition("?")
    options = dict(parse_qsl(query, keep_blank_values=True))
    if url.startswith("sqlite://"):
        from gateway.idempotency.sqlite import SqliteIdempotencyStore

        path = base[len("sqlite://"):]
        path = path[1:] if path.startswith("/") else path
        unknown = sorted(set(options) - {"table", "synchronous"})
        if unknown or not path:
            raise InvalidClaim(f"bad SQLite idempotency URL {url!r} (sqlite:///path?table=..&synchronous=..)",
                               code="IDEMPOTENCY.CONFIGURATION")
        return SqliteIdempotencyStore(path, table=options.get("table", "idempotency"),
                                      synchronous=options.get("synchronous", "full"),
                                      lease_seconds=lease_seconds, retention_seconds=retention_seconds)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from gateway.idempotency.redis import RedisIdempotencyStore

        prefix = options.pop("prefix", "carbonlink:idem")
        rest = "&".join(f"{k}={v}" for k, v in options.items())
        return RedisIdempotencyStore(base + (f"?{rest}" if rest else ""), prefix=prefix,
                                     lease_seconds=lease_seconds, retention_seconds=retention_seconds)
    raise InvalidClaim(f"idempotency store URL {url!r} is neither sqlite:///... nor redis://...",
                       code="IDEMPOTENCY.CONFIGURATION")
