"""The sandbox's SQLite file: holdings, answered messages, the journal, seen token ids, its key.

Every change happens in one ``BEGIN IMMEDIATE`` transaction under a process lock: a message's
effect on the holdings, its journal lines and its stored answer are written together or not at
all, so a retry after a crash either finds the answer or finds nothing done.
"""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.sandbox.errors import AlreadySettled, MessageIdReused, NoPendingDebit, SandboxConfigError, SeedError
from gateway.sandbox.ledger import Plan, Step, release
from gateway.sandbox.notices import NoticeRecord
from gateway.sandbox.units import HELD, PENDING, Block, Units, merge_all

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, series TEXT NOT NULL,
    first INTEGER NOT NULL, last INTEGER NOT NULL, vintage INTEGER, account TEXT NOT NULL,
    status TEXT NOT NULL, ref TEXT, template TEXT NOT NULL DEFAULT '',
    CHECK (first <= last), CHECK (status IN ('held', 'pending')));
CREATE INDEX IF NOT EXISTS blocks_series ON blocks (series, first);
CREATE INDEX IF NOT EXISTS blocks_ref ON blocks (ref);
CREATE TABLE IF NOT EXISTS messages (
    sender TEXT NOT NULL, message_id TEXT NOT NULL, digest TEXT NOT NULL, status INTEGER NOT NULL,
    answer BLOB NOT NULL, answered_at TEXT NOT NULL, PRIMARY KEY (sender, message_id));
CREATE TABLE IF NOT EXISTS journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, sender TEXT NOT NULL, message_id TEXT NOT NULL,
    action INTEGER, type TEXT, direction TEXT NOT NULL, units TEXT NOT NULL, quantity INTEGER NOT NULL,
    account TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS settlements (
    message_id TEXT PRIMARY KEY, outcome TEXT NOT NULL, receipt TEXT NOT NULL, answer BLOB NOT NULL,
    settled_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS notices (
    sender TEXT NOT NULL, message_id TEXT NOT NULL, kind TEXT NOT NULL, notice_type TEXT NOT NULL,
    transaction_status INTEGER NOT NULL, ref_sender TEXT NOT NULL, ref_message_id TEXT NOT NULL,
    body BLOB NOT NULL, received_at TEXT NOT NULL, PRIMARY KEY (sender, message_id));
CREATE INDEX IF NOT EXISTS notices_ref ON notices (ref_sender, ref_message_id);
CREATE TABLE IF NOT EXISTS seen_jti (jti TEXT PRIMARY KEY, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS projects (project_id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS mrv_documents (kind TEXT NOT NULL, digest TEXT NOT NULL, sender TEXT NOT NULL,
    message_id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (kind, digest));
CREATE TABLE IF NOT EXISTS mrv_serials (series TEXT PRIMARY KEY, next INTEGER NOT NULL);
"""

#: ``sender`` under which the sandbox's own outgoing reservations are deduplicated.
OUTGOING = "@outgoing"

Loader = Callable[[Iterable[str]], list[Block]]


@dataclass(frozen=True, slots=True)
class Decision:
    """An answer to store: HTTP status, exact body bytes, and the plan to apply (or the notice to
    record) when accepted."""

    status: int
    body: bytes
    plan: Plan | None = None
    notice: NoticeRecord | None = None
    notice_body: bytes = b""


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    status: int
    body: bytes
    replayed: bool


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SandboxStore:
    """One SQLite file; safe to share between the server's worker threads."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise SandboxConfigError(f"cannot open the sandbox database {self.path}: {exc}") from exc
        self._lock = threading.Lock()
        self._next_prune = 0.0

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- meta ---------------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def meta_default(self, key: str, make: Callable[[], str]) -> str:
        """The stored value of ``key``, created with ``make()`` the first time (atomically)."""
        with self.transaction() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            if row is not None:
                return str(row[0])
            value = make()
            db.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, value))
            return value

    # -- holdings -----------------------------------------------------------------------------

    @staticmethod
    def _rows(db: sqlite3.Connection, where: str = "", args: Sequence[Any] = ()) -> list[Block]:
        rows = db.execute("SELECT kind, series, first, last, vintage, account, status, ref, template FROM blocks "
                          f"{where} ORDER BY series, first", tuple(args)).fetchall()
        return [Block(*row) for row in rows]

    def holdings(self) -> list[Block]:
        with self._lock:
            return self._rows(self._db)

    @staticmethod
    def _loader(db: sqlite3.Connection) -> Loader:
        def load(series: Iterable[str]) -> list[Block]:
            wanted = sorted(set(series))
            marks = ",".join("?" * len(wanted))
            return SandboxStore._rows(db, f"WHERE series IN ({marks})", wanted) if wanted else []
        return load

    @staticmethod
    def _replace(db: sqlite3.Connection, series: Iterable[str], blocks: Iterable[Block]) -> None:
        wanted = sorted(set(series))
        if wanted:
            db.execute(f"DELETE FROM blocks WHERE series IN ({','.join('?' * len(wanted))})", wanted)
        db.executemany("INSERT INTO blocks (kind, series, first, last, vintage, account, status, ref, template) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [(b.kind, b.series, b.first, b.last, b.vintage, b.account, b.status, b.ref, b.template)
                        for b in blocks])

    @staticmethod
    def _journal(db: sqlite3.Connection, sender: str, message_id: str, steps: Iterable[Step], at: str) -> None:
        db.executemany("INSERT INTO journal (at, sender, message_id, action, type, direction, units, quantity, "
                       "account) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [(at, sender, message_id, s.action, s.action_type, s.direction, s.units, s.quantity, s.account)
                        for s in steps])

    def seed(self, entries: Sequence[tuple[Units, str | None]], *, default_account: str, source: str) -> int:
        """Add seed blocks; a source already applied (same digest) is skipped. Returns blocks added."""
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM meta WHERE key = ?", (f"seed:{source}",)).fetchone():
                return 0
            load = self._loader(db)
            series = {u.series for u, _ in entries}
            working = load(series)
            for units, account in entries:
                clash = [b for b in working if b.overlaps(units)]
                if clash:
                    raise SeedError(f"seed block {units.label()} overlaps {clash[0].label()} already held")
                working.append(Block.of(units, account or default_account))
            self._replace(db, series, merge_all(working))
            steps = [Step(-1, "Seed", "credit", u.label(), u.quantity, a or default_account) for u, a in entries]
            self._journal(db, "@seed", source, steps, now_iso())
            db.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (f"seed:{source}", now_iso()))
            return len(entries)

    # -- messages -----------------------------------------------------------------------------

    def answered(self, sender: str, message_id: str) -> tuple[str, int, bytes] | None:
        """``(digest, status, answer)`` of a message already answered."""
        with self._lock:
            row = self._db.execute("SELECT digest, status, answer FROM messages WHERE sender = ? AND message_id = ?",
                                   (sender, message_id)).fetchone()
        return None if row is None else (str(row[0]), int(row[1]), bytes(row[2]))

    def apply_message(self, sender: str, message_id: str, digest: str,
                      decide: Callable[[Loader], Decision]) -> StoredAnswer:
        """Answer a message exactly once: a stored answer is returned again for the same body, a
        different body under a used id is refused, otherwise ``decide`` runs and its plan, journal
        lines and answer are written in one transaction."""
        return self.apply_with_connection(sender, message_id, digest, lambda db: decide(self._loader(db)))

    def loader(self, db: sqlite3.Connection) -> Loader:
        """The block loader of an open transaction (:meth:`apply_with_connection`)."""
        return self._loader(db)

    def apply_with_connection(self, sender: str, message_id: str, digest: str,
                              decide: Callable[[sqlite3.Connection], Decision]) -> StoredAnswer:
        """:meth:`apply_message` whose ``decide`` reads (and writes its own tables) on the transaction's connection
        (the MRV documents, :mod:`gateway.sandbox.mrv`)."""
        with self.transaction() as db:
            row = db.execute("SELECT digest, status, answer FROM messages WHERE sender = ? AND message_id = ?",
                             (sender, message_id)).fetchone()
            if row is not None:
                if row[0] != digest:
                    raise MessageIdReused(f"message id {message_id!r} was already used with a different body")
                return StoredAnswer(int(row[1]), bytes(row[2]), replayed=True)
            decision = decide(db)
            at = now_iso()
            plan = decision.plan
            if plan is not None and plan.accepted:
                self._replace(db, plan.series, plan.after)
                self._journal(db, sender, message_id, plan.steps, at)
            notice = decision.notice
            if notice is not None and decision.status == 200:
                db.execute("INSERT INTO notices (sender, message_id, kind, notice_type, transaction_status, "
                           "ref_sender, ref_message_id, body, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           (sender, message_id, notice.kind, notice.notice_type, notice.transaction_status,
                            notice.ref_sender, notice.ref_message_id, decision.notice_body, at))
            db.execute("INSERT INTO messages (sender, message_id, digest, status, answer, answered_at) "
                       "VALUES (?, ?, ?, ?, ?, ?)", (sender, message_id, digest, decision.status, decision.body, at))
            return StoredAnswer(decision.status, decision.body, replayed=False)

    def settle(self, message_id: str, *, confirm: bool, receipt: str,
               answer: Callable[[list[Block]], bytes]) -> StoredAnswer:
        """Confirm (debit for good) or release (back to held) the pending debit of ``message_id``.

        Settling is idempotent: the same settlement again returns the stored answer; the opposite
        one is refused (:class:`AlreadySettled`)."""
        outcome = "debited" if confirm else "released"
        with self.transaction() as db:
            done = db.execute("SELECT outcome, answer FROM settlements WHERE message_id = ?", (message_id,)).fetchone()
            if done is not None:
                if done[0] != outcome:
                    raise AlreadySettled(f"the outgoing debit of message {message_id!r} was already {done[0]}")
                return StoredAnswer(200, bytes(done[1]), replayed=True)
            pending = self._rows(db, "WHERE status = ? AND ref = ?", (PENDING, message_id))
            if not pending:
                raise NoPendingDebit(f"no pending outgoing debit for message {message_id!r}")
            at = now_iso()
            if confirm:
                db.execute("DELETE FROM blocks WHERE status = ? AND ref = ?", (PENDING, message_id))
            else:
                series = {b.series for b in pending}
                others = [b for b in self._loader(db)(series) if not (b.status == PENDING and b.ref == message_id)]
                self._replace(db, series, merge_all([*others, *release(pending)]))
            direction = "debit" if confirm else "released"
            steps = [Step(-1, "Transfer", direction, b.label(), b.quantity, b.account) for b in pending]
            self._journal(db, OUTGOING, message_id, steps, at)
            body = answer(pending)
            db.execute("INSERT INTO settlements (message_id, outcome, receipt, answer, settled_at) "
                       "VALUES (?, ?, ?, ?, ?)", (message_id, outcome, receipt, body, at))
            return StoredAnswer(200, body, replayed=False)

    def journal(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT at, sender, message_id, action, type, direction, units, quantity, account "
                                    "FROM journal ORDER BY id").fetchall()
        keys = ("at", "sender", "message_id", "action", "type", "direction", "units", "quantity", "account")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def notices(self) -> list[dict[str, Any]]:
        """Every notice received, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT sender, message_id, kind, notice_type, transaction_status, ref_sender, "
                                    "ref_message_id, received_at FROM notices ORDER BY received_at, rowid").fetchall()
        return [{**NoticeRecord(kind, notice_type, int(status), ref_sender, ref_id).as_dict(), "sender": sender,
                 "message_id": message_id, "received_at": at}
                for sender, message_id, kind, notice_type, status, ref_sender, ref_id, at in rows]

    # -- read side (gateway/sandbox/listing.py) ------------------------------------------------

    def blocks_after(self, after: tuple[str, int] | None, limit: int) -> list[Block]:
        """Held and pending blocks in (series, first) order, after ``after``."""
        where, args = ("WHERE series > ? OR (series = ? AND first > ?)", (after[0], after[0], after[1])) if after \
            else ("", ())
        rows = self._query(f"SELECT kind, series, first, last, vintage, account, status, ref, template FROM blocks "
                           f"{where} ORDER BY series, first LIMIT ?", (*args, limit))
        return [Block(*row) for row in rows]

    def journal_after(self, after: int, limit: int, where: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """``(id, at, sender, message_id, type, direction, units, quantity, account)`` journal rows after id ``after``
        matching ``where`` (a fixed SQL condition of the caller), oldest first."""
        return self._query("SELECT id, at, sender, message_id, type, direction, units, quantity, account FROM journal "
                           f"WHERE id > ? AND ({where}) ORDER BY id LIMIT ?", (after, *args, limit))

    def projects_after(self, after: str, limit: int) -> list[str]:
        """Project documents (JSON text) in project id order, after ``after``."""
        return [str(r[0]) for r in self._query("SELECT doc FROM projects WHERE project_id > ? ORDER BY project_id "
                                               "LIMIT ?", (after, limit))]

    def put_projects(self, projects: Iterable[tuple[str, str]]) -> None:
        """Add or replace projects (``(project_id, JSON document)``)."""
        with self.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO projects (project_id, doc) VALUES (?, ?)", list(projects))

    def import_blocks(self, blocks: Iterable[Block]) -> int:
        """Bulk-load held blocks that overlap nothing already held (benchmarks, large seeds): the overlap
        check is one sorted pass per series instead of the seed's pairwise one."""
        rows = sorted(blocks, key=lambda b: (b.series, b.first))
        for before, after in itertools.pairwise(rows):
            if before.series == after.series and after.first <= before.last:
                raise SeedError(f"block {after.label()} overlaps {before.label()}")
        with self.transaction() as db:
            for block in rows[:1] + [b for i, b in enumerate(rows[1:]) if b.series != rows[i].series]:
                clash = db.execute("SELECT 1 FROM blocks WHERE series = ? LIMIT 1", (block.series,)).fetchone()
                if clash:
                    raise SeedError(f"series of {block.label()} is already held; import into an empty series")
            db.executemany("INSERT INTO blocks (kind, series, first, last, vintage, account, status, ref, template) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           [(b.kind, b.series, b.first, b.last, b.vintage, b.account, b.status, b.ref, b.template)
                            for b in rows])
        return len(rows)

    def _query(self, sql: str, args: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._db.execute(sql, tuple(args)).fetchall())

    # -- token ids ----------------------------------------------------------------------------

    def first_use(self, jti: str, expires: float) -> bool:
        """Record a gateway token's ``jti``; False when it was seen before and has not expired."""
        now = time.time()
        with self.transaction() as db:
            if now >= self._next_prune:
                db.execute("DELETE FROM seen_jti WHERE expires < ?", (now,))
                self._next_prune = now + 30
            row = db.execute("SELECT expires FROM seen_jti WHERE jti = ?", (jti,)).fetchone()
            if row is not None and float(row[0]) >= now:
                return False
            db.execute("INSERT OR REPLACE INTO seen_jti (jti, expires) VALUES (?, ?)", (jti, expires))
            return True


__all__ = ["HELD", "OUTGOING", "PENDING", "Decision", "SandboxStore", "StoredAnswer"]
