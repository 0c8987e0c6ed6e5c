"""Per-registry rate limits: a token bucket per sender, in this process."""

from __future__ import annotations

import math
import threading
import time

from gateway.transfers.errors import TransferError


class RateLimited(TransferError):
    code = "TRANSFER.RATE_LIMITED"
    http_status = 429


class RateLimiter:
    """``per_minute`` messages per sender on average, with bursts of up to ``burst``."""

    def __init__(self, per_minute: int, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, sender: str, now: float | None = None) -> None:
        moment = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(sender, (self.burst, moment))
            tokens = min(self.burst, tokens + (moment - last) * self.rate)
            if tokens < 1:
                self._buckets[sender] = (tokens, moment)
                wait = math.ceil((1 - tokens) / self.rate)
                error = RateLimited(f"{sender!r} is over its rate limit; retry in {wait} s")
                error.retry_after = wait
                raise error
            self._buckets[sender] = (tokens - 1, moment)
