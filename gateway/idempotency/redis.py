"""Redis idempotency store (scale-out): each operation is one Lua script, so it is atomic across
every gateway process; leases and retention are Redis key expiries (no clock is compared
between processes).

Each thread keeps one connection of the client's pool for its own and sends ``EVALSHA`` on it
directly (the pool's checkout, the client's command dispatch and its per-command bookkeeping cost
more CPU than the round trip itself). The connection is checked before each use as the pool checks
one it hands out, the client's retry policy applies, a connection that failed is dropped and made
again on the next call, and a server that lost the scripts gets them again (``NOSCRIPT``).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping
from typing import Any

import redis

from gateway.idempotency.store import (
    Claim,
    ClaimState,
    IdempotencyStore,
    IdempotencyStoreUnavailable,
    LeaseLost,
    check_digest,
    check_key,
    check_new,
    decode_receipt,
    encode_receipt,
)

# KEYS[1] = claim key; ARGV = digest, token, lease ms.  Fields: s (p|d), d digest, t token, r receipt.
_CLAIM = """
local v = redis.call('HMGET', KEYS[1], 's', 'd', 'r')
if not v[1] then
  redis.call('HSET', KEYS[1], 's', 'p', 'd', ARGV[1], 't', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'new'}
end
if v[2] ~= ARGV[1] then return {'conflict', v[2]} end
if v[1] == 'd' then return {'done', v[2], v[3]} end
return {'busy', v[2], tostring(redis.call('PTTL', KEYS[1]))}
"""
# ARGV = token, receipt, retention ms, digest.  0 taken over, 1 completed, 2 already completed.
_COMPLETE = """
local v = redis.call('HMGET', KEYS[1], 's', 't')
if v[1] and v[2] ~= ARGV[1] then return 0 end
if v[1] == 'd' then return 2 end
redis.call('HSET', KEYS[1], 's', 'd', 'd', ARGV[4], 't', ARGV[1], 'r', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""
# ARGV = token.  0 held by another or completed, 1 released (or already gone).
_RELEASE = """
local v = redis.call('HMGET', KEYS[1], 's', 't')
if not v[1] then return 1 end
if v[2] ~= ARGV[1] or v[1] == 'd' then return 0 end
redis.call('DEL', KEYS[1])
return 1
"""


class RedisIdempotencyStore(IdempotencyStore):
    def __init__(self, url: str, *, prefix: str = "carbonlink:idem", lease_seconds: float = 120.0,
                 retention_seconds: float = 30 * 24 * 3600.0) -> None:
        super().__init__(lease_seconds=lease_seconds, retention_seconds=retention_seconds)
        self._redis: Any = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._prefix = prefix
        self._claim = self._redis.register_script(_CLAIM)
        self._complete = self._redis.register_script(_COMPLETE)
        self._release = self._redis.register_script(_RELEASE)
        self._local = threading.local()
        self._lease_ms = max(1, int(lease_seconds * 1000))
        self._retention_ms = max(1, int(retention_seconds * 1000))

    def key(self, sender: str, message_id: str) -> str:
        """The Redis key of a claim (the sender is length-prefixed, so no two pairs share a key)."""
        return f"{self._prefix}:{len(sender)}:{sender}:{message_id}"

    def _connection(self) -> Any:
        """This thread's connection (checked out of the pool once; the pool closes it on :meth:`close`),
        checked as the pool checks one it hands out: one the server closed, or with data it did not
        ask for, is made again before anything is sent on it."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._redis.connection_pool.get_connection()
            return conn
        try:
            if conn.can_read():
                raise redis.ConnectionError("Connection has data")
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            conn.disconnect()
            conn.connect()
            if conn.can_read():
                raise redis.ConnectionError("Connection not ready") from None
        return conn

    def _run(self, script: Any, key: str, args: list[Any]) -> Any:
        try:
            conn = self._connection()

            def evalsha() -> Any:
                conn.send_command("EVALSHA", script.sha, 1, key, *args)
                return conn.read_response()

            def load() -> Any:
                conn.send_command("SCRIPT", "LOAD", script.script)
                return conn.read_response()

            try:
                return conn.retry.call_with_retry(evalsha, lambda _error: conn.disconnect())
            except redis.exceptions.NoScriptError:  # the server lost its scripts (restart, SCRIPT FLUSH)
                loaded = conn.retry.call_with_retry(load, lambda _error: conn.disconnect())
                script.sha = loaded.decode() if isinstance(loaded, bytes) else str(loaded)
                return conn.retry.call_with_retry(evalsha, lambda _error: conn.disconnect())
        except (redis.RedisError, OSError) as exc:
            raise IdempotencyStoreUnavailable(f"the idempotency store (Redis) is unavailable: {exc}"
                                              ) from exc

    def claim(self, sender: str, message_id: str, body_sha256: str) -> Claim:
        sender, message_id = check_key(sender, message_id)
        digest = check_digest(body_sha256)
        token = secrets.token_urlsafe(18)
        answer = self._run(self._claim, self.key(sender, message_id), [digest, token, self._lease_ms])
        kind = answer[0].decode()
        if kind == "new":
            return Claim(ClaimState.NEW, sender, message_id, digest, token=token)
        stored = answer[1].decode()
        if kind == "conflict":
            return Claim(ClaimState.CONFLICT, sender, message_id, stored)
        if kind == "done":
            return Claim(ClaimState.DONE, sender, message_id, stored, receipt=decode_receipt(answer[2]))
        return Claim(ClaimState.IN_PROGRESS, sender, message_id, stored,
                     retry_after=max(0.0, int(answer[2]) / 1000))

    def complete(self, claim: Claim, receipt: Mapping[str, Any]) -> None:
        claim = check_new(claim)
        data = encode_receipt(receipt)
        result = self._run(self._complete, self.key(claim.sender, claim.message_id),
                           [claim.token, data, self._retention_ms, claim.body_sha256])
        if int(result) == 0:
            raise LeaseLost(f"message {claim.message_id!r} from {claim.sender!r} was taken over by another "
                            "request after this claim's lease expired")

    def release(self, claim: Claim) -> None:
        claim = check_new(claim)
        if int(self._run(self._release, self.key(claim.sender, claim.message_id), [claim.token])) == 0:
            raise LeaseLost(f"message {claim.message_id!r} from {claim.sender!r} is no longer held by this "
                            "claim (taken over or completed); it was not released")

    def ping(self) -> None:
        try:
            self._redis.ping()
        except (redis.RedisError, OSError) as exc:
            raise IdempotencyStoreUnavailable(f"the idempotency store (Redis) is unavailable: {exc}"
                                              ) from exc

    def close(self) -> None:
        self._redis.close()
