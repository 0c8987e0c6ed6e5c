"""Per-registry rate limits: ``per_minute`` messages per sender on average, bursts up to ``burst``.

Two backends with the same arithmetic (GCRA, the token bucket written as a "theoretical arrival time"):

* :class:`RateLimiter`: in this process (single node, the default);
* :class:`RedisRateLimiter`: one budget per sender shared by every gateway process that points at the
  same Redis (scale-out), kept atomic by a Lua script that reads Redis's own clock.

Limits can differ per registry (``CARBONLINK_RATE_LIMIT_PEERS``); :func:`make_limiter` builds the
configured one.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from gateway.transfers.errors import TransferError


class RateLimited(TransferError):
    code = "TRANSFER.RATE_LIMITED"


class RateLimitStoreUnavailable(TransferError):
    code = "TRANSFER.RATE_LIMIT_STORE_UNAVAILABLE"


@dataclass(frozen=True, slots=True)
class Limit:
    """``per_minute`` on average with bursts of up to ``burst``."""

    per_minute: int
    burst: int

    @property
    def interval(self) -> float:
        """Seconds between two messages at the average rate."""
        return 60.0 / self.per_minute


@dataclass(frozen=True, slots=True)
class Usage:
    """How much of a sender's budget is in use now: ``used`` messages of its ``burst`` (the GCRA's debt,
    ``theoretical arrival time - now``, in message intervals; 0 when idle)."""

    sender: str
    limit: Limit
    used: float

    @property
    def available(self) -> int:
        """Messages the sender may send at once now."""
        return max(0, math.floor(self.limit.burst - self.used + 1e-9))

    @property
    def retry_after(self) -> float:
        """Seconds until the next message is allowed (0 when one is allowed now)."""
        return max(0.0, (self.used - (self.limit.burst - 1)) * self.limit.interval)

    @property
    def idle_in(self) -> float:
        """Seconds until the whole burst is available again."""
        return self.used * self.limit.interval


def _usage(sender: str, limit: Limit, debt: float) -> Usage:
    return Usage(sender, limit, min(float(limit.burst), max(0.0, debt) / limit.interval))


def _refuse(sender: str, wait: float) -> RateLimited:
    seconds = max(1, math.ceil(wait))
    return RateLimited(f"{sender!r} is over its rate limit; retry in {seconds} s", retry_after=seconds)


class Limiter(Protocol):
    shared: bool

    def take(self, sender: str) -> None:
        """Count one message of ``sender`` or raise :class:`RateLimited` (with ``retry_after``)."""

    def usage(self, senders: Iterable[str]) -> list[Usage]:
        """Each sender's budget in use now (reads only; counts nothing)."""


class _PerPeer:
    def __init__(self, default: Limit, peers: Mapping[str, Limit] | None = None) -> None:
        self.default = default
        self.peers = dict(peers or {})

    def limit_for(self, sender: str) -> Limit:
        return self.peers.get(sender, self.default)


class RateLimiter(_PerPeer):
    """The in-process limiter."""

    shared = False

    def __init__(self, per_minute: int, burst: int, peers: Mapping[str, Limit] | None = None) -> None:
        super().__init__(Limit(per_minute, burst), peers)
        self._tat: dict[str, float] = {}
        self._lock = threading.Lock()

    def take(self, sender: str, now: float | None = None) -> None:
        limit = self.limit_for(sender)
        moment = time.monotonic() if now is None else now
        with self._lock:
            tat = max(self._tat.get(sender, moment), moment)
            allowed_from = tat + limit.interval - limit.burst * limit.interval
            if allowed_from > moment + 1e-9:
                raise _refuse(sender, allowed_from - moment)
            self._tat[sender] = tat + limit.interval

    def usage(self, senders: Iterable[str], now: float | None = None) -> list[Usage]:
        moment = time.monotonic() if now is None else now
        with self._lock:
            tats = {sender: self._tat.get(sender, moment) for sender in senders}
        return [_usage(sender, self.limit_for(sender), tat - moment) for sender, tat in tats.items()]


# KEYS[1]: the sender's key. ARGV: interval in microseconds, burst. Returns the microseconds to wait (0: taken).
_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allowed_from = tat + interval - tonumber(ARGV[2]) * interval
if allowed_from > now then return allowed_from - now end
local new_tat = tat + interval
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000) + 1000)
return 0
"""


class RedisRateLimiter(_PerPeer):
    """One budget per sender across every gateway process using this Redis."""

    shared = True

    def __init__(self, url: str, per_minute: int, burst: int, peers: Mapping[str, Limit] | None = None,
                 *, prefix: str = "carbonlink") -> None:
        import redis

        super().__init__(Limit(per_minute, burst), peers)
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError,)
        self._client: Any = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._script = self._client.register_script(_GCRA)
        self._prefix = f"{prefix}:ratelimit:"

    def take(self, sender: str) -> None:
        limit = self.limit_for(sender)
        try:
            wait_us = int(self._script(keys=[self._prefix + sender],
                                       args=[round(limit.interval * 1_000_000), limit.burst]))
        except self._errors as exc:
            raise RateLimitStoreUnavailable(f"the shared rate-limit store failed: {type(exc).__name__}"
                                            ) from exc
        if wait_us > 0:
            raise _refuse(sender, wait_us / 1_000_000)

    def usage(self, senders: Iterable[str]) -> list[Usage]:
        """One round trip: every sender's theoretical arrival time and Redis's own clock."""
        names = list(senders)
        if not names:
            return []
        try:
            pipe = self._client.pipeline(transaction=False)
            pipe.time()
            pipe.mget([self._prefix + sender for sender in names])
            (seconds, micros), tats = pipe.execute()
        except self._errors as exc:
            raise RateLimitStoreUnavailable(f"the shared rate-limit store failed: {type(exc).__name__}") from exc
        now_us = int(seconds) * 1_000_000 + int(micros)
        return [_usage(sender, self.limit_for(sender), 0.0 if tat is None else (int(float(tat)) - now_us) / 1e6)
                for sender, tat in zip(names, tats, strict=True)]

    def close(self) -> None:
        self._client.close()


def make_limiter(store: str, per_minute: int, burst: int, peers: Mapping[str, Limit] | None = None
                 ) -> RateLimiter | RedisRateLimiter:
    """``memory`` (this process) or a ``redis://`` URL (shared by every gateway process)."""
    if store == "memory":
        return RateLimiter(per_minute, burst, peers)
    if store.startswith(("redis://", "rediss://", "unix://")):
        return RedisRateLimiter(store, per_minute, burst, peers)
    from gateway.trust.errors import ConfigurationError

    raise ConfigurationError(f"rate-limit store {store!r} is neither 'memory' nor a redis:// URL")
