"""The title index: which evidence records moved which serial ranges, so a lookup reads only those records.

The index is a shortcut, never the source of truth. It holds, for every receipted record of the evidence log,
the ranges its receipt lists (``series``, ``first``, ``last``, the record's ``seq`` and ``hash``) and a *mark*:
the ``seq`` and ``hash`` of the last log record it has read. Before every lookup it catches up with the log
(:meth:`TitleIndex.catch_up`: it reads only the records after its mark), and it starts again from the first
record when the log no longer has its mark (another log, a log restored from an older backup). The records it
points to are then read from the log and checked there (:mod:`gateway.title._verify`): their hash, signature
and link to the record before them.

Lookups are bounded: the widest range of each series is kept, so ``first`` is searched between
``block.first - widest`` and ``block.last`` on the ``(series, first)`` index, whatever the log's size.

One SQL schema on two engines (:mod:`gateway.sqlstore`): an embedded SQLite file (its own file: a catch-up never
holds the evidence log's write lock) or PostgreSQL, shared by the gateway processes of a scaled-out network.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.evidence.log import EvidenceLog
from gateway.evidence.record import EvidenceRecord
from gateway.sqlstore import Cursor, PostgresEngine, SqliteEngine, TableStore, open_store
from gateway.title._trail import Block, TitleError

#: Log records read per catch-up transaction.
CATCH_UP_BATCH = 5000


class TitleIndexUnavailable(TitleError):
    """The title index cannot be opened or read (lookups then scan the evidence log)."""

    code = "TITLE.INDEX_UNAVAILABLE"


@dataclass(frozen=True, slots=True)
class Entry:
    """One range of one receipted record."""

    seq: int
    part: int
    series: str
    first: int
    last: int
    record_hash: str


def entries(record: EvidenceRecord) -> list[Entry]:
    """The ranges ``record``'s receipt lists (those :func:`gateway.title._trail.trail` can read)."""
    if record.receipt is None:
        return []
    found = []
    for part, unit in enumerate(record.receipt.get("units") or []):
        if not isinstance(unit, dict) or not isinstance(unit.get("series"), str):
            continue
        try:
            first, last = int(unit["first"]), int(unit["last"])
        except (KeyError, TypeError, ValueError):
            continue
        if first <= last:
            found.append(Entry(record.seq, part, unit["series"], first, last, record.hash))
    return found


class TitleIndex(TableStore):
    """Ranges by series; the engine gives :meth:`_tx` (one serialized transaction)."""

    what = "the title index"
    config_error, config_code = TitleError, "TITLE.CONFIG"
    unavailable = TitleIndexUnavailable

    def _schema(self) -> list[str]:
        return [self._sql(s) for s in (
            "CREATE TABLE IF NOT EXISTS {t}_ranges (seq BIGINT NOT NULL, part INTEGER NOT NULL, series TEXT NOT NULL, "
            "first BIGINT NOT NULL, last BIGINT NOT NULL, record_hash TEXT NOT NULL, PRIMARY KEY (seq, part))",
            "CREATE INDEX IF NOT EXISTS {t}_ranges_series ON {t}_ranges (series, first)",
            "CREATE TABLE IF NOT EXISTS {t}_series (series TEXT PRIMARY KEY, widest BIGINT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS {t}_mark (id INTEGER PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL)",
        )]

    def mark(self) -> tuple[int, str]:
        """``(seq, hash)`` of the last log record read (``(0, "")``: none)."""
        return self._run(self._mark, write=False)

    def _mark(self, cur: Cursor) -> tuple[int, str]:
        row = cur.execute(self._sql("SELECT seq, hash FROM {t}_mark WHERE id = 1")).fetchone()
        return (int(row[0]), str(row[1])) if row else (0, "")

    def reset(self) -> None:
        """Forget everything (the next catch-up reads the log from its first record)."""
        def work(cur: Cursor) -> None:
            for table in ("ranges", "series", "mark"):
                cur.execute(self._sql(f"DELETE FROM {{t}}_{table}"))
        self._run(work)

    def catch_up(self, log: EvidenceLog, *, stop: threading.Event | None = None) -> int:
        """Read the log's records after the mark into the index; return how many records were read. When the
        log does not hold the mark (another or a shorter log), the index starts again from the first record.
        ``stop``, once set, ends the catch-up after the batch under way (the mark says how far it got)."""
        head, _ = log.head()
        seq, hash_ = self.mark()
        if seq:
            held = log.get(seq) if seq <= head else None
            if held is None or held.hash != hash_:
                self.reset()
                seq = 0
        read = 0
        # the mark is read again after each batch: gateways catching up at once share the work
        while seq < head and not (stop is not None and stop.is_set()):
            batch = list(log.records(from_seq=seq + 1, to_seq=min(head, seq + CATCH_UP_BATCH)))
            if not batch:
                break
            self._add(seq, batch)
            read += len(batch)
            seq = self.mark()[0]
        return read

    def _add(self, after: int, batch: list[EvidenceRecord]) -> None:
        rows = [e for record in batch for e in entries(record)]
        widest: dict[str, int] = {}
        for e in rows:
            widest[e.series] = max(widest.get(e.series, 0), e.last - e.first)

        def work(cur: Cursor) -> None:
            if self._mark(cur)[0] != after:  # another process moved the mark meanwhile: its rows are the same
                return
            for e in rows:
                cur.execute(self._sql("INSERT INTO {t}_ranges VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (seq, part) "
                                      "DO NOTHING"), (e.seq, e.part, e.series, e.first, e.last, e.record_hash))
            for series, span in widest.items():
                cur.execute(self._sql("INSERT INTO {t}_series VALUES (?, ?) ON CONFLICT (series) DO UPDATE SET "
                                      "widest = CASE WHEN excluded.widest > {t}_series.widest THEN excluded.widest "
                                      "ELSE {t}_series.widest END"), (series, span))
            last = batch[-1]
            cur.execute(self._sql("INSERT INTO {t}_mark VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                                  "seq = excluded.seq, hash = excluded.hash"), (last.seq, last.hash))
        self._run(work)

    def lookup(self, block: Block) -> list[tuple[int, str]]:
        """``(seq, hash)`` of every indexed record with a range overlapping ``block``, in ``seq`` order."""
        def work(cur: Cursor) -> list[tuple[int, str]]:
            row = cur.execute(self._sql("SELECT widest FROM {t}_series WHERE series = ?"), (block.series,)).fetchone()
            if row is None:
                return []
            rows = cur.execute(self._sql(
                "SELECT DISTINCT seq, record_hash FROM {t}_ranges WHERE series = ? AND first >= ? AND first <= ? "
                "AND last >= ? ORDER BY seq"), (block.series, block.first - int(row[0]), block.last,
                                                block.first)).fetchall()
            return [(int(seq), str(hash_)) for seq, hash_ in rows]
        return self._run(work, write=False)

    def size(self) -> dict[str, Any]:
        def work(cur: Cursor) -> dict[str, Any]:
            ranges = cur.execute(self._sql("SELECT COUNT(*) FROM {t}_ranges")).fetchone()[0]
            seq, _ = self._mark(cur)
            return {"ranges": int(ranges), "mark": seq}
        return self._run(work, write=False)


class SqliteTitleIndex(SqliteEngine, TitleIndex):
    """The embedded index: one SQLite file (WAL)."""

    def __init__(self, path: str | Path, *, table: str = "title_index", synchronous: str = "normal") -> None:
        super().__init__(path, table=table, synchronous=synchronous)


class PostgresTitleIndex(PostgresEngine, TitleIndex):
    """The scaled-out index: every gateway process shares one PostgreSQL database."""

    def __init__(self, dsn: str, *, table: str = "title_index") -> None:
        super().__init__(dsn, table=table, namespace="title-index")


def open_title_index(url: str) -> TitleIndex:
    """``sqlite:///path[?table=name&synchronous=full|normal]`` or ``postgresql://...[?table=name]``."""
    return open_store(url, default_table="title_index", sqlite=SqliteTitleIndex, postgres=PostgresTitleIndex,
                      what="title index", misconfigured=TitleIndex.misconfigured)
