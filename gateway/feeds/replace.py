"""Replacing one source's rows in bounded batches, published at once.

Every row of ``feed_records`` carries the generation it was written in (``gen``) and the generation from
which it is no longer current (``gen_end``; :data:`LIVE` while it is). A source's *published* generation
``P`` is ``feed_sources.gen``: readers see a row when ``gen <= P < gen_end``
(:func:`gateway.feeds.store.visible`), and the change log up to ``feed_sources.seq``.

A replacement writes generation ``N = P + 1`` in transactions of at most :data:`BATCH_ROWS` rows each: a
changed or new record is a new row of generation ``N`` (the previous one gets ``gen_end = N``), an unchanged
one is only noted in the connection's temporary ``feed_seen`` table, rows the source no longer lists get
``gen_end = N``, and every change is logged with the source's next sequence number. None of it is visible
until :meth:`Replacement.publish` sets ``P = N`` and the sequence in one small transaction; the superseded
rows are then deleted in batches. So the write-ahead log holds one batch, not the whole registry, and a
reader sees either the previous pull or the new one, never a mixture.

A replacement holds its source's *claim* from start to end, across its transactions: on SQLite an exclusive
``flock`` of a file next to the database, on PostgreSQL a session-level advisory lock on the replacement's own
connection; both vanish with the process that holds them. Whoever takes the claim first removes what an
interrupted replacement left (rows of generations after ``P``, retirements after ``P``, changes after the
published sequence), so a pull that died half-way is simply done again: no change logged twice, none lost,
the sequence gap-free.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg

from gateway.feeds.keys import Indexed
from gateway.feeds.sql import Connection, Database

#: ``gen_end`` of a row that is current
LIVE = 2**62
#: rows written (or swept, or removed) per transaction
BATCH_ROWS = 5000
#: PostgreSQL: new rows go in by COPY through a staging table (else executemany; the benchmark compares them)
POSTGRES_COPY = True

_COLS = ("kind, nkey, source, party, vintage, status, action_type, year, series, first, last, digest, body, "
         "rendered, updated_at, seq, gen, gen_end")
_INSERT = (f"INSERT INTO feed_records ({_COLS}) VALUES ({', '.join('?' * 18)}) "
           "ON CONFLICT (kind, nkey, source, gen) DO UPDATE SET " + ", ".join(
               f"{c} = excluded.{c}" for c in ("party", "vintage", "status", "action_type", "year", "series", "first",
                                               "last", "digest", "body", "rendered", "updated_at", "seq")))
_RETIRE = "UPDATE feed_records SET gen_end = ? WHERE kind = ? AND nkey = ? AND source = ? AND gen = ?"
_LOG = "INSERT INTO feed_changes (source, seq, kind, nkey, op, body, at) VALUES (?, ?, ?, ?, ?, ?, ?)"
_PK = "(kind, nkey, source, gen)"


class Claim:
    """The exclusive right to replace one source, across transactions and processes (see the module text)."""

    def __init__(self, database: Database, connection: Connection, source: str) -> None:
        self.database, self.connection, self.source = database, connection, source
        self._fd: int | None = None
        if database.postgres:
            connection.execute("SELECT pg_advisory_lock(?)", (database.lock_key(source),)).fetchone()
        else:
            locks = Path(f"{database.target}-locks")
            locks.mkdir(exist_ok=True)
            name = hashlib.sha256(f"{database.prefix}:{source}".encode()).hexdigest()[:32]
            self._fd = os.open(locks / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._fd, fcntl.LOCK_EX)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None
        elif isinstance(self.connection.raw, psycopg.Connection) and not self.connection.raw.closed:
            self.connection.execute("SELECT pg_advisory_unlock(?)", (self.database.lock_key(self.source),))


def _batched(db: Connection, source: str, select: str, args: tuple[Any, ...], apply: str) -> None:
    """Run ``apply`` (a statement on the primary keys selected) over ``select``'s rows, a batch per transaction."""
    while True:
        db.begin_write(source)
        try:
            done = db.execute(f"{apply} WHERE {_PK} IN ({select} LIMIT {BATCH_ROWS})", args).rowcount
        except BaseException:
            db.rollback()
            raise
        db.commit()
        if done < BATCH_ROWS:
            return


def recover(db: Connection, source: str, gen: int, seq: int) -> None:
    """Remove what an interrupted replacement of ``source`` left after published generation ``gen`` and
    sequence ``seq``, and the rows a completed one superseded but had not deleted yet."""
    keys = "SELECT kind, nkey, source, gen FROM feed_records WHERE source = ? AND "
    _batched(db, source, keys + "gen_end = ? AND gen > ?", (source, LIVE, gen), "DELETE FROM feed_records")
    _batched(db, source, keys + "gen_end > ? AND gen_end < ?", (source, gen, LIVE),
             f"UPDATE feed_records SET gen_end = {LIVE}")
    _batched(db, source, keys + "gen_end <= ?", (source, gen), "DELETE FROM feed_records")
    top = db.execute("SELECT MAX(seq) FROM feed_changes WHERE source = ?", (source,)).fetchone()[0]
    low = seq
    while top is not None and low < int(top):  # a range of the change log's primary key per transaction
        db.execute("DELETE FROM feed_changes WHERE source = ? AND seq > ? AND seq <= ?",
                   (source, low, low + BATCH_ROWS))
        low += BATCH_ROWS


class Replacement:
    """A source being replaced: :meth:`add` records (committed in batches, not yet visible), then
    :meth:`finish` sweeps what the source no longer lists and publishes. Made by
    :meth:`gateway.feeds.store.FeedStore.replacing`."""

    def __init__(self, database: Database, source: str, party: str | None, mode: str, at: str) -> None:
        self.database, self.source, self.party, self.mode, self.at = database, source, party, mode, at
        self.db = database.connect()
        self.claim: Claim | None = None
        try:
            database.create_session(self.db)
            self.claim = Claim(database, self.db, source)
            state = self.db.execute("SELECT gen, seq FROM feed_sources WHERE source = ?", (source,)).fetchone()
            self.published, self.published_seq = (int(state[0]), int(state[1])) if state else (0, 0)
            recover(self.db, source, self.published, self.published_seq)
        except BaseException:
            self.close()
            raise
        self.gen = self.published + 1
        self.seq = self.published_seq
        self.count = 0
        self.changed = 0

    def add(self, items: Sequence[tuple[Indexed, bytes, bytes]]) -> None:
        """Store ``(indexed record, canonical JSON, rendered shapes)`` (not visible before :meth:`finish`);
        unchanged rows are only noted. One transaction per :data:`BATCH_ROWS` rows."""
        for start in range(0, len(items), BATCH_ROWS):
            by_kind: dict[str, list[tuple[Indexed, bytes, bytes]]] = {}
            for item in items[start:start + BATCH_ROWS]:
                by_kind.setdefault(item[0].kind, []).append(item)
            self.db.begin_write(self.source)
            try:
                for kind, group in by_kind.items():
                    self._add_kind(kind, group)
            except BaseException:
                self.db.rollback()
                raise
            self.db.commit()

    def _add_kind(self, kind: str, items: list[tuple[Indexed, bytes, bytes]]) -> None:
        known: dict[str, tuple[bytes, int]] = {}
        keys = [i.key for i, _, _ in items] if self.published else []  # a first pull has nothing to compare with
        head = "SELECT nkey, digest, gen FROM feed_records WHERE kind = ? AND source = ? AND gen_end = ? AND "
        if self.database.postgres:  # one array parameter: one statement to plan, not one per key
            known.update((k, (bytes(d), int(g))) for k, d, g in self.db.execute(
                head + "nkey = ANY(?)", (kind, self.source, LIVE, keys)).fetchall())
            keys = []
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            known.update((k, (d, int(g))) for k, d, g in self.db.execute(
                head + f"nkey IN ({','.join('?' * len(chunk))})", (kind, self.source, LIVE, *chunk)).fetchall())
        inserts: dict[str, tuple[Any, ...]] = {}  # a key listed twice in a batch: its last record
        retired, seen, changes = [], [], []
        for indexed, body, rendered in items:
            digest = hashlib.blake2b(body + b"\0" + rendered, digest_size=16).digest()
            old = known.get(indexed.key)
            if old is not None and old[0] == digest:
                seen.append((kind, indexed.key))
                continue
            if old is not None and old[1] < self.gen:
                retired.append((self.gen, kind, indexed.key, self.source, old[1]))
            known[indexed.key] = (digest, self.gen)
            self.seq += 1
            ident = indexed.identity
            inserts[indexed.key] = (kind, indexed.key, self.source, self.party, indexed.vintage, indexed.status,
                                    indexed.action_type, indexed.year, ident.series if ident else None,
                                    ident.first if ident else None, ident.last if ident else None, digest, body,
                                    rendered, self.at, self.seq, self.gen, LIVE)
            changes.append((self.source, self.seq, kind, indexed.key, "upsert", body, self.at))
        self.db.executemany(_RETIRE, retired)
        if self.database.postgres and POSTGRES_COPY and inserts:  # COPY to the staging table, then one statement
            self.db.copy("feed_stage", _COLS, list(inserts.values()))
            self.db.execute(f"INSERT INTO feed_records ({_COLS}) SELECT {_COLS} FROM feed_stage" + _INSERT[
                _INSERT.index(" ON CONFLICT"):])
            self.db.execute("DELETE FROM feed_stage")
        else:
            self.db.executemany(_INSERT, list(inserts.values()))
        # unchanged rows are noted in a temporary table (outside the database file and its write-ahead log), so a
        # pull that changes little writes little
        self.db.executemany("INSERT INTO feed_seen (kind, nkey) VALUES (?, ?) ON CONFLICT DO NOTHING", seen)
        self.db.copy("feed_changes", "source, seq, kind, nkey, op, body, at", changes)  # new sequences only
        self.count += len(items)
        self.changed += len(changes)

    def _sweep(self) -> None:
        """Retire (and log) every current row of the source this replacement did not list, a batch at a time."""
        while True:
            self.db.begin_write(self.source)
            try:
                gone = self.db.execute(
                    "SELECT kind, nkey, gen FROM feed_records WHERE source = ? AND gen_end = ? AND gen < ? AND NOT "
                    "EXISTS (SELECT 1 FROM feed_seen WHERE feed_seen.kind = feed_records.kind AND "
                    f"feed_seen.nkey = feed_records.nkey) LIMIT {BATCH_ROWS}",
                    (self.source, LIVE, self.gen)).fetchall()
                changes = []
                for kind, key, _ in gone:
                    self.seq += 1
                    changes.append((self.source, self.seq, kind, key, "delete", None, self.at))
                self.db.executemany(_RETIRE, [(self.gen, kind, key, self.source, gen) for kind, key, gen in gone])
                self.db.executemany(_LOG, changes)
            except BaseException:
                self.db.rollback()
                raise
            self.db.commit()
            self.changed += len(gone)
            if len(gone) < BATCH_ROWS:
                return

    def finish(self) -> None:
        """Sweep, then publish generation ``gen`` and the sequence in one transaction; then delete the rows it
        superseded."""
        self._sweep()
        self.db.begin_write(self.source)
        try:
            self.db.execute(
                "INSERT INTO feed_sources (source, party, mode, gen, seq, attempted_at, ok_at, records) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source) DO UPDATE SET party = excluded.party, "
                "mode = excluded.mode, gen = excluded.gen, seq = excluded.seq, attempted_at = excluded.attempted_at, "
                "ok_at = excluded.ok_at, error_code = NULL, error_detail = NULL, records = excluded.records",
                (self.source, self.party, self.mode, self.gen, self.seq, self.at, self.at, self.count))
        except BaseException:
            self.db.rollback()
            raise
        self.db.commit()
        self.published, self.published_seq = self.gen, self.seq
        _batched(self.db, self.source, "SELECT kind, nkey, source, gen FROM feed_records WHERE source = ? AND "
                 "gen_end <= ?", (self.source, self.gen), "DELETE FROM feed_records")

    def abandon(self) -> None:
        """After a failure: remove this replacement's unpublished rows and changes now (the next claimant would
        otherwise), then :meth:`close`."""
        try:
            recover(self.db, self.source, self.published, self.published_seq)
        finally:
            self.close()

    def close(self) -> None:
        """Release the claim and the connection, leaving the store as it is (what a killed process leaves)."""
        try:
            if self.claim is not None:
                self.claim.release()
        finally:
            self.claim = None
            self.db.close()


__all__ = ["BATCH_ROWS", "LIVE", "Claim", "Replacement", "recover"]
