"""Replay caches (``jti`` of client assertions and DPoP proofs).

Two back ends with one interface: in-process (the embedded default, one gateway process) and
Redis (``CARBONLINK_REPLAY_STORE=redis://...``) so that N gateway processes refuse a ``jti``
seen by any of them. DPoP server nonces are not stored: they are derived (:mod:`gateway.trust.nonces`),
so a Redis that lost its keys loses no nonce.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol

from gateway.trust.errors import ReplayStoreUnavailable

_MAX_KEY = 512


class ReplayStore(Protocol):
    def first_use(self, namespace: str, jti: str, expires_at: float) -> bool:
        """Record ``jti``; True the first time, False if it was seen and has not expired."""

    def ping(self) -> None:
        """Raise :class:`ReplayStoreUnavailable` when the store cannot be used."""


def _key(namespace: str, jti: str) -> str:
    return f"{namespace}:{jti}"[:_MAX_KEY]


class MemoryReplayStore:
    """In-process store; entries are pruned once they expire."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self._next_prune = 0.0

    def _prune(self, now: float) -> None:
        if now < self._next_prune:
            return
        self._next_prune = now + 5
        self._seen = {k: t for k, t in self._seen.items() if t > now}

    def first_use(self, namespace: str, jti: str, expires_at: float) -> bool:
        now = time.time()
        key = _key(namespace, jti)
        with self._lock:
            self._prune(now)
            seen = self._seen.get(key)
            if seen is not None and seen > now:
                return False
            self._seen[key] = max(expires_at, now + 1)
            return True

    def ping(self) -> None:
        return None


class RedisReplayStore:
    """Redis-backed store (``SET NX`` with an expiry), shared by every gateway process."""

    def __init__(self, url: str, *, prefix: str = "carbonlink") -> None:
        import redis

        self._redis: Any = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self._prefix = prefix

    def _fail(self, exc: BaseException) -> ReplayStoreUnavailable:
        return ReplayStoreUnavailable(f"the replay store (Redis) is unreachable: {exc}")

    def first_use(self, namespace: str, jti: str, expires_at: float) -> bool:
        ttl_ms = max(1000, int((expires_at - time.time()) * 1000))
        try:
            stored = self._redis.set(f"{self._prefix}:jti:{_key(namespace, jti)}", b"1", nx=True, px=ttl_ms)
        except self._errors as exc:
            raise self._fail(exc) from exc
        return bool(stored)

    def ping(self) -> None:
        try:
            self._redis.ping()
        except self._errors as exc:
            raise self._fail(exc) from exc


def make_store(spec: str) -> ReplayStore:
    """``memory`` or a ``redis://`` / ``rediss://`` URL."""
    if spec == "memory":
        return MemoryReplayStore()
    if spec.startswith(("redis://", "rediss://", "unix://")):
        return RedisReplayStore(spec)
    from gateway.trust.errors import ConfigurationError

    raise ConfigurationError(f"replay store {spec!r} is neither 'memory' nor a redis:// URL")
