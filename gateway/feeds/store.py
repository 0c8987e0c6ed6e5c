"""The harmonized view: every source registry's canonical records, keyed, in one SQLite file or PostgreSQL
database (:mod:`gateway.feeds.sql`; PostgreSQL when gateway processes on several hosts share the view).

One row per (kind, natural key, source): the canonical record as JSON and the columns the feeds filter on.
A source is replaced as a whole (a pull or a pushed snapshot) inside one transaction: rows whose content
changed get the source's next *sequence* number and a line in the change log, rows the source no longer
lists are deleted (also logged), so the view never holds half a pull. A failed pull leaves the previous
rows in place and marks the source failed; the feeds then leave it out and say so.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.feeds.keys import Indexed
from gateway.feeds.sql import Connection, Database

_UPSERT = ("INSERT INTO feed_records (kind, nkey, source, party, vintage, status, action_type, year, series, first, "
           "last, digest, body, rendered, updated_at, seq, gen) VALUES (" + ", ".join("?" * 17) + ") "
           "ON CONFLICT (kind, nkey, source) DO UPDATE SET " + ", ".join(
               f"{c} = excluded.{c}" for c in ("party", "vintage", "status", "action_type", "year", "series", "first",
                                               "last", "digest", "body", "rendered", "updated_at", "seq", "gen")))
#: rows a replacement changes before SQLite's write-ahead log is checkpointed and truncated after it
_CHECKPOINT_AFTER = 10_000
#: rows of a source neither written (gen) nor noted unchanged (feed_seen) by the replacement: gone
_UNSEEN = ("feed_records.source = ? AND feed_records.gen < ? AND NOT EXISTS (SELECT 1 FROM feed_seen WHERE "
           "feed_seen.kind = feed_records.kind AND feed_seen.nkey = feed_records.nkey)")
_COLUMNS = ("kind, nkey, source, party, vintage, status, action_type, year, series, first, last, body, updated_at, "
            "rendered")


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

    def sql(self) -> tuple[str, list[Any]]:
        where: list[str] = ["kind = ?"]
        args: list[Any] = [self.kind]
        columns: list[tuple[str, Sequence[Any] | None]] = [
            ("source", self.sources), ("party", self.parties), ("vintage", self.vintages),
            ("status", self.statuses), ("action_type", self.action_types)]
        for column, values in columns:
            if values is not None:
                where.append(f"{column} IN ({','.join('?' * len(values))})" if values else "0")
                args += list(values)
        for clause, value in (("year = ?", self.year), ("updated_at >= ?", self.updated_since),
                              ("nkey > ?", self.after)):
            if value is not None:
                where.append(clause)
                args.append(value)
        return " AND ".join(where), args


class Replacement:
    """A source being replaced: :meth:`add` pages of indexed records, then the context ends the sweep."""

    def __init__(self, db: Connection, source: str, party: str | None, gen: int, seq: int, at: str) -> None:
        self.db, self.source, self.party, self.gen, self.seq, self.at = db, source, party, gen, seq, at
        self.count = 0
        self.changed = 0

    def add(self, items: Sequence[tuple[Indexed, bytes, bytes]]) -> None:
        """Store ``(indexed record, canonical JSON, rendered shapes)``; unchanged rows are only marked seen."""
        by_kind: dict[str, list[tuple[Indexed, bytes, bytes]]] = {}
        for item in items:
            by_kind.setdefault(item[0].kind, []).append(item)
        for kind, group in by_kind.items():
            self._add_kind(kind, group)

    def _add_kind(self, kind: str, items: list[tuple[Indexed, bytes, bytes]]) -> None:
        known: dict[str, bytes] = {}
        keys = [i.key for i, _, _ in items]
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            known.update(self.db.execute(
                f"SELECT nkey, digest FROM feed_records WHERE kind = ? AND source = ? AND nkey IN "
                f"({','.join('?' * len(chunk))})", (kind, self.source, *chunk)).fetchall())
        upserts, touched, changes = [], [], []
        for indexed, body, rendered in items:
            digest = hashlib.blake2b(body + b"\0" + rendered, digest_size=16).digest()
            if known.get(indexed.key) == digest:
                touched.append((kind, indexed.key))
                continue
            known[indexed.key] = digest
            self.seq += 1
            ident = indexed.identity
            upserts.append((kind, indexed.key, self.source, self.party, indexed.vintage, indexed.status,
                            indexed.action_type, indexed.year, ident.series if ident else None,
                            ident.first if ident else None, ident.last if ident else None, digest, body, rendered,
                            self.at, self.seq, self.gen))
            changes.append((self.source, self.seq, kind, indexed.key, "upsert", body, self.at))
        self.db.executemany(_UPSERT, upserts)
        # unchanged rows are noted in a temporary table (outside the database file and its write-ahead log), so a
        # pull that changes little writes little
        self.db.executemany("INSERT INTO feed_seen (kind, nkey) VALUES (?, ?) ON CONFLICT DO NOTHING", touched)
        self.db.executemany("INSERT INTO feed_changes (source, seq, kind, nkey, op, body, at) VALUES "
                            "(?, ?, ?, ?, ?, ?, ?)", changes)
        self.count += len(items)
        self.changed += len(changes)

    def sweep(self) -> None:
        """Delete (and log) every row of the source this replacement did not list."""
        gone = self.db.execute(f"SELECT kind, nkey FROM feed_records WHERE {_UNSEEN}",
                               (self.source, self.gen)).fetchall()
        changes = []
        for kind, key in gone:
            self.seq += 1
            changes.append((self.source, self.seq, kind, key, "delete", None, self.at))
        self.db.execute(f"DELETE FROM feed_records WHERE {_UNSEEN}", (self.source, self.gen))
        self.db.executemany("INSERT INTO feed_changes (source, seq, kind, nkey, op, body, at) VALUES "
                            "(?, ?, ?, ?, ?, ?, ?)", changes)
        self.changed += len(changes)


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
        """Replace everything ``source`` holds, in one transaction; any exception rolls it back. Replacements
        of one source wait for each other in every process sharing the store, so its sequence has no gaps."""
        with self._lock:
            db = self._writer()
            db.begin_write(source)
            try:
                db.execute("DELETE FROM feed_seen")
                db.execute("INSERT INTO feed_sources (source, party, mode) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                           (source, party, mode))
                gen, seq = db.execute("SELECT gen, seq FROM feed_sources WHERE source = ?", (source,)).fetchone()
                replacement = Replacement(db, source, party, int(gen) + 1, int(seq), now_iso())
                yield replacement
                replacement.sweep()
                db.execute("UPDATE feed_sources SET party = ?, mode = ?, gen = ?, seq = ?, attempted_at = ?, "
                           "ok_at = ?, error_code = NULL, error_detail = NULL, records = ? WHERE source = ?",
                           (party, mode, replacement.gen, replacement.seq, replacement.at, replacement.at,
                            replacement.count, source))
            except BaseException:
                db.rollback()
                raise
            db.commit()
            if replacement.changed >= _CHECKPOINT_AFTER:
                self.database.checkpoint(db)

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
        where, args = query.sql()
        with self._reader() as db:
            for row in db.stream(f"SELECT {_COLUMNS} FROM feed_records WHERE {where} ORDER BY nkey, source", args,
                                 batch):
                yield Row(*row)

    def row_chunks(self, query: Query, batch: int = 2000) -> Iterator[list[tuple[Any, ...]]]:
        """Like :meth:`rows`, as lists of plain ``(nkey, source, updated_at, rendered, body)`` tuples (the NDJSON
        stream's input: no object per row, no column it does not write)."""
        where, args = query.sql()
        with self._reader() as db:
            yield from db.chunks(f"SELECT nkey, source, updated_at, rendered, body FROM feed_records WHERE {where} "
                                 "ORDER BY nkey, source", args, batch)

    def sweep_rows(self, kind: str, sources: Iterable[str], *, action_type: str | None = None, batch: int = 5000
                   ) -> Iterator[tuple[Any, ...]]:
        """``(series, first, last, source, nkey, status)`` of ``kind`` rows with an identity, in key order
        (for units and for one action type that is (series, first) order): the double-counting sweep's input."""
        names = tuple(sources)
        extra, args = (" AND action_type = ?", (action_type,)) if action_type else ("", ())
        with self._reader() as db:
            yield from db.stream(
                "SELECT series, first, last, source, nkey, status FROM feed_records WHERE kind = ? AND "
                f"series IS NOT NULL AND source IN ({','.join('?' * len(names))}){extra} ORDER BY nkey",
                (kind, *names, *args), batch)

    def bodies(self, kind: str, sources: Iterable[str]) -> Iterator[tuple[str, str, bytes]]:
        """``(source, nkey, body)`` of every ``kind`` row of ``sources``."""
        names = tuple(sources)
        with self._reader() as db:
            yield from db.stream(f"SELECT source, nkey, body FROM feed_records WHERE kind = ? AND source IN "
                                 f"({','.join('?' * len(names))}) ORDER BY nkey, source", (kind, *names), 2000)

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
                              "seq > ? ORDER BY seq LIMIT ?", (source, after, limit)).fetchall()
        return [Change(*row) for row in rows]


__all__ = ["Change", "FeedStore", "Query", "Replacement", "Row", "SourceState", "now_iso"]
