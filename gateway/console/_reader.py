"""Reading the evidence log for the console: its own read-only connections and queries, by the record
table's documented columns (docs/evidence.md), so pages never wait on the write path's lock.

One SQL text per question for both backends; only the placeholder and the JSON accessor differ
(SQLite ``json_extract``, PostgreSQL ``::json ->>``). Operator actions are records of kind ``console.*``
in the same chain; the message queries leave them out.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson
import psycopg

from gateway.evidence import EvidenceRecord, EvidenceStoreUnavailable
from gateway.evidence.log import COLUMNS, record_from_row

#: Kinds of the records operator actions leave (``console.suspend``, ``console.export``, ...).
AUDIT_PREFIX = "console."
_AUDIT_LIKE = AUDIT_PREFIX + "%"
#: ``verdicts.outcome`` of the record written before a delivery (gateway/transfers/_recorder.py).
DELIVERING = "delivering"
_POOL_SIZE = 4


@dataclass(frozen=True, slots=True)
class MessageFilter:
    """What the messages page is asked for (each ``None`` when not filtered)."""

    kind: str | None = None
    counterpart: str | None = None
    outcome: str | None = None
    day_from: date | None = None
    day_to: date | None = None


@dataclass(frozen=True, slots=True)
class MessageRow:
    seq: int
    ts: str
    kind: str
    sender: str
    receiver: str
    message_id: str
    outcome: str
    code: str | None


@dataclass(frozen=True, slots=True)
class WindowRow:
    """Records of the plots' window with the same day, outcome, sender, receiver and recency: how many."""

    day: str
    outcome: str
    sender: str
    receiver: str
    recent: bool
    count: int


class _Dialect:
    placeholder = "?"

    def field(self, column: str, name: str) -> str:
        return f"json_extract({column}, '$.{name}')"


class _Postgres(_Dialect):
    placeholder = "%s"

    def field(self, column: str, name: str) -> str:
        return f"({column}::json ->> '{name}')"


class EvidenceReader:
    """Read-only queries on one evidence table (``sqlite:///...`` or ``postgresql://...``, ``?table=``)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._lock = threading.Lock()
        self._pool: list[psycopg.Connection[Any]] = []
        parts = urlsplit(url)
        options = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.table = options.get("table", "evidence")
        if url.startswith("sqlite://"):
            self.dialect: _Dialect = _Dialect()
            path = url[len("sqlite://"):].partition("?")[0]
            self._path: Path | None = Path(path[1:] if path.startswith("/") else path)
            self._dsn = ""
        else:
            self.dialect = _Postgres()
            self._path = None
            keep = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "table"]
            self._dsn = urlunsplit(parts._replace(query=urlencode(keep))).rstrip("?")

    # -- connections --------------------------------------------------------------------------

    @contextlib.contextmanager
    def _connection(self) -> Iterator[Any]:
        if self._path is not None:
            try:
                conn = sqlite3.connect(f"file:{self._path}?mode=ro", uri=True, timeout=5)
            except sqlite3.Error as exc:
                raise EvidenceStoreUnavailable(f"cannot read the evidence log {self._path}: {exc}") from exc
            try:
                yield conn
            finally:
                conn.close()
            return
        with self._lock:
            pg = self._pool.pop() if self._pool else None
        if pg is None or pg.closed or pg.broken:
            try:
                pg = psycopg.connect(self._dsn, autocommit=True, connect_timeout=5)
            except psycopg.Error as exc:
                raise EvidenceStoreUnavailable(f"cannot connect to the PostgreSQL evidence log: {exc}") from exc
        try:
            yield pg
        finally:
            with self._lock:
                if len(self._pool) < _POOL_SIZE and not pg.broken:
                    self._pool.append(pg)
                else:
                    pg.close()

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """Rows of one read (the benchmark runs the same SQL through this and straight on a connection)."""
        try:
            with self._connection() as conn:
                return list(conn.execute(sql, params).fetchall())
        except (sqlite3.Error, psycopg.Error) as exc:
            raise EvidenceStoreUnavailable(f"cannot read the evidence log: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, []
        for conn in pool:
            conn.close()

    # -- SQL ----------------------------------------------------------------------------------

    def _scope(self, registry: str | None, counterpart: str | None) -> tuple[list[str], list[Any]]:
        """Conditions limiting records to one operator's registry and/or one counterpart."""
        p = self.placeholder
        if counterpart == registry:  # an operator's own registry is on one side of everything it sees
            counterpart = None
        if registry and counterpart:
            return ([f"((sender = {p} AND receiver = {p}) OR (sender = {p} AND receiver = {p}))"],
                    [registry, counterpart, counterpart, registry])
        one = registry or counterpart
        if one:
            return [f"(sender = {p} OR receiver = {p})"], [one, one]
        return [], []

    @property
    def placeholder(self) -> str:
        return self.dialect.placeholder

    def messages_sql(self, wanted: MessageFilter, registry: str | None, before: int | None,
                     limit: int) -> tuple[str, tuple[Any, ...]]:
        """The messages page's query: newest first, keyset-paged on ``seq``."""
        p = self.placeholder
        outcome = self.dialect.field("verdicts", "outcome")
        where, params = self._scope(registry, wanted.counterpart)
        where.append(f"kind NOT LIKE {p}")
        params.append(_AUDIT_LIKE)
        if wanted.kind:
            where.append(f"kind = {p}")
            params.append(wanted.kind)
        if wanted.outcome:
            where.append(f"{outcome} = {p}")
            params.append(wanted.outcome)
        else:  # a delivery's intent is closed by its receipt or fault: one row per message unless asked
            where.append(f"{outcome} <> {p}")
            params.append(DELIVERING)
        if wanted.day_from:
            where.append(f"ts >= {p}")
            params.append(wanted.day_from.isoformat())
        if wanted.day_to:
            where.append(f"ts < {p}")
            params.append((wanted.day_to + timedelta(days=1)).isoformat())
        if before is not None:
            where.append(f"seq < {p}")
            params.append(before)
        code = f"COALESCE({self.dialect.field('verdicts', 'code')}, {self.dialect.field('verdicts', 'receiver_code')})"
        sql = (f"SELECT seq, ts, kind, sender, receiver, message_id, {outcome}, {code} "
               f"FROM {self.table} WHERE {' AND '.join(where)} "
               f"ORDER BY seq DESC LIMIT {int(limit)}")
        return sql, tuple(params)

    def messages(self, wanted: MessageFilter, registry: str | None, before: int | None,
                 limit: int) -> list[MessageRow]:
        rows = self.query(*self.messages_sql(wanted, registry, before, limit))
        return [MessageRow(int(r[0]), r[1], r[2], r[3], r[4], r[5], str(r[6] or "-"), r[7]) for r in rows]

    def head(self) -> tuple[int, str | None, str | None]:
        """``(seq, hash, ts)`` of the last record (``(0, None, None)`` for an empty log)."""
        rows = self.query(f"SELECT seq, hash, ts FROM {self.table} ORDER BY seq DESC LIMIT 1")
        return (int(rows[0][0]), rows[0][1], rows[0][2]) if rows else (0, None, None)

    def first_ts(self) -> str | None:
        rows = self.query(f"SELECT ts FROM {self.table} ORDER BY seq LIMIT 1")
        return str(rows[0][0]) if rows else None

    def record(self, seq: int) -> EvidenceRecord | None:
        p = self.placeholder
        rows = self.query(f"SELECT {', '.join(COLUMNS)} FROM {self.table} WHERE seq = {p}", (seq,))
        return record_from_row(rows[0], orjson.loads) if rows else None

    def message_records(self, sender: str, message_id: str) -> list[EvidenceRecord]:
        p = self.placeholder
        rows = self.query(f"SELECT {', '.join(COLUMNS)} FROM {self.table} WHERE sender = {p} AND message_id = {p} "
                          "ORDER BY seq", (sender, message_id))
        return [record_from_row(r, orjson.loads) for r in rows]

    def next_hash(self, seq: int) -> tuple[int, str] | None:
        """The record after ``seq`` (its ``prev_hash`` links back), if there is one."""
        p = self.placeholder
        rows = self.query(f"SELECT seq, prev_hash FROM {self.table} WHERE seq = {p}", (seq + 1,))
        return (int(rows[0][0]), str(rows[0][1])) if rows else None

    def window_sql(self, registry: str | None, records: int, since: str, recent: str) -> tuple[str, tuple[Any, ...]]:
        """The plots' window counted by the database: the latest ``records`` records (by ``seq``, the primary key)
        made since ``since``, grouped by day, outcome, both sides and whether they are later than ``recent``."""
        p = self.placeholder
        head, _, _ = self.head()
        field = self.dialect.field
        where, params = self._scope(registry, None)
        where += [f"seq > {p}", f"ts >= {p}", f"kind NOT LIKE {p}"]
        params = [recent, *params, max(0, head - records), since, _AUDIT_LIKE]
        sql = (f"SELECT substr(ts, 1, 10), {field('verdicts', 'outcome')}, sender, receiver, "
               f"CASE WHEN ts >= {p} THEN 1 ELSE 0 END, count(*) FROM {self.table} WHERE {' AND '.join(where)} "
               "GROUP BY 1, 2, 3, 4, 5")
        return sql, tuple(params)

    def window(self, registry: str | None, records: int, since: str, recent: str) -> list[WindowRow]:
        rows = self.query(*self.window_sql(registry, records, since, recent))
        return [WindowRow(r[0], str(r[1] or "-"), r[2], r[3], bool(r[4]), int(r[5])) for r in rows]

    def receipt_times(self, registry: str | None, records: int, since: str, limit: int) -> list[tuple[str, str]]:
        """``(received_at, answered_at)`` of the latest ``limit`` receipts in the plots' window. The receipts
        are parsed here (orjson) rather than by the database: a receipt is a few kilobytes of JSON."""
        p = self.placeholder
        head, _, _ = self.head()
        where, params = self._scope(registry, None)
        where += [f"seq > {p}", f"ts >= {p}", "receipt IS NOT NULL"]
        params += [max(0, head - records), since]
        rows = self.query(f"SELECT receipt FROM {self.table} WHERE {' AND '.join(where)} "
                          f"ORDER BY seq DESC LIMIT {int(limit)}", tuple(params))
        times = []
        for (text,) in rows:
            try:
                receipt = orjson.loads(text)
            except ValueError:
                continue
            received, answered = receipt.get("received_at"), receipt.get("answered_at")
            if isinstance(received, str) and isinstance(answered, str):
                times.append((received, answered))
        return times

    def audit(self, limit: int, kind: str | None = None) -> list[EvidenceRecord]:
        """The latest operator actions (records of kind ``console.*``, or exactly ``kind``), newest first."""
        p = self.placeholder
        # a range on kind, not LIKE: both backends walk the (kind, seq) index for it
        condition, values = ((f"kind = {p}", (kind,)) if kind else
                             (f"kind >= {p} AND kind < {p}", (AUDIT_PREFIX, AUDIT_PREFIX[:-1] + "/")))
        rows = self.query(f"SELECT {', '.join(COLUMNS)} FROM {self.table} WHERE {condition} "
                          f"ORDER BY seq DESC LIMIT {int(limit)}", values)
        return [record_from_row(r, orjson.loads) for r in rows]

    def faults(self, registry: str | None, limit: int) -> list[MessageRow]:
        return self.messages(MessageFilter(outcome="fault"), registry, None, limit)


def ensure_indexes(url: str, table: str) -> None:
    """Indexes the console's queries use (by kind, sender and receiver, each with ``seq``): created once, if
    missing, on the record table. They change no record and no hash; the append-only triggers stay."""
    statements = [f"CREATE INDEX IF NOT EXISTS {table}_{column}_seq ON {table} ({column}, seq)"
                  for column in ("kind", "sender", "receiver")]
    if url.startswith("sqlite://"):
        path = url[len("sqlite://"):].partition("?")[0]
        conn = sqlite3.connect(path[1:] if path.startswith("/") else path, timeout=30)
        try:
            for statement in statements:
                conn.execute(statement)
            conn.commit()
        finally:
            conn.close()
        return
    parts = urlsplit(url)
    keep = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "table"]
    with psycopg.connect(urlunsplit(parts._replace(query=urlencode(keep))).rstrip("?"), autocommit=True,
                         connect_timeout=5) as pg:
        for statement in statements:  # CONCURRENTLY: appends go on while a large table is indexed
            pg.execute(statement.replace("CREATE INDEX", "CREATE INDEX CONCURRENTLY", 1))
