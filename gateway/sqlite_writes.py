"""SQLite files shared by several processes (evidence log, idempotency store): fair write locking and a
connection that is reopened after a failure."""

from __future__ import annotations

import contextlib
import random
import sqlite3
import time
from pathlib import Path


def begin_immediate(conn: sqlite3.Connection, timeout: float = 30.0) -> None:
    """``BEGIN IMMEDIATE``, retried with short jittered sleeps while another connection writes.

    SQLite's own busy handler sleeps up to 100 ms between tries, so a busy process keeps
    winning the lock and a second process starves; polling every 0.5-5 ms keeps the wait fair.
    """
    deadline = time.monotonic() + timeout
    delay = 0.0005
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() > deadline:
                raise
        time.sleep(random.uniform(0, delay))
        delay = min(delay * 2, 0.005)


class ReopeningConnection:
    """One WAL-mode connection to a SQLite file, opened on first use and opened anew after
    :meth:`discard`: a store whose file was full or read-only works again as soon as the file does,
    without a restart (a connection opened while the file was read-only stays read-only)."""

    def __init__(self, path: Path, *, synchronous: str) -> None:
        self.path = path
        self.synchronous = synchronous
        self._conn: sqlite3.Connection | None = None

    def get(self) -> sqlite3.Connection:
        """The connection, opened now if the last one was discarded (or none was ever opened)."""
        if self._conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(f"PRAGMA synchronous={self.synchronous}")
                conn.execute("PRAGMA busy_timeout=0")  # writers wait in begin_immediate instead
            except sqlite3.Error:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def discard(self) -> None:
        """Close a connection that failed; the next :meth:`get` opens a new one."""
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
