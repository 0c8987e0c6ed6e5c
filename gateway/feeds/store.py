"""The harmonized view: every source registry's canonical records, keyed, in one SQLite file or PostgreSQL
database (:mod:`gateway.feeds.sql`; PostgreSQL when gateway processes on several hosts share the view).

One row per (kind, natural key, source) and generation: the canonical record as JSON and the columns the
feeds filter on. A source is replaced as a whole (a pull or a pushed snapshot) by
:class:`~gateway.feeds.replace.Replacement`: in bounded transactions, published at once, so readers see the
previous pull or the new one and never half of it. Rows whose content changed get the source's next
*sequence* number and a line in the change log, rows the source no longer lists are retired (also logged).
A failed pull leaves the previous rows in place and marks the source failed; the feeds then leave it out
and say so.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.feeds.replace import Replacement
from gateway.feeds.sql import Connection, Database

#: rows a replacement changes before SQLite's write-ahead log is checkpointed and truncated after it
_CHECKPOINT_AFTER = 10_000
_COLUMNS = ("kind, nkey, source, party, vintage, status, action_type, year, series, first, last, body, updated_at, "
            "rendered")


def visible(db: Connection, sources: Sequence[str]) -> tuple[str, list[Any]]:
    """The condition for rows of ``sources`` readers may see, read inside the caller's snapshot: each source's
    rows of its published generation (:mod:`gateway.feeds.replace`). A source never published shows nothing."""
    if not sources:
        return "0 = 1", []
    marks = ",".join("?" * len(sources))
    published = dict(db.execute(f"SELECT source, gen FROM feed_sources WHERE source IN ({marks})",
                                tuple(sources)).fetchall())
    clauses, args = [], []
    for source in sources:
        gen = int(published.get(source, 0))
        clauses.append("(source = ? AND gen <= ? AND gen_end > ?)")
        args += [source, gen, gen]
    return "(" + " OR ".join(clauses) + ")", args


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class SourceState:
    """What the view knows of one source registry."""

    source: str
    party: str | None
    mode: str
    gen: int
    seq: int
    attempted_at: str | None
    ok_at: str | None
    error_code: str | None
    error_detail: str | None
    records: int

    @property
    def failed(self) -> bool:
        return self.error_code is not None


@dataclass(frozen=True, slots=True)
class Row:
    kind: str
    key: str
    source: str
    party: str | None
    vintage: int | None
    status: str | None
    action_type: str | None
    year: int | None
    series: str | None
    first: int | None
    last: int | None
    body: bytes
    updated_at: str
    #: the record in each standard's shape, made when it was stored (:func:`gateway.feeds.render.prerender`)
    rendered: bytes


@dataclass(frozen=True, slots=True)
class Change:
    source: str
    seq: int
    kind: str
    key: str
    op: str
    body: bytes | None
    at: str


@dataclass(frozen=True)
class Query:
    """Row filters; ``None`` means any. Filters apply to each source's row."""

    kind: str
    sources: tuple[str, ...]
    parties: tuple[str, ...] | None = None
    vintages: tuple[int, ...] | None = None
    statuses: tuple[str, ...] | None = None
    action_types: tuple[str, ...] | None = None
    year: int | None = None
    updated_since: str | None = None
    after: str | None = None
    #: rows of this year or later (the AEF's year-end holdings undo the actions after the year)
    since_year: int | None = None

    def sql(self, db: Connection | None = None) -> tuple[str, list[Any]]:
        """The WHERE clause and its arguments; with ``db`` (inside a read snapshot) only published rows."""
        where: list[str] = ["kind = ?"]
        args: list[Any] = [self.kind]
        if db is not None:
            clause, more = visible(db, self.sources)
            where.append(clause)
            args += more
        columns: list[tuple[str, Sequence[Any] | None]] = [
            ("source", self.sources), ("party", self.parties), ("vintage", self.vintages),
            ("status", self.statuses), ("action_type", self.action_types)]
        for column, values in columns:
            if values is not None:
                where.append(f"{column} IN ({','.join('?' * len(values))})" if values else "0")
                args += list(values)
        for clause, value in (("year = ?", self.year), ("updated_at >= ?", self.updated_since),
                              ("nkey > ?", self.after), ("year >= ?", self.since_year)):
            if value is not None:
                where.append(clause)
                args.append(value)
        return " AND ".join(where), args


def _select(head: str, where: tuple[str, list[Any]], tail: str) -> tuple[str, list[Any]]:
    return f"{head} WHERE {where[0]} {tail}", where[1]


class FeedStore:
    """The view's store: one writer connection (under a lock), a fresh reader per read. ``target`` is a SQLite
    path (or ``sqlite:///path``) or a ``postgresql://`` DSN; ``prefix`` names the tables (``feed_`` by default)."""

    def __init__(self, target: Path | str, *, prefix: str = "feed_") -> None:
        self.database = Database(target, prefix=prefix)
        self.where = self.database.where
        self._db = self.database.connect()
        self.database.create(self._db)
        self.database.create_session(self._db)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _writer(self) -> Connection:
        raw = self._db.raw
        if self.database.postgres and (raw.closed or raw.broken):  # type: ignore[union-attr]
            self._db = self.database.connect()
            self.database.create_session(self._db)
        return self._db

    @contextlib.contextmanager
    def replacing(self, source: str, party: str | None, mode: str) -> Iterator[Replacement]:
        """Replace everything ``source`` holds: written in bounded transactions, visible at once when the
        context ends (:mod:`gateway.feeds.replace`); any exception leaves the previous rows published and
        removes what this replacement wrote. Replacements of one source take turns in every process sharing
        the store, so its sequence has no gaps or repeats."""
        replacement = Replacement(self.database, source, party, mode, now_iso())
        try:
            yield replacement
            replacement.finish()
        except BaseException:
            with contextlib.suppress(Exception):
                replacement.abandon()
            replacement.close()
            raise
        replacement.close()
        if replacement.changed >= _CHECKPOINT_AFTER:
            with self._lock:
                self.database.checkpoint(self._writer())

    def record_failure(self, source: str, party: str | None, mode: str, code: str, detail: str) -> None:
        with self._lock:
            db = self._writer()
            db.execute("INSERT INTO feed_sources (source, party, mode) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                       (source, party, mode))
            db.execute("UPDATE feed_sources SET attempted_at = ?, error_code = ?, error_detail = ? "
                             "WHERE source = ?", (now_iso(), code, detail[:500], source))

    def sources(self) -> dict[str, SourceState]:
        with self._reader() as db:
            rows = db.execute("SELECT source, party, mode, gen, seq, attempted_at, ok_at, error_code, error_detail, "
                              "records FROM feed_sources").fetchall()
        return {row[0]: SourceState(*row) for row in rows}

    def _reader(self) -> contextlib.AbstractContextManager[Connection]:
        return self.database.session()

    def rows(self, query: Query, batch: int = 2000) -> Iterator[Row]:
        """Rows matching ``query`` in key order (then source), read in batches from one snapshot."""
        with self._reader() as db:
            for row in db.stream(lambda c: _select(f"SELECT {_COLUMNS} FROM feed_records", query.sql(c),
                                                   "ORDER BY nkey, source"), batch):
                yield Row(*row)

    def row_chunks(self, query: Query, batch: int = 2000) -> Iterator[list[tuple[Any, ...]]]:
        """Like :meth:`rows`, as lists of plain ``(nkey, source, updated_at, rendered, body)`` tuples (the NDJSON
        stream's input: no object per row, no column it does not write)."""
        with self._reader() as db:
            yield from db.chunks(lambda c: _select("SELECT nkey, source, updated_at, rendered, body FROM feed_records",
                                                   query.sql(c), "ORDER BY nkey, source"), batch)

    def sweep_rows(self, kind: str, sources: Iterable[str], *, action_type: str | None = None, batch: int = 5000
                   ) -> Iterator[tuple[Any, ...]]:
        """``(series, first, last, source, nkey, status)`` of ``kind`` rows with an identity, in key order
        (for units and for one action type that is (series, first) order): the double-counting sweep's input."""
        names = tuple(sources)
        extra, args = (" AND action_type = ?", [action_type]) if action_type else ("", [])

        def statement(db: Connection) -> tuple[str, list[Any]]:
            clause, shown = visible(db, names)
            return ("SELECT series, first, last, source, nkey, status FROM feed_records WHERE kind = ? AND "
                    f"series IS NOT NULL AND {clause}{extra} ORDER BY nkey", [kind, *shown, *args])

        with self._reader() as db:
            yield from db.stream(statement, batch)

    def bodies(self, kind: str, sources: Iterable[str]) -> Iterator[tuple[str, str, bytes]]:
        """``(source, nkey, body)`` of every ``kind`` row of ``sources``."""
        names = tuple(sources)
        with self._reader() as db:
            yield from db.stream(lambda c: _select("SELECT source, nkey, body FROM feed_records",
                                                   Query(kind, names).sql(c), "ORDER BY nkey, source"), 2000)

    def floors(self) -> dict[str, int]:
        """Per source, the highest sequence compaction removed (:mod:`gateway.feeds.compaction`)."""
        with self._reader() as db:
            return {source: int(floor) for source, floor in db.execute("SELECT source, floor FROM feed_compactions")
                    .fetchall()}

    def compact(self, before: str, keep_last: int, batch: int = 20_000) -> dict[str, int]:
        """Remove each source's changes logged before ``before`` except its last ``keep_last``: raise its floor
        first (one small transaction), then delete in batches. The sources whose floor rose, with the floor."""
        raised: dict[str, int] = {}
        floors = self.floors()
        for source, state in self.sources().items():
            with self._reader() as db:
                oldest = db.execute("SELECT MAX(seq) FROM feed_changes WHERE source = ? AND at < ?",
                                    (source, before)).fetchone()[0]
            floor = min(int(oldest or 0), state.seq - keep_last)
            if floor <= floors.get(source, 0):
                continue
            with self._lock:
                db = self._writer()
                db.begin_write(source)
                try:
                    db.execute("INSERT INTO feed_compactions (source, floor, at) VALUES (?, ?, ?) ON CONFLICT "
                               "(source) DO UPDATE SET floor = excluded.floor, at = excluded.at "
                               "WHERE excluded.floor > feed_compactions.floor",  # another process's floor never falls
                               (source, floor, now_iso()))
                except BaseException:
                    db.rollback()
                    raise
                db.commit()
            raised[source] = floor
            low = floors.get(source, 0)
            while low < floor:
                high = min(low + batch, floor)
                with self._lock:
                    self._writer().execute("DELETE FROM feed_changes WHERE source = ? AND seq > ? AND seq <= ?",
                                           (source, low, high))
                low = high
        return raised

    def changes(self, source: str, after: int, limit: int) -> list[Change]:
        with self._reader() as db:
            rows = db.execute("SELECT source, seq, kind, nkey, op, body, at FROM feed_changes WHERE source = ? AND "
                              "seq > ? AND seq <= (SELECT seq FROM feed_sources WHERE source = ?) ORDER BY seq LIMIT ?",
                              (source, after, source, limit)).fetchall()
        return [Change(*row) for row in rows]


__all__ = ["Change", "FeedStore", "Query", "Replacement", "Row", "SourceState", "now_iso", "visible"]
