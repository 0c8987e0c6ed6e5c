"""SQLite evidence log (the embedded single-node default).

Appends run in ``BEGIN IMMEDIATE`` transactions, so threads and processes sharing the file
serialize on SQLite's write lock: each reads the head, seals the next record and inserts it
before anyone else may. Triggers refuse UPDATE and DELETE on the record table.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from gateway.evidence.errors import EvidenceConfigError, EvidenceStoreUnavailable
from gateway.evidence.jcs import jcs_bytes
from gateway.evidence.log import COLUMNS, EvidenceLog, check_table_name, record_to_row
from gateway.evidence.record import EvidenceRecord, Exchange
from gateway.evidence.signing import Signer
from gateway.sqlite_writes import begin_immediate


class SqliteEvidenceLog(EvidenceLog):
    def __init__(self, path: str | Path, *, signer: Signer | None = None, table: str = "evidence",
                 synchronous: str = "full", create: bool = True) -> None:
        super().__init__(signer)
        self._table = check_table_name(table)
        if synchronous.lower() not in ("full", "normal", "extra"):
            raise EvidenceConfigError(f"synchronous={synchronous!r}: use full, extra or normal")
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        if not create and not self.path.is_file():
            raise EvidenceConfigError(f"no evidence log at {self.path}", code="EVIDENCE.NOT_FOUND")
        try:
            self._conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
            self._create()
            self._conn.execute("PRAGMA busy_timeout=0")  # appends wait in begin_immediate instead
        except sqlite3.Error as exc:
            raise EvidenceStoreUnavailable(f"cannot open the SQLite evidence log {self.path}: {exc}"
                                           ) from exc

    def _create(self) -> None:
        t = self._table
        self._conn.executescript(f"""
            BEGIN IMMEDIATE;
            CREATE TABLE IF NOT EXISTS {t} (
                seq INTEGER PRIMARY KEY, ts TEXT NOT NULL, kind TEXT NOT NULL, sender TEXT NOT NULL,
                receiver TEXT NOT NULL, message_id TEXT NOT NULL, inbound_sha256 TEXT, outbound_sha256 TEXT,
                receipt TEXT, verdicts TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
                signature TEXT NOT NULL, v INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS {t}_message ON {t} (sender, message_id);
            CREATE TABLE IF NOT EXISTS {t}_keys (kid TEXT PRIMARY KEY, jwk TEXT NOT NULL);
            CREATE TRIGGER IF NOT EXISTS {t}_no_update BEFORE UPDATE ON {t}
                BEGIN SELECT RAISE(ABORT, 'the evidence log is append-only: UPDATE refused'); END;
            CREATE TRIGGER IF NOT EXISTS {t}_no_delete BEFORE DELETE ON {t}
                BEGIN SELECT RAISE(ABORT, 'the evidence log is append-only: DELETE refused'); END;
            COMMIT;
        """)

    def _append_batch(self, exchanges: list[Exchange]) -> list[EvidenceRecord]:
        conn, t = self._conn, self._table
        try:
            begin_immediate(conn)
            try:
                row = conn.execute(f"SELECT seq, hash FROM {t} ORDER BY seq DESC LIMIT 1").fetchone()
                records = self._seal_batch(exchanges, (int(row[0]), str(row[1])) if row else None)
                conn.executemany(f"INSERT INTO {t} ({', '.join(COLUMNS)}) "
                                 f"VALUES ({', '.join('?' * len(COLUMNS))})", map(record_to_row, records))
                self._remember_key(conn)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise EvidenceStoreUnavailable(f"the SQLite evidence log refused the append: {exc}") from exc
        if self._signer is not None:
            self._known_kids.add(self._signer.kid)
        return records

    def _remember_key(self, conn: sqlite3.Connection) -> None:
        assert self._signer is not None
        kid = self._signer.kid
        if kid not in self._known_kids:
            jwk = jcs_bytes(self._signer.public_jwk()).decode("utf-8")
            conn.execute(f"INSERT OR IGNORE INTO {self._table}_keys (kid, jwk) VALUES (?, ?)", (kid, jwk))

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        try:
            with self._lock:
                return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise EvidenceStoreUnavailable(f"cannot read the SQLite evidence log: {exc}") from exc

    def close(self) -> None:
        self._conn.close()
