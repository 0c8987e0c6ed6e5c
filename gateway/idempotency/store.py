"""The idempotency store's interface, claim states and errors (the backends implement the interface;
:func:`gateway.idempotency.open_store` picks one from a URL)."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson

from gateway.digests import is_sha256_hex
from gateway.protocol import id_problem
from standards.errors import CarbonlinkError

MAX_RECEIPT_BYTES = 1024 * 1024
DEFAULT_LEASE_SECONDS = 120.0
DEFAULT_RETENTION_SECONDS = 30 * 24 * 3600.0


class IdempotencyError(CarbonlinkError):
    code = "IDEMPOTENCY.ERROR"


class InvalidClaim(IdempotencyError):
    """A sender, message id, digest, receipt or token is malformed."""

    code = "IDEMPOTENCY.INVALID"


class IdempotencyConflict(IdempotencyError):
    """The message id was already used with a different body."""

    code = "IDEMPOTENCY.BODY_MISMATCH"


class ClaimInProgress(IdempotencyError):
    """Another request is delivering this message right now; ``retry_after`` is in seconds."""

    code = "IDEMPOTENCY.IN_PROGRESS"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, retry_after=retry_after)


class LeaseLost(IdempotencyError):
    """complete/release with a token that no longer holds the claim (its lease expired)."""

    code = "IDEMPOTENCY.LEASE_LOST"


class IdempotencyStoreUnavailable(IdempotencyError):
    """The store cannot be reached or refused the operation (a retry may succeed: Retry-After)."""

    code = "IDEMPOTENCY.STORE_UNAVAILABLE"

    def __init__(self, message: str, *, code: str | None = None, retry_after: int = 5) -> None:
        super().__init__(message, code=code, retry_after=retry_after)


class ClaimState(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in-progress"
    DONE = "done"
    CONFLICT = "conflict"


@dataclass(frozen=True, slots=True)
class Claim:
    """The answer to :meth:`IdempotencyStore.claim`.

    ``token`` is set only for NEW (it authorises complete/release); ``receipt`` only for DONE;
    ``retry_after`` (seconds) for IN_PROGRESS; ``body_sha256`` is the digest first claimed.
    """

    state: ClaimState
    sender: str
    message_id: str
    body_sha256: str
    token: str | None = None
    receipt: dict[str, Any] | None = None
    retry_after: float | None = None

    def raise_unless_new(self) -> Claim:
        """Return self when the message may be delivered or answered from the receipt
        (NEW, DONE); raise the coded error for CONFLICT and IN_PROGRESS."""
        if self.state is ClaimState.CONFLICT:
            raise IdempotencyConflict(f"message id {self.message_id!r} from {self.sender!r} was already used "
                                      "with a different body; send a new message id for a new message")
        if self.state is ClaimState.IN_PROGRESS:
            wait = max(1, math.ceil(self.retry_after or 1))
            raise ClaimInProgress(f"message {self.message_id!r} from {self.sender!r} is being delivered by "
                                  f"another request; retry in {wait} s", retry_after=wait)
        return self


def check_key(sender: object, message_id: object) -> tuple[str, str]:
    for name, value in (("sender", sender), ("message id", message_id)):
        problem = id_problem(value)
        if problem is not None:
            raise InvalidClaim(f"the {name} {problem}")
    return str(sender), str(message_id)


def check_digest(digest: object) -> str:
    if not isinstance(digest, str) or not is_sha256_hex(digest):
        raise InvalidClaim("the body digest must be 64 lower-case hex characters (SHA-256)")
    return digest


def check_new(claim: object) -> Claim:
    """The claim, if it is a NEW claim with a token (only those may be completed or released)."""
    if not isinstance(claim, Claim) or claim.state is not ClaimState.NEW or not claim.token:
        raise InvalidClaim("only a NEW claim (with its token) can be completed or released")
    check_key(claim.sender, claim.message_id)
    check_digest(claim.body_sha256)
    return claim


def encode_receipt(receipt: object) -> bytes:
    if not isinstance(receipt, Mapping):
        raise InvalidClaim("the receipt must be a JSON object")
    try:
        data = orjson.dumps(dict(receipt))
    except (orjson.JSONEncodeError, TypeError) as exc:
        raise InvalidClaim(f"the receipt is not JSON-serializable: {exc}") from exc
    if len(data) > MAX_RECEIPT_BYTES:
        raise InvalidClaim(f"the receipt is {len(data)} bytes, over the limit of {MAX_RECEIPT_BYTES}")
    return data


def decode_receipt(data: bytes | str) -> dict[str, Any]:
    value = orjson.loads(data)
    if not isinstance(value, dict):
        raise IdempotencyStoreUnavailable("a stored receipt is not a JSON object (the store is corrupt)")
    return value


class IdempotencyStore(ABC):
    """Claims keyed on ``(sender, message_id)``.

    ``lease_seconds`` bounds an IN_PROGRESS claim: after it, the claim is forgotten and a retry may
    deliver again, so it must exceed the longest delivery attempt (timeouts included).
    ``retention_seconds`` is how long a DONE claim answers retries: longer than any sender's
    retry horizon.
    """

    def __init__(self, *, lease_seconds: float = DEFAULT_LEASE_SECONDS,
                 retention_seconds: float = DEFAULT_RETENTION_SECONDS) -> None:
        if lease_seconds <= 0 or retention_seconds <= 0:
            raise InvalidClaim("lease and retention must be positive durations")
        self.lease_seconds = lease_seconds
        self.retention_seconds = retention_seconds

    @abstractmethod
    def claim(self, sender: str, message_id: str, body_sha256: str) -> Claim:
        """Atomically claim the message for delivery, or say why not (see :class:`ClaimState`)."""

    @abstractmethod
    def complete(self, claim: Claim, receipt: Mapping[str, Any]) -> None:
        """Record the receipt of the message ``claim`` (a NEW claim) delivered; retries get it from
        now on. :class:`LeaseLost` if the claim's lease expired and another request took it over."""

    @abstractmethod
    def release(self, claim: Claim) -> None:
        """Give a NEW claim up after a delivery that certainly did not reach the receiver, so a
        retry may deliver. :class:`LeaseLost` if another request holds it or it was completed."""

    @abstractmethod
    def ping(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> IdempotencyStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
