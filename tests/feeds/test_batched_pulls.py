"""Pulls written in bounded batches and published at once, on both backends: readers never see a pull
half-applied; a pull that fails, or whose process dies, half-way is done again without a change logged twice
or lost; two writers of one source take turns."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from gateway.feeds import replace
from gateway.feeds.errors import SourceFailure
from gateway.feeds.store import FeedStore, Query
from gateway.feeds.view import FeedView, _stored
from tests.feeds.test_view import put, unit


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(replace, "BATCH_ROWS", 3)


def shown(store: FeedStore) -> list[tuple[int | None, str | None]]:
    return [(r.first, r.status) for r in store.rows(Query("units", ("a",)))]


def stored_rows(store: FeedStore) -> int:
    with store.database.session() as db:
        return int(db.execute("SELECT COUNT(*) FROM feed_records WHERE source = ?", ("a",)).fetchone()[0])


def log(store: FeedStore) -> list[tuple[int, str, str]]:
    return [(c.seq, c.op, c.key) for c in store.changes("a", 0, 1000)]


def second(store: FeedStore) -> FeedStore:
    """Another gateway process's store over the same file or tables."""
    return FeedStore(store.database.target, prefix=store.database.prefix)


def items(records: list[Any], offset: int = 0) -> list[Any]:
    return _stored("units", records, "a", offset)


def test_batches_are_committed_but_shown_only_when_the_pull_is_published(store: FeedStore) -> None:
    put(store, "a", "units", [unit(1, 10), unit(11, 20)])
    before = shown(store)
    with store.replacing("a", "GHA", "pull") as replacement:
        replacement.add(items([unit(1, 10, status="retired"), unit(21, 30), unit(31, 40), unit(41, 50)]))
        # the writes are committed (a second connection counts them: the write-ahead log holds one batch) ...
        assert stored_rows(store) == 2 + 4
        # ... but readers still see the previous pull whole, and the change log up to its sequence
        assert shown(store) == before == [(1, "held"), (11, "held")]
        assert [seq for seq, _, _ in log(store)] == [1, 2] and store.sources()["a"].seq == 2
        assert len(list(store.sweep_rows("units", ["a"]))) == 2  # so does the double-counting sweep
    assert shown(store) == [(1, "retired"), (21, "held"), (31, "held"), (41, "held")]
    assert [(seq, op) for seq, op, _ in log(store)] == [(1, "upsert"), (2, "upsert"), (3, "upsert"), (4, "upsert"),
                                                        (5, "upsert"), (6, "upsert"), (7, "delete")]
    assert stored_rows(store) == 4  # the superseded and the retired rows are gone once published


class DyingPuller:
    """A registry's read side of ``count`` blocks in pages of two that dies after ``die_after`` pages."""

    def __init__(self, count: int, die_after: int | None) -> None:
        self.count, self.die_after = count, die_after

    def pages(self, participant: Any) -> Iterator[tuple[str, list[Any]]]:
        blocks = [unit(i * 10 + 1, i * 10 + 5) for i in range(self.count)]
        for page, start in enumerate(range(0, len(blocks), 2)):
            if self.die_after is not None and page == self.die_after:
                raise SourceFailure("the registry went away mid-pull", code="FEED.SOURCE_UNREACHABLE")
            yield "units", blocks[start:start + 2]


def view_of(store: FeedStore, puller: Any) -> tuple[FeedView, Any]:
    registry = SimpleNamespace(id="a", party="GHA", active=True, message_kinds=["transfers"],
                               endpoints=SimpleNamespace(read="http://127.0.0.1:1/read"))
    directory = SimpleNamespace(current=lambda: SimpleNamespace(participants=[registry]))
    return FeedView(store, puller, directory, None, max_age=0), registry  # type: ignore[arg-type]


def test_a_pull_the_registry_breaks_off_half_way_is_retried_without_duplicates_or_losses(store: FeedStore) -> None:
    view, registry = view_of(store, DyingPuller(4, None))
    view.pull(registry)  # blocks 1, 11, 21, 31: sequence 1-4
    view.puller = DyingPuller(9, die_after=3)  # six blocks written in two batches, then the registry dies
    view.pull(registry)
    state = store.sources()["a"]
    assert state.error_code == "FEED.SOURCE_UNREACHABLE" and state.seq == 4
    assert [first for first, _ in shown(store)] == [1, 11, 21, 31] and stored_rows(store) == 4  # nothing left over
    assert [seq for seq, _, _ in log(store)] == [1, 2, 3, 4]
    view.puller = DyingPuller(9, None)
    view.pull(registry)
    state = store.sources()["a"]
    assert state.error_code is None and state.seq == 9 and state.records == 9
    assert [first for first, _ in shown(store)] == [i * 10 + 1 for i in range(9)]
    changes = log(store)
    assert [seq for seq, _, _ in changes] == list(range(1, 10))  # gap-free, nothing twice
    assert len({key for _, _, key in changes}) == 9


def test_a_pull_whose_process_died_is_cleaned_up_by_the_next_one(store: FeedStore) -> None:
    put(store, "a", "units", [unit(1, 10), unit(11, 20)])
    context = store.replacing("a", "GHA", "pull")
    dying = context.__enter__()
    dying.add(items([unit(1, 10, status="retired"), unit(21, 30), unit(31, 40), unit(41, 50), unit(51, 60)]))
    dying.close()  # the process is killed: its claim and connection vanish, its batches stay in the store
    assert stored_rows(store) == 2 + 5 and shown(store) == [(1, "held"), (11, "held")]
    other = second(store)
    try:
        assert [(r.first, r.status) for r in other.rows(Query("units", ("a",)))] == [(1, "held"), (11, "held")]
        assert put(other, "a", "units", [unit(11, 20), unit(21, 30)]) == 4  # 21-30 new, 1-10 gone
        assert shown(store) == [(11, "held"), (21, "held")] and stored_rows(store) == 2
        assert [(seq, op) for seq, op, _ in log(store)] == [(1, "upsert"), (2, "upsert"), (3, "upsert"),
                                                            (4, "delete")]
    finally:
        other.close()
        context.gen.close()  # the abandoned generator: its clean-up runs on a closed connection and changes nothing
    assert shown(store) == [(11, "held"), (21, "held")] and [seq for seq, _, _ in log(store)] == [1, 2, 3, 4]


def test_two_writers_of_one_source_take_turns_across_their_batches(store: FeedStore) -> None:
    other = second(store)
    done = threading.Event()

    def later() -> None:
        put(other, "a", "units", [unit(1, 10), unit(61, 70)])
        done.set()

    try:
        with store.replacing("a", "GHA", "pull") as first:
            first.add(items([unit(1, 10), unit(21, 30), unit(31, 40), unit(41, 50)]))
            thread = threading.Thread(target=later)
            thread.start()
            time.sleep(0.5)
            assert not done.is_set()  # it waits for the claim, not only for a transaction
            first.add(items([unit(51, 60)], 4))
        thread.join(timeout=30)
        assert done.is_set()
    finally:
        other.close()
    assert [first for first, _ in shown(store)] == [1, 61]
    assert [(seq, op) for seq, op, _ in log(store)] == [*[(n, "upsert") for n in range(1, 6)], (6, "upsert"),
                                                        *[(n, "delete") for n in range(7, 11)]]


def test_a_store_of_the_earlier_layout_is_upgraded_and_read_again(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE feed_records (kind TEXT NOT NULL, nkey TEXT NOT NULL, source TEXT NOT NULL, gen BIGINT, "
        "PRIMARY KEY (kind, nkey, source)); CREATE TABLE feed_sources (source TEXT PRIMARY KEY, party TEXT, "
        "mode TEXT NOT NULL, gen BIGINT NOT NULL DEFAULT 0, seq BIGINT NOT NULL DEFAULT 0, attempted_at TEXT, "
        "ok_at TEXT, error_code TEXT, error_detail TEXT, records BIGINT NOT NULL DEFAULT 0);"
        "INSERT INTO feed_records VALUES ('units', 'k', 'a', 3);"
        "INSERT INTO feed_sources (source, mode, gen, seq, ok_at, records) VALUES ('a', 'pull', 3, 7, 'x', 1);")
    old.commit()
    old.close()
    upgraded = FeedStore(path)
    try:
        state = upgraded.sources()["a"]
        assert (state.ok_at, state.seq, state.records) == (None, 7, 0)  # never read again; its sequence goes on
        assert put(upgraded, "a", "units", [unit(1, 10)]) == 8
    finally:
        upgraded.close()
