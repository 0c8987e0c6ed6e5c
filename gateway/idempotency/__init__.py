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

from gateway.idempotency.store import (
    Claim,
    ClaimInProgress,
    ClaimState,
    IdempotencyConflict,
    IdempotencyError,
    IdempotencyStore,
    IdempotencyStoreUnavailable,
    InvalidClaim,
    LeaseLost,
    open_store,
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
