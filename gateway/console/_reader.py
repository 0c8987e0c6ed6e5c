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
#: The kinds of the operator actions' records.
AUDIT_KINDS = ("console.suspend", "console.reinstate", "console.export", "console.verify", "console.signin",
               "console.signout")
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
    #: Ends a subquery the planner must run as written (by the primary key's range), not merge into the outer
    #: query and walk another index for.
    fence = " LIMIT -1 OFFSET 0"

    def field(self, column: str, name: str) -> str:
        return f"json_extract({column}, '$.{name}')"


class _Postgres(_Dialect):
    placeholder = "%s"
    fence = " OFFSET 0"

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
                # no server-side prepared statements: a generic plan of "kind = $1" cannot tell the rare
                # console.* kinds from the one kind of almost every record, and walks the whole table for them
                pg = psycopg.connect(self._dsn, autocommit=True, connect_timeout=5, prepare_threshold=None)
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
        """Conditions limiting records to one operator's registry and/or one counterpart (one OR)."""
        branches = self._sides(registry, counterpart)
        if len(branches) == 1:
            return ([branches[0][0]] if branches[0][0] else []), list(branches[0][1])
        return [f"(({branches[0][0]}) OR ({branches[1][0]}))"], [*branches[0][1], *branches[1][1]]

    def _sides(self, registry: str | None, counterpart: str | None) -> list[tuple[str, list[Any]]]:
        """The same limits as branches a query can take each through one index ((sender, seq) or (receiver,
        seq)), newest first: the records sent, and those received."""
        p = self.placeholder
        if counterpart == registry:  # an operator's own registry is on one side of everything it sees
            counterpart = None
        if registry and counterpart:
            return [(f"sender = {p} AND receiver = {p}", [registry, counterpart]),
                    (f"sender = {p} AND receiver = {p}", [counterpart, registry])]
        one = registry or counterpart
        if one:
            return [(f"sender = {p}", [one]), (f"receiver = {p}", [one])]
        return [("", [])]

    @property
    def placeholder(self) -> str:
        return self.dialect.placeholder

    def messages_sql(self, wanted: MessageFilter, registry: str | None, before: int | None,
                     limit: int) -> tuple[str, tuple[Any, ...]]:
        """The messages page's query: newest first, keyset-paged on ``seq``. Limited to one registry or
        counterpart, it is two index walks (sent, received) merged, so its cost follows the page, not the log."""
        p = self.placeholder
        outcome = self.dialect.field("verdicts", "outcome")
        where: list[str] = [f"kind NOT LIKE {p}"]
        params: list[Any] = [_AUDIT_LIKE]
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
        columns = f"seq, ts, kind, sender, receiver, message_id, {outcome}, {code}"
        selects, values = [], []
        for side, side_params in self._sides(registry, wanted.counterpart):
            conditions = ([side] if side else []) + where
            selects.append(f"SELECT {columns} FROM {self.table} WHERE {' AND '.join(conditions)} "
                           f"ORDER BY seq DESC LIMIT {int(limit)}")
            values += [*side_params, *params]
        if len(selects) == 1:
            return selects[0], tuple(values)
        merged = " UNION ALL ".join(f"SELECT * FROM ({select}) AS side{i}" for i, select in enumerate(selects))
        return f"{merged} ORDER BY 1 DESC LIMIT {int(limit)}", tuple(values)

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
        scope, scope_params = self._scope(registry, None)
        window = (f"SELECT ts, verdicts, sender, receiver FROM {self.table} WHERE seq > {p} AND ts >= {p} "
                  f"AND kind NOT LIKE {p}{self.dialect.fence}")
        sql = (f"SELECT substr(ts, 1, 10), {field('verdicts', 'outcome')}, sender, receiver, "
               f"CASE WHEN ts >= {p} THEN 1 ELSE 0 END, count(*) FROM ({window}) AS w "
               f"{'WHERE ' + scope[0] if scope else ''} GROUP BY 1, 2, 3, 4, 5")
        return sql, (recent, max(0, head - records), since, _AUDIT_LIKE, *scope_params)  # in textual order

    def window(self, registry: str | None, records: int, since: str, recent: str) -> list[WindowRow]:
        rows = self.query(*self.window_sql(registry, records, since, recent))
        return [WindowRow(r[0], str(r[1] or "-"), r[2], r[3], bool(r[4]), int(r[5])) for r in rows]

    def receipt_times(self, registry: str | None, records: int, since: str, limit: int) -> list[tuple[str, str]]:
        """``(received_at, answered_at)`` of the latest ``limit`` receipts in the plots' window. The receipts
        are parsed here (orjson) rather than by the database: a receipt is a few kilobytes of JSON."""
        p = self.placeholder
        head, _, _ = self.head()
        scope, scope_params = self._scope(registry, None)
        window = (f"SELECT seq, receipt, sender, receiver FROM {self.table} WHERE seq > {p} AND ts >= {p} "
                  f"AND receipt IS NOT NULL{self.dialect.fence}")
        rows = self.query(f"SELECT receipt FROM ({window}) AS w {'WHERE ' + scope[0] if scope else ''} "
                          f"ORDER BY seq DESC LIMIT {int(limit)}",
                          (max(0, head - records), since, *scope_params))
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
        """The latest operator actions (records of the kinds in :data:`AUDIT_KINDS`, or of ``kind``), newest
        first: one walk of the (kind, seq) index per kind, merged."""
        p = self.placeholder
        kinds = [kind] if kind else list(AUDIT_KINDS)
        selects = [f"SELECT * FROM (SELECT {', '.join(COLUMNS)} FROM {self.table} WHERE kind = {p} "
                   f"ORDER BY seq DESC LIMIT {int(limit)}) AS k{i}" for i in range(len(kinds))]
        rows = self.query(f"{' UNION ALL '.join(selects)} ORDER BY 1 DESC LIMIT {int(limit)}", tuple(kinds))
        return [record_from_row(r, orjson.loads) for r in rows]

    def faults(self, registry: str | None, limit: int) -> list[MessageRow]:
        return self.messages(MessageFilter(outcome="fault"), registry, None, limit)


def ensure_indexes(url: str, table: str) -> None:
    """Indexes the console's queries use (by kind, sender and receiver, each with ``seq``): created once, if
    missing, on the record table (and on PostgreSQL the table's statistics, if it has none). They change no
    record and no hash; the append-only triggers stay."""
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
        # The plans need the table's statistics (a filter on kind and counterpart walks one index or another by
        # them); autovacuum keeps them, but a table it never analyzed (autovacuum off) has none: take them once.
        never = pg.execute("SELECT last_analyze IS NULL AND last_autoanalyze IS NULL FROM pg_stat_user_tables "
                           "WHERE relname = %s", (table,)).fetchone()
        if never and never[0]:
            pg.execute(f"ANALYZE {table}")
