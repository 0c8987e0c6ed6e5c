"""SQLite idempotency store (single node; threads and processes sharing the file are safe:
every claim runs in a ``BEGIN IMMEDIATE`` transaction)."""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from gateway.idempotency.store import (
    Claim,
    ClaimState,
    IdempotencyStore,
    IdempotencyStoreUnavailable,
    InvalidClaim,
    LeaseLost,
    check_digest,
    check_key,
    check_new,
    decode_receipt,
    encode_receipt,
)
from gateway.sqlite_writes import ReopeningConnection, begin_immediate

T = TypeVar("T")
_PURGE_EVERY = 60.0
_PURGE_BATCH = 500  # rows per purge, so a claim never pays for a large backlog at once
_PENDING, _DONE = "pending", "done"


class SqliteIdempotencyStore(IdempotencyStore):
    def __init__(self, path: str | Path, *, table: str = "idempotency", synchronous: str = "full",
                 lease_seconds: float = 120.0, retention_seconds: float = 30 * 24 * 3600.0,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(lease_seconds=lease_seconds, retention_seconds=retention_seconds)
        if not table.replace("_", "").isalnum() or not table.isascii() or table[0].isdigit():
            raise InvalidClaim(f"table name {table!r} is not a plain identifier",
                               code="IDEMPOTENCY.CONFIGURATION")
        if synchronous.lower() not in ("full", "normal", "extra"):
            raise InvalidClaim(f"synchronous={synchronous!r}: use full, extra or normal",
                               code="IDEMPOTENCY.CONFIGURATION")
        self._t = table
        self._path = Path(path)
        self._synchronous = synchronous.upper()
        self._clock = clock
        self._lock = threading.Lock()
        self._next_purge = 0.0
        self._db = ReopeningConnection(self._path, synchronous=self._synchronous)
        try:
            conn = self._open()
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute(f"""CREATE TABLE IF NOT EXISTS {table} (
                sender TEXT NOT NULL, message_id TEXT NOT NULL, digest TEXT NOT NULL, state TEXT NOT NULL,
                token TEXT NOT NULL, receipt BLOB, expires_at REAL NOT NULL,
                PRIMARY KEY (sender, message_id)) WITHOUT ROWID""")
            conn.execute(f"CREATE INDEX IF NOT EXISTS {table}_expiry ON {table} (expires_at)")
            conn.execute("PRAGMA busy_timeout=0")
        except sqlite3.Error as exc:
            self._discard()
            raise IdempotencyStoreUnavailable(f"cannot open the SQLite idempotency store {path}: {exc}"
                                              ) from exc

    def _open(self) -> sqlite3.Connection:
        return self._db.get()

    def _discard(self) -> None:
        self._db.discard()

    def _write(self, work: Callable[[sqlite3.Connection, float], T]) -> T:
        with self._lock:
            try:
                conn = self._open()
                begin_immediate(conn)
                try:
                    result = work(conn, self._clock())
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:  # SQLite ends the transaction itself on a full disk or I/O error
                        with contextlib.suppress(sqlite3.Error):
                            conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                self._discard()
                raise IdempotencyStoreUnavailable(f"the SQLite idempotency store failed: {exc}") from exc
            return result

    def claim(self, sender: str, message_id: str, body_sha256: str) -> Claim:
        sender, message_id = check_key(sender, message_id)
        digest = check_digest(body_sha256)

        def work(conn: sqlite3.Connection, now: float) -> Claim:
            if now >= self._next_purge:
                purged = conn.execute(
                    f"DELETE FROM {self._t} WHERE (sender, message_id) IN (SELECT sender, message_id "
                    f"FROM {self._t} WHERE expires_at < ? LIMIT {_PURGE_BATCH})", (now,)).rowcount
                self._next_purge = now + (1.0 if purged >= _PURGE_BATCH else _PURGE_EVERY)
            row = conn.execute(f"SELECT digest, state, receipt, expires_at FROM {self._t} "
                               "WHERE sender = ? AND message_id = ?", (sender, message_id)).fetchone()
            if row is not None and row[3] > now:
                if row[0] != digest:
                    return Claim(ClaimState.CONFLICT, sender, message_id, row[0])
                if row[1] == _DONE:
                    return Claim(ClaimState.DONE, sender, message_id, row[0], receipt=decode_receipt(row[2]))
                return Claim(ClaimState.IN_PROGRESS, sender, message_id, row[0], retry_after=row[3] - now)
            token = secrets.token_urlsafe(18)
            conn.execute(f"INSERT OR REPLACE INTO {self._t} (sender, message_id, digest, state, token, "
                         "receipt, expires_at) VALUES (?, ?, ?, ?, ?, NULL, ?)",
                         (sender, message_id, digest, _PENDING, token, now + self.lease_seconds))
            return Claim(ClaimState.NEW, sender, message_id, digest, token=token)

        return self._write(work)

    def complete(self, claim: Claim, receipt: Mapping[str, Any]) -> None:
        claim = check_new(claim)
        data = encode_receipt(receipt)
        self._write(lambda conn, now: self._completed(conn, claim, data, now))

    def _completed(self, conn: sqlite3.Connection, claim: Claim, data: bytes, now: float) -> None:
        """Complete ``claim`` on ``conn`` (in a write transaction). The claim still pending under its own token
        (the common case) is one ``UPDATE``; otherwise the row decides: taken over by another live claim
        (:class:`LeaseLost`), already completed (nothing to do), gone or expired (written anew)."""
        done_until = now + self.retention_seconds
        if conn.execute(f"UPDATE {self._t} SET state = ?, receipt = ?, expires_at = ? WHERE sender = ? AND "
                        "message_id = ? AND token = ? AND state = ?",
                        (_DONE, data, done_until, claim.sender, claim.message_id, claim.token, _PENDING)
                        ).rowcount:
            return
        row = self._held(conn, claim)
        live = row is not None and row[2] > now
        if live and row[1] != claim.token:
            raise LeaseLost(f"message {claim.message_id!r} from {claim.sender!r} was taken over by "
                            "another request after this claim's lease expired")
        if live and row[0] == _DONE:
            return
        conn.execute(f"INSERT OR REPLACE INTO {self._t} (sender, message_id, digest, state, token, "
                     "receipt, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (claim.sender, claim.message_id, claim.body_sha256, _DONE, claim.token, data, done_until))

    def _held(self, conn: sqlite3.Connection, claim: Claim) -> Any:
        return conn.execute(f"SELECT state, token, expires_at FROM {self._t} "
                            "WHERE sender = ? AND message_id = ?",
                            (claim.sender, claim.message_id)).fetchone()

    def release(self, claim: Claim) -> None:
        claim = check_new(claim)

        def work(conn: sqlite3.Connection, now: float) -> None:
            row = self._held(conn, claim)
            if row is None or row[2] <= now:
                return
            if row[1] != claim.token or row[0] == _DONE:
                raise LeaseLost(f"message {claim.message_id!r} from {claim.sender!r} is no longer held by "
                                "this claim (taken over or completed); it was not released")
            conn.execute(f"DELETE FROM {self._t} WHERE sender = ? AND message_id = ?",
                         (claim.sender, claim.message_id))

        self._write(work)

    def ping(self) -> None:
        with self._lock:
            try:
                self._open().execute("SELECT 1").fetchone()
            except sqlite3.Error as exc:
                self._discard()
                raise IdempotencyStoreUnavailable(f"the SQLite idempotency store failed: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._discard()
