"""The harmonized view without processes: natural keys, sequences and the change log, merging with
conflicts, double-counting detection and its threshold, the query string, the sandbox's read side."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from gateway.feeds.conflicts import detect
from gateway.feeds.errors import FeedQueryInvalid
from gateway.feeds.keys import index
from gateway.feeds.merge import merged
from gateway.feeds.params import feed_request
from gateway.feeds.render import prerender
from gateway.feeds.store import FeedStore, Query
from gateway.sandbox.listing import ListingQueryInvalid
from gateway.sandbox.service import Sandbox, SandboxConfig
from standards.model import Action, Project, UnitBlock

TAIL = "VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1"


def vcu(first: int, last: int) -> str:
    return f"19385-{first}-{last}-{TAIL}"


def unit(first: int, last: int, status: str = "held", **fields: Any) -> UnitBlock:
    return UnitBlock(serial=vcu(first, last), first_id=first, last_id=last, quantity=last - first + 1,
                     vintage=2020, status=status, **fields)


def put(store: FeedStore, source: str, kind: str, records: list[Any]) -> int:
    with store.replacing(source, "GHA", "push") as replacement:
        indexed = [index(kind, r, f"{source}:{i}") for i, r in enumerate(records)]
        shapes = prerender(kind, records, [i.key for i in indexed])
        replacement.add([(i, r.model_dump_json(exclude_defaults=True).encode(), s)
                         for i, r, s in zip(indexed, records, shapes, strict=True)])
    return replacement.seq


def test_sequence_counts_changes_only_and_deletions_are_logged(store: FeedStore) -> None:
    assert put(store, "a", "units", [unit(1, 10), unit(11, 20)]) == 2
    assert put(store, "a", "units", [unit(1, 10), unit(11, 20)]) == 2  # nothing changed: no new sequence
    assert put(store, "a", "units", [unit(1, 10, status="retired")]) == 4  # one changed, one gone
    ops = [(c.seq, c.op) for c in store.changes("a", 0, 100)]
    assert ops == [(1, "upsert"), (2, "upsert"), (3, "upsert"), (4, "delete")]
    assert [c.seq for c in store.changes("a", 2, 100)] == [3, 4]


def test_a_failed_replacement_leaves_the_previous_rows(store: FeedStore) -> None:
    put(store, "a", "units", [unit(1, 10)])
    with pytest.raises(RuntimeError), store.replacing("a", "GHA", "pull") as replacement:
        replacement.add([])
        raise RuntimeError("the registry went away mid-pull")
    assert [r.key for r in store.rows(Query("units", ("a",)))] and store.sources()["a"].seq == 1


def test_same_record_from_two_sources_is_one_item_and_conflicts_are_reported(store: FeedStore) -> None:
    put(store, "a", "projects", [Project(registry="Verra", project_id="1340", name="Adama", country="ETH")])
    put(store, "b", "projects", [Project(registry="Verra", project_id="1340", name="Adama II", country="ETH")])
    put(store, "c", "units", [unit(1, 10, registry="c", account="x")])
    put(store, "d", "units", [unit(1, 10, registry="d", account="y")])
    [project] = list(merged("projects", store.rows(Query("projects", ("a", "b")))))
    assert project.sources == ["a", "b"] and project.conflicts == [
        {"field": "name", "values": {"a": "Adama", "b": "Adama II"}}]
    assert "name" not in project.fields() and project.fields()["country"] == "ETH"
    [block] = list(merged("units", store.rows(Query("units", ("c", "d")))))
    assert block.sources == ["c", "d"] and block.conflicts == []  # registry and account are per source


def test_double_counting_findings(store: FeedStore) -> None:
    put(store, "a", "units", [unit(1, 100), unit(500, 599), unit(900, 999)])
    put(store, "b", "units", [unit(50, 150), unit(500, 599, status="retired"),
                              unit(900, 999, status="transferred")])
    when = datetime(2024, 1, 1, tzinfo=UTC)
    first = {"action_type": "First transfer", "cooperative_approach": "CA1", "registry": "SEN01",
             "first_transferring_party": "SEN", "vintage": 2023, "date": when}
    put(store, "c", "actions", [Action(**first, first_id=1, last_id=10, message_id="m1"),
                                Action(**first, first_id=11, last_id=20, message_id="m2")])
    put(store, "d", "actions", [Action(**first, first_id=5, last_id=6, message_id="m3")])
    findings = [f.as_dict() for f in detect(store, ("a", "b", "c", "d"))]
    codes = sorted(f["code"] for f in findings)
    assert codes == ["FEED.DC.ITMO_FIRST_TRANSFERRED_TWICE", "FEED.DC.RETIRED_AND_ACTIVE",
                     "FEED.DC.SERIAL_OVERLAP"]  # the transferred block is an export, not a finding
    overlap = next(f for f in findings if f["code"] == "FEED.DC.SERIAL_OVERLAP")
    assert [(r["registry"], r["first"], r["last"]) for r in overlap["records"]] == [("a", 1, 100), ("b", 50, 150)]


@pytest.mark.parametrize(("threshold", "found"), [(90.0, True), (99.0, False)])
def test_project_name_match_threshold_is_configurable(store: FeedStore, threshold: float, found: bool) -> None:
    put(store, "a", "projects", [Project(registry="Verra", project_id="1340", name="Adama Wind Farm",
                                         country="ETH")])
    put(store, "b", "projects", [Project(registry="Gold Standard", project_id="GS1", name="Adama Wind-Farms",
                                         country="ETH"),
                                 Project(registry="Gold Standard", project_id="GS2", name="Adama Wind Farm",
                                         country="KEN")])
    findings = list(detect(store, ("a", "b"), threshold=threshold))
    assert bool(findings) is found
    if found:
        assert {r["project_id"] for r in findings[0].records} == {"1340", "GS1"}


@pytest.mark.parametrize("query", [{"vintage": ["1800"]}, {"status": ["gone"]}, {"party": ["Ghana"]},
                                   {"updated_since": ["2024-01-01T00:00:00"]}, {"action_type": ["Gift"]}])
def test_query_values_are_checked(query: dict[str, list[str]]) -> None:
    with pytest.raises(FeedQueryInvalid):
        feed_request("cadt-v2", "units", query)


def test_query_values_are_normalised() -> None:
    request = feed_request("cadt-v2", "units", {"status": ["Retired,HELD"], "action_type": ["first transfer"],
                                                "updated_since": ["2024-01-01T02:00:00+02:00"]})
    assert request.statuses == ("retired", "held") and request.action_types == ("First transfer",)
    assert request.updated_since == "2024-01-01T00:00:00.000Z"


def test_sandbox_read_side_walks_blocks_then_the_journal(tmp_path: Path) -> None:
    sandbox = Sandbox(SandboxConfig(format="canonical", registry_id="gha", party="GHA", db=tmp_path / "s.db",
                                    operator_token="op", holds=(vcu(1, 10), vcu(21, 30), vcu(41, 50))))
    auth = {"authorization": "Bearer op"}
    seen, cursor = [], None
    for _ in range(10):
        answer = sandbox.read("units", {"limit": "2", **({"after": cursor} if cursor else {})}, auth)
        assert answer.status == 200 and answer.headers["Carbonlink-Listing-Format"] == "canonical"
        seen += [u["first_id"] for u in orjson.loads(answer.body)["units"]]
        cursor = answer.headers.get("Carbonlink-Next-Cursor")
        if cursor is None:
            break
    assert seen == [1, 21, 41]
    with pytest.raises(ListingQueryInvalid):
        sandbox.read("units", {"after": "bm90IGEgY3Vyc29y"}, auth)
    with pytest.raises(ListingQueryInvalid):
        sandbox.read("holdings", {}, auth)
    sandbox.store.close()


class _Puller:
    """Counts pulls; every pull lists one more unit block than the last."""

    def __init__(self) -> None:
        self.pulls = 0

    def pages(self, participant: Any) -> Any:
        self.pulls += 1
        yield "units", [unit(i * 10 + 1, i * 10 + 5) for i in range(self.pulls)]


def _view(store: FeedStore, max_age: float) -> tuple[Any, _Puller]:
    from types import SimpleNamespace

    from gateway.feeds.view import FeedView

    registry = SimpleNamespace(id="gha", party="GHA", active=True, message_kinds=["transfers"],
                               endpoints=SimpleNamespace(read="http://127.0.0.1:1/read"))
    directory = SimpleNamespace(current=lambda: SimpleNamespace(participants=[registry]))
    puller = _Puller()
    return FeedView(store, puller, directory, None, max_age=max_age), puller  # type: ignore[arg-type]


def test_requests_pull_stale_sources_unless_the_background_refresher_runs(store: FeedStore) -> None:
    view, puller = _view(store, max_age=0)
    view.refresh()
    view.refresh()
    assert puller.pulls == 2 and store.sources()["gha"].records == 2
    view.start_refresher()  # max_age 0: every request pulls, no refresher
    assert view.background is False
    view, puller = _view(store, max_age=1.0)
    view.start_refresher()
    try:
        view.refresh()  # the source was pulled before (by the other view): left to the refresher
        assert puller.pulls == 0
        deadline = time.monotonic() + 10
        while puller.pulls == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert puller.pulls >= 1 and view.coverage().as_of["gha"] is not None
    finally:
        view.stop_refresher()


@pytest.mark.parametrize("chunk", [1, 2, 3, 4000])
def test_ndjson_lines_are_the_json_page_items_across_chunk_boundaries(store: FeedStore, chunk: int,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The stream writes single-source records from their stored shapes and merges keys several sources hold
    (even when a chunk ends between their rows): line for line what the JSON page builds, same losses."""
    from types import SimpleNamespace

    from gateway.feeds import feed as feed_module
    from gateway.feeds.feed import FeedRequest, Feeds, Prepared
    from gateway.feeds.view import Coverage

    put(store, "a", "units", [unit(1, 10, account="x"), unit(11, 20, status="retired"), unit(21, 30)])
    put(store, "b", "units", [unit(11, 20, status="held"), unit(31, 40, account="y")])  # 11-20: status differs
    put(store, "c", "units", [unit(21, 30)])  # 21-30 in both, the same
    monkeypatch.setattr(feed_module, "STREAM_CHUNK", chunk)
    feeds = Feeds(SimpleNamespace(store=store))  # type: ignore[arg-type]
    for standard in ("cadt-v2", "cadt-v1"):
        prepared = Prepared(FeedRequest(standard, "units"), Coverage({"a": 1, "b": 1, "c": 1}, []),
                            Query("units", ("a", "b", "c")), '"x"')
        *lines, end = [orjson.loads(line) for line in b"".join(feeds.ndjson(prepared)).splitlines()]
        page = feeds.page(prepared, 100)
        assert lines == page["items"] and end["count"] == len(lines) == 4
        assert end["losses"] == page["losses"] and end["losses"]
        assert [line["sources"] for line in lines] == [["a"], ["a", "b"], ["a", "c"], ["b"]]
        assert [c["field"] for c in lines[1]["conflicts"]] == ["status"] and "conflicts" not in lines[2]


def test_a_pull_that_changes_nothing_rewrites_no_row(store: FeedStore) -> None:
    put(store, "a", "units", [unit(1, 10), unit(11, 20)])
    put(store, "a", "units", [unit(1, 10), unit(11, 20)])
    put(store, "a", "units", [unit(1, 10), unit(11, 20, status="retired")])
    with store.database.session() as db:
        gens = db.execute("SELECT nkey, gen FROM feed_records WHERE source = ? ORDER BY nkey", ("a",)).fetchall()
    assert [gen for _, gen in gens] == [1, 3]  # the unchanged row was only noted (outside the file), not written
    assert store.sources()["a"].gen == 3 and [c.seq for c in store.changes("a", 0, 10)] == [1, 2, 3]


def test_compaction_keeps_the_policy_and_tells_subscribers_behind_it(store: FeedStore) -> None:
    from types import SimpleNamespace

    from gateway.feeds.changes import check_position, stream
    from gateway.feeds.compaction import Compactor, cutoff
    from gateway.feeds.errors import ChangesCompacted

    for n in range(1, 6):  # five pulls, each changing one block: sequences 1..5
        put(store, "a", "units", [unit(1, 10, status="retired" if n % 2 else "held")])
    assert Compactor(store, keep_days=1, keep_last=0, interval=60).run_once() == {}  # all younger than a day
    assert store.compact(cutoff(-1), keep_last=2) == {"a": 3}  # old enough, but the last two are kept
    assert [c.seq for c in store.changes("a", 0, 10)] == [4, 5] and store.floors() == {"a": 3}
    assert store.compact(cutoff(-1), keep_last=2) == {}  # nothing more to do
    assert store.compact(cutoff(-1), keep_last=4) == {} and store.floors() == {"a": 3}  # a floor never falls
    with pytest.raises(ChangesCompacted) as behind:
        check_position(store, ["a"], {"a": 2})
    assert behind.value.code == "FEED.CHANGES_COMPACTED" and "resume from a:5" in behind.value.message
    check_position(store, ["a"], {"a": 3})  # saw change 3: nothing it needs is gone
    view = SimpleNamespace(store=store, refresh=lambda names: None)
    with pytest.raises(ChangesCompacted):
        list(stream(view, ["a"], {"a": 1}, wait=0, limit=None))  # type: ignore[arg-type]
    resumed = b"".join(stream(view, ["a"], {"a": 3}, wait=0, limit=None))  # type: ignore[arg-type]
    assert resumed.count(b"event: change") == 2 and b"id: a:5" in resumed


def test_an_unreachable_postgresql_store_is_a_coded_error() -> None:
    from gateway.feeds.errors import FeedStoreUnavailable

    with pytest.raises(FeedStoreUnavailable) as refused:
        FeedStore("postgresql://postgres@127.0.0.1:1/test")  # nothing listens on port 1
    assert refused.value.code == "FEED.STORE_UNAVAILABLE" and "127.0.0.1:1/test" in refused.value.message
