"""The title index: the same trails as a scan of the evidence log, from a real log and a real index (SQLite and
PostgreSQL); an index behind the log, from another log, edited or unreadable; evidence edited under the index."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.title import (
    IndexKeeper,
    TitleIndex,
    TitleIndexUnavailable,
    open_title_index,
    parse_block,
    title_from_log,
)
from tests.support.cli import run_cli
from tests.title.test_title import World, holders

BLOCKS = ["CA0001:GHA:1-100", "CA0001:GHA:1-9", "CA0001:GHA:35-45", "CA0001:GHA:95-230", "CA0001:GHA:60-60",
          "CA0001:GHA:300-400", "CA0002:GHA:1-1000", "CA0003:GHA:1-10"]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.log.close()


@pytest.fixture
def index(tmp_path: Path) -> Iterator[TitleIndex]:
    opened = open_title_index(f"sqlite:///{tmp_path / 'title-index.sqlite3'}")
    yield opened
    opened.close()


def across_three_registries(world: World) -> None:
    """CA0001:GHA:1-200 issued to GHA, moved GHA -> CHE -> SWE -> NOR in parts, with a split and a rejection."""
    world.relay("gha", "che", [(1, 100)])
    world.relay("gha", "swe", [(101, 200)])
    world.relay("che", "swe", [(1, 40)], action="transfer")
    world.relay("che", "nor", [(41, 60)], action="transfer")
    world.relay("swe", "nor", [(10, 20), (150, 160)], action="transfer")  # two ranges in one receipt
    world.relay("nor", "che", [(15, 18)], outcome="rejected", action="transfer")
    world.relay("gha", "che", [(1, 500)], series="CA0002:GHA")
    world.relay("swe", "gha", [(30, 35)], action="transfer")  # units back to the first Party


def answer(result: dict[str, Any]) -> dict[str, Any]:
    """What the trail says, without how it was found."""
    return {k: result[k] for k in ("block", "parts", "messages")} | {
        "findings": [f for f in result["findings"] if not f["code"].startswith("EVIDENCE.")]}


def both(world: World, index: TitleIndex, text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    block = parse_block(text)
    scanned = title_from_log(world.log, block, jwks=world.keyring.jwks(), verify_chain=False)
    found = title_from_log(world.log, block, jwks=world.keyring.jwks(), verify_chain=False, index=index)
    return scanned, found


def test_the_index_gives_the_scan_s_answers_for_whole_partial_and_overlapping_blocks(world: World,
                                                                                     index: TitleIndex) -> None:
    across_three_registries(world)
    for text in BLOCKS:
        scanned, found = both(world, index, text)
        assert answer(found) == answer(scanned), text
        assert found["evidence"]["index"]["used"] and found["verified"], text
        assert found["evidence"]["chain"]["records"] == found["messages"]
    _, whole = both(world, index, "CA0001:GHA:1-200")
    assert holders(whole) == [
        (1, 9, "swe", ["gha>che", "che>swe"]),
        (10, 14, "nor", ["gha>che", "che>swe", "swe>nor"]),
        (15, 18, "nor", ["gha>che", "che>swe", "swe>nor", "nor>che"]),  # rejected: the title stays with NOR
        (19, 20, "nor", ["gha>che", "che>swe", "swe>nor"]),
        (21, 29, "swe", ["gha>che", "che>swe"]),
        (30, 35, "gha", ["gha>che", "che>swe", "swe>gha"]),
        (36, 40, "swe", ["gha>che", "che>swe"]),
        (41, 60, "nor", ["gha>che", "che>nor"]),
        (61, 100, "che", ["gha>che"]),
        (101, 149, "swe", ["gha>swe"]),
        (150, 160, "nor", ["gha>swe", "swe>nor"]),
        (161, 200, "swe", ["gha>swe"])]
    # only the trail's records were read: 7 of the 16 records of this log hold receipts of CA0001
    assert whole["evidence"]["index"]["records_read"] == 7 and world.log.head()[0] == 16


def test_an_index_behind_the_log_catches_up_before_it_answers(world: World, index: TitleIndex) -> None:
    world.relay("gha", "che", [(1, 100)])
    index.catch_up(world.log)
    assert index.mark()[0] == 2
    world.relay("che", "swe", [(1, 40)], action="transfer")  # the index has not seen these
    world.relay("swe", "nor", [(5, 6)], action="transfer")
    scanned, found = both(world, index, "CA0001:GHA:1-100")
    assert answer(found) == answer(scanned) and found["evidence"]["index"]["caught_up"] == 4
    assert holders(found)[0] == (1, 4, "swe", ["gha>che", "che>swe"]) and index.mark() == world.log.head()
    again = title_from_log(world.log, parse_block("CA0001:GHA:1-100"), jwks=world.keyring.jwks(),
                           verify_chain=False, index=index)
    assert again["evidence"]["index"]["caught_up"] == 0 and answer(again) == answer(found)


def test_an_index_of_another_log_is_rebuilt(world: World, index: TitleIndex, tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    other = World(tmp_path / "other")
    try:
        other.relay("gha", "nor", [(1, 100)])
        other.relay("nor", "swe", [(1, 100)], action="transfer")
        other.relay("swe", "che", [(1, 100)], action="transfer")
        index.catch_up(other.log)  # mark: record 6 of the other log
    finally:
        other.log.close()
    across_three_registries(world)  # 16 records: the other log's mark is not one of them
    scanned, found = both(world, index, "CA0001:GHA:1-100")
    assert answer(found) == answer(scanned) and found["evidence"]["index"]["caught_up"] == 16
    assert "nor>swe" not in str(holders(found))


def test_an_edited_index_is_set_aside_and_the_log_scanned(world: World, index: TitleIndex, tmp_path: Path) -> None:
    across_three_registries(world)
    index.catch_up(world.log)
    db = sqlite3.connect(tmp_path / "title-index.sqlite3")
    db.execute("UPDATE title_index_ranges SET record_hash = ? WHERE seq = 2", ("ab" * 32,))
    db.commit()
    db.close()
    scanned, found = both(world, index, "CA0001:GHA:1-100")
    assert answer(found) == answer(scanned) and found["evidence"]["index"] == {"used": False}
    assert index.mark() == (0, "")  # reset: the next lookup rebuilds it
    rebuilt = title_from_log(world.log, parse_block("CA0001:GHA:1-100"), jwks=world.keyring.jwks(),
                             verify_chain=False, index=index)
    assert rebuilt["evidence"]["index"]["used"] and answer(rebuilt) == answer(scanned)


def test_an_unreadable_index_falls_back_to_the_scan(world: World, index: TitleIndex, tmp_path: Path) -> None:
    across_three_registries(world)
    index.close()  # its connection is gone: every read fails
    scanned, found = both(world, index, "CA0001:GHA:1-100")
    assert answer(found) == answer(scanned) and found["evidence"]["index"] == {"used": False}
    (tmp_path / "dir.sqlite3").mkdir()
    with pytest.raises(TitleIndexUnavailable) as caught:
        open_title_index(f"sqlite:///{tmp_path / 'dir.sqlite3'}")
    assert caught.value.code == "TITLE.INDEX_UNAVAILABLE"


def test_evidence_edited_under_the_index_is_a_coded_finding(world: World, index: TitleIndex,
                                                           tmp_path: Path) -> None:
    across_three_registries(world)
    index.catch_up(world.log)
    db = sqlite3.connect(tmp_path / "evidence.sqlite3")
    receipt = json.loads(db.execute("SELECT receipt FROM evidence WHERE seq = 6").fetchone()[0])
    receipt["receiver"]["id"] = "gha"  # who received CHE's units 1-40, rewritten; the stored hash kept
    db.execute("DROP TRIGGER evidence_no_update")  # an attacker with the database file
    db.execute("UPDATE evidence SET receipt = ? WHERE seq = 6", (json.dumps(receipt),))
    db.commit()
    db.close()
    found = title_from_log(world.log, parse_block("CA0001:GHA:1-50"), jwks=world.keyring.jwks(),
                           verify_chain=False, index=index)
    assert not found["verified"] and found["evidence"]["index"]["used"]
    codes = [f["code"] for f in found["findings"]]
    assert codes[0] == "EVIDENCE.HASH_MISMATCH" and "TITLE.RECEIPT_SIGNATURE" in codes


def test_the_cli_finds_the_trail_through_the_index(world: World, tmp_path: Path) -> None:
    across_three_registries(world)
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(world.keyring.jwks()))
    log_url, index_url = f"sqlite:///{tmp_path / 'evidence.sqlite3'}", f"sqlite:///{tmp_path / 'cli-index.sqlite3'}"
    plain = run_cli("title", "CA0001:GHA:1-100", "--log", log_url, "--jwks", str(jwks), "--json")
    through = run_cli("title", "CA0001:GHA:1-100", "--log", log_url, "--jwks", str(jwks), "--json",
                      "--index", index_url)
    assert plain.returncode == 0 and through.returncode == 0, through.stdout + through.stderr
    assert answer(json.loads(through.stdout)) == answer(json.loads(plain.stdout))
    assert json.loads(through.stdout)["evidence"]["index"]["records_read"] == 6
    text = run_cli("title", "CA0001:GHA:1-100", "--log", log_url, "--jwks", str(jwks), "--index", index_url)
    assert "found through the title index" in text.stdout


def test_gateways_sharing_a_postgres_index_give_the_scan_s_answers(world: World, postgres_dsn: str) -> None:
    table = f"title_{uuid.uuid4().hex[:10]}"
    first = open_title_index(f"{postgres_dsn}?table={table}")
    second = open_title_index(f"{postgres_dsn}?table={table}")
    try:
        world.relay("gha", "che", [(1, 100)])
        first.catch_up(world.log)
        across_three_registries(world)
        for text in BLOCKS:
            scanned, found = both(world, second, text)
            assert answer(found) == answer(scanned) and found["evidence"]["index"]["used"], text
        assert first.mark() == world.log.head()
    finally:
        first._run(lambda cur: [cur.execute(f"DROP TABLE IF EXISTS {table}_{t}") for t in ("ranges", "series", "mark")])
        first.close()
        second.close()


def test_two_processes_catching_up_at_once_leave_a_whole_index(world: World, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gateway.title._index.CATCH_UP_BATCH", 3)  # many small batches, interleaved
    across_three_registries(world)
    url = f"sqlite:///{tmp_path / 'shared-index.sqlite3'}"
    first, second = open_title_index(url), open_title_index(url)
    try:
        threads = [threading.Thread(target=index.catch_up, args=(world.log,)) for index in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert first.mark() == world.log.head()
        assert first.size()["ranges"] == 9  # one row per range of each receipt, none twice
        for text in BLOCKS:
            scanned, found = both(world, second, text)
            assert answer(found) == answer(scanned) and found["evidence"]["index"]["caught_up"] == 0, text
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize(("setting", "evidence", "expected"), [
    (None, "sqlite:////data/evidence.sqlite3", "sqlite:////data/title-index.sqlite3?synchronous=normal"),
    (None, "postgresql://gw@db/carbon?table=ev_a&sslmode=require",
     "postgresql://gw@db/carbon?sslmode=require&table=ev_a_title"),
    (None, "postgresql://gw@db/carbon", "postgresql://gw@db/carbon?table=evidence_title"),
    (None, "postgresql://gw@db/carbon?table=" + "e" * 48, "postgresql://gw@db/carbon?table=" + "e" * 34 + "_title"),
    ("off", "postgresql://gw@db/carbon", None),
    ("sqlite:////idx/t.sqlite3", "sqlite:////data/evidence.sqlite3", "sqlite:////idx/t.sqlite3"),
])
def test_where_the_gateway_keeps_its_index(setting: str | None, evidence: str, expected: str | None) -> None:
    from gateway._settings_sections import GovernanceSettings

    assert GovernanceSettings(title_index=setting).title_index_url(Path("/data"), evidence) == expected


def test_the_keeper_brings_the_index_up_to_date_in_the_background(world: World, index: TitleIndex,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    across_three_registries(world)
    keeper = IndexKeeper(lambda: index, lambda: world.log, interval=0.05).start()
    try:
        deadline = time.monotonic() + 30
        while index.mark() != world.log.head() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert index.mark() == world.log.head() and keeper.last_error is None
        world.relay("nor", "che", [(41, 45)], action="transfer")  # recorded after: the keeper reads it too
        while index.mark() != world.log.head() and time.monotonic() < deadline:
            time.sleep(0.05)
        found = title_from_log(world.log, parse_block("CA0001:GHA:41-45"), jwks=world.keyring.jwks(),
                               verify_chain=False, index=index)
        assert found["evidence"]["index"]["caught_up"] == 0 and holders(found)[0][2] == "che"
    finally:
        keeper.stop()
    # stopped: a set stop ends a catch-up after its batch, the mark saying how far it got
    monkeypatch.setattr("gateway.title._index.CATCH_UP_BATCH", 2)
    index.reset()
    stop = threading.Event()
    stop.set()
    assert index.catch_up(world.log, stop=stop) == 0 and index.mark() == (0, "")


def test_a_keeper_whose_index_cannot_open_logs_and_goes_on(world: World, tmp_path: Path) -> None:
    (tmp_path / "dir.sqlite3").mkdir()
    keeper = IndexKeeper(lambda: open_title_index(f"sqlite:///{tmp_path / 'dir.sqlite3'}"), lambda: world.log)
    assert keeper.once() == 0 and keeper.last_error == "TITLE.INDEX_UNAVAILABLE"
    assert IndexKeeper(lambda: None, lambda: world.log).once() == 0  # the service is not up yet
