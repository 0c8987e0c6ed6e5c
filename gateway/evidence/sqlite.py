"""SQLite evidence log (the embedded single-node default).

Appends run in ``BEGIN IMMEDIATE`` transactions, so threads and processes sharing the file
serialize on SQLite's write lock: each reads the head, seals the next record and inserts it
before anyone else may. Triggers refuse UPDATE and DELETE on the record table.

A write that fails (disk full, file made read-only, I/O error) closes the connection; the next
operation opens a new one, so the log works again as soon as the file does, without a restart.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from gateway.evidence.errors import EvidenceConfigError, EvidenceStoreUnavailable
from gateway.evidence.jcs import jcs_bytes
from gateway.evidence.log import COLUMNS, EvidenceLog, _PendingAppend, check_table_name, record_from_row, record_to_row
from gateway.evidence.record import EvidenceRecord
from gateway.evidence.signing import Signer
from gateway.sqlite_writes import ReopeningConnection, begin_immediate


def rollback_quietly(conn: sqlite3.Connection) -> None:
    """Roll back the open transaction, if SQLite has not already (a full disk or an I/O error ends it
    itself; a second ROLLBACK would replace the real error with ``no transaction is active``)."""
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


class SqliteEvidenceLog(EvidenceLog):
    def __init__(self, path: str | Path, *, signer: Signer | None = None, table: str = "evidence",
                 synchronous: str = "full", create: bool = True) -> None:
        super().__init__(signer)
        self._table = check_table_name(table)
        if synchronous.lower() not in ("full", "normal", "extra"):
            raise EvidenceConfigError(f"synchronous={synchronous!r}: use full, extra or normal")
        self._synchronous = synchronous.upper()
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        if not create and not self.path.is_file():
            raise EvidenceConfigError(f"no evidence log at {self.path}", code="EVIDENCE.NOT_FOUND")
        self._db = ReopeningConnection(self.path, synchronous=self._synchronous)
        try:
            conn = self._open()
            self._create(conn)
        except sqlite3.Error as exc:
            self._discard()
            raise EvidenceStoreUnavailable(f"cannot open the SQLite evidence log {self.path}: {exc}"
                                           ) from exc

    def _open(self) -> sqlite3.Connection:
        return self._db.get()

    def _discard(self) -> None:
        self._db.discard()

    def _create(self, conn: sqlite3.Connection) -> None:
        t = self._table
        conn.execute("PRAGMA busy_timeout=30000")
        conn.executescript(f"""
            BEGIN IMMEDIATE;
            CREATE TABLE IF NOT EXISTS {t} (
                seq INTEGER PRIMARY KEY, ts TEXT NOT NULL, kind TEXT NOT NULL, sender TEXT NOT NULL,
                receiver TEXT NOT NULL, message_id TEXT NOT NULL, inbound_sha256 TEXT, outbound_sha256 TEXT,
                receipt TEXT, verdicts TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
                signature TEXT NOT NULL, v INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS {t}_message ON {t} (sender, message_id);
            CREATE TABLE IF NOT EXISTS {t}_keys (kid TEXT PRIMARY KEY, jwk TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS {t}_probe (id INTEGER PRIMARY KEY, at REAL NOT NULL);
            CREATE TRIGGER IF NOT EXISTS {t}_no_update BEFORE UPDATE ON {t}
                BEGIN SELECT RAISE(ABORT, 'the evidence log is append-only: UPDATE refused'); END;
            CREATE TRIGGER IF NOT EXISTS {t}_no_delete BEFORE DELETE ON {t}
                BEGIN SELECT RAISE(ABORT, 'the evidence log is append-only: DELETE refused'); END;
            COMMIT;
        """)
        conn.execute("PRAGMA busy_timeout=0")

    def _append_batch(self, group: list[_PendingAppend]) -> list[EvidenceRecord | None]:
        try:
            return self._append_once(group)
        except EvidenceStoreUnavailable:  # perhaps a connection opened while the file was read-only
            return self._append_once(group)

    def _append_once(self, group: list[_PendingAppend]) -> list[EvidenceRecord | None]:
        t = self._table
        try:
            conn = self._open()
            begin_immediate(conn)
            try:
                row = conn.execute(f"SELECT seq, hash FROM {t} ORDER BY seq DESC LIMIT 1").fetchone()

                def recorded(sender: str, message_id: str) -> EvidenceRecord | None:
                    found = conn.execute(self._receipt_sql(), (sender, message_id)).fetchone()
                    return record_from_row(found, orjson.loads) if found else None

                answers, new = self._seal_batch(group, (int(row[0]), str(row[1])) if row else None, recorded, conn)
                conn.executemany(f"INSERT INTO {t} ({', '.join(COLUMNS)}) "
                                 f"VALUES ({', '.join('?' * len(COLUMNS))})", map(record_to_row, new))
                self._remember_key(conn)
                conn.execute("COMMIT")
            except BaseException:
                rollback_quietly(conn)
                raise
        except sqlite3.Error as exc:
            self._discard()
            raise EvidenceStoreUnavailable(f"the SQLite evidence log refused the append: {exc}") from exc
        if self._signer is not None:
            self._known_kids.add(self._signer.kid)
        return answers

    @contextlib.contextmanager
    def _savepoint(self, conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        conn.execute("SAVEPOINT alongside")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK TO alongside")
            conn.execute("RELEASE alongside")
            raise
        conn.execute("RELEASE alongside")

    def _remember_key(self, conn: sqlite3.Connection) -> None:
        assert self._signer is not None
        kid = self._signer.kid
        if kid not in self._known_kids:
            jwk = jcs_bytes(self._signer.public_jwk()).decode("utf-8")
            conn.execute(f"INSERT OR IGNORE INTO {self._table}_keys (kid, jwk) VALUES (?, ?)", (kid, jwk))

    def probe(self) -> None:
        """Commit a write to the probe table (one row, replaced): it goes through the same file, WAL and
        fsync as an append, so a full disk or a read-only file fails it (tried twice, like an append:
        the second time on a new connection)."""
        with self._lock:
            try:
                self._probe_once()
            except EvidenceStoreUnavailable:
                self._probe_once()

    def _probe_once(self) -> None:
        try:
            conn = self._open()
            begin_immediate(conn, timeout=5.0)
            try:
                conn.execute(f"INSERT OR REPLACE INTO {self._table}_probe (id, at) VALUES (1, ?)",
                             (time.time(),))
                conn.execute("COMMIT")
            except BaseException:
                rollback_quietly(conn)
                raise
        except sqlite3.Error as exc:
            self._discard()
            raise EvidenceStoreUnavailable(f"the SQLite evidence log cannot be written: {exc}") from exc

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        try:
            with self._lock:
                return self._open().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise EvidenceStoreUnavailable(f"cannot read the SQLite evidence log: {exc}") from exc

    def close(self) -> None:
        self._discard()
