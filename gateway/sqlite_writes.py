"""Fair write locking for SQLite files shared by several processes (evidence log, idempotency store)."""

from __future__ import annotations

import random
import sqlite3
import time


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
