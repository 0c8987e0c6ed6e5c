"""The harmonized feeds end to end: a gateway process pulls three sandbox registry processes through their read
sides (gateway token, signed pages, cursors), one registry pushes a snapshot, one is down; the feeds merge,
paginate, filter, stream, say what is missing, and the conflicts feed finds the double counting."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import orjson
import pytest

from gateway.client import GatewayClient
from gateway.demo import Registry
from gateway.trust.keys import generate_key
from tests.feeds.support import (
    FeedNetwork,
    MisbehavingReadSide,
    dead_participant,
    misbehaving_participant,
    pushing_participant,
    seed_registry,
)

MISSING = ["down", "garbage", "refused", "unsigned"]

pytestmark = pytest.mark.e2e

TAIL = "VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1"
BASE = 18400


def vcu(first: int, last: int, batch: str = "19385") -> str:
    return f"{batch}-{first}-{last}-{TAIL}"


ITMO = "CA0001-GHA01-GHA-1-2023..CA0001-GHA01-GHA-500-2023"
ADAMA = {"registry": "Verra", "project_id": "1340", "name": "Adama Wind Farm", "country": "ETH"}


def _snapshot() -> bytes:
    first_transfer = {"action_type": "First transfer", "cooperative_approach": "CA0009", "registry": "SEN01",
                      "first_transferring_party": "SEN", "vintage": 2023, "metric": "GHG"}
    return orjson.dumps({
        "units": [{"registry": "ncr", "serial": vcu(1000, 1099), "first_id": 1000, "last_id": 1099,
                   "quantity": "100", "vintage": 2020, "status": "retired"}],
        "actions": [{**first_transfer, "date": "2024-03-01T10:00:00Z", "first_id": 1, "last_id": 100,
                     "quantity": "100", "message_id": "ft-1", "acquiring_party": "CHE"},
                    {**first_transfer, "date": "2024-05-01T10:00:00Z", "first_id": 50, "last_id": 150,
                     "quantity": "101", "message_id": "ft-2", "acquiring_party": "JPN"}]})


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FeedNetwork]:
    root: Path = tmp_path_factory.mktemp("feeds")
    seed_registry(root, "gha", holds=[f"{vcu(1000, 1999)}@treasury", f"{vcu(5000, 5999, '19390')}@treasury", ITMO],
                  projects=[ADAMA])
    seed_registry(root, "che", holds=[f"{vcu(1500, 2499)}@treasury"], projects=[
        {"registry": "Gold Standard", "project_id": "GS4410", "name": "Wind Farm Adama", "country": "ETH"},
        {**ADAMA, "name": "Adama Wind Farm Phase 1"}])
    seed_registry(root, "col", holds=[f"{vcu(5000, 5999, '19390')}@treasury"], projects=[])
    registries = [Registry("gha", "GHA", "canonical"), Registry("che", "CHE", "canonical"),
                  Registry("col", "COL", "canonical")]
    ncr_key = generate_key("ES256", "ncr-1")
    bad_keys = {mode: generate_key("ES256", f"{mode}-1") for mode in ("unsigned", "garbage", "refused")}
    bad = [MisbehavingReadSide(BASE + 91 + i, mode, key, mode).start()
           for i, (mode, key) in enumerate(bad_keys.items())]
    extra = [dead_participant("down", BASE + 90, generate_key("ES256", "down-1")),
             pushing_participant("ncr", "SEN", ncr_key),
             *(misbehaving_participant(mode, BASE + 91 + i, key) for i, (mode, key) in enumerate(bad_keys.items()))]
    env = {"CARBONLINK_FEEDS_MAX_AGE_SECONDS": "0", "CARBONLINK_FEEDS_PULL_PAGE_SIZE": "2",
           "CARBONLINK_FEEDS_PULL_TIMEOUT": "3"}
    network = FeedNetwork(registries, root=root, base=BASE, readable={"gha", "che", "col"}, extra=extra,
                          gateway_env=env)
    with network:
        pusher = GatewayClient(network.gateway_url, "ncr", ncr_key, scope="feeds:push")
        pushed = pusher.request("PUT", "/v1/feeds/snapshot", content=_snapshot(),
                                headers={"Content-Type": "application/json"})
        assert pushed.status_code == 200, pushed.text
        network.pushed = pushed.json()  # type: ignore[attr-defined]
        yield network
    for server in bad:
        server.stop()


def get(client: GatewayClient, path: str, **headers: str) -> Any:
    return client.request("GET", path, headers=headers)


def all_items(client: GatewayClient, path: str, limit: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        sep = "&" if "?" in path else "?"
        url = f"{path}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        page = get(client, url).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the cursor never ended")


def test_snapshot_push_is_counted(net: FeedNetwork) -> None:
    pushed = net.pushed  # type: ignore[attr-defined]
    assert pushed["registry"] == "ncr" and pushed["records"] == 3 and pushed["sequence"] >= 3


def test_units_feed_merges_sources_and_names_the_missing_registry(net: FeedNetwork) -> None:
    response = get(net.reader(), "/v1/feeds/cadt/v2/units?limit=50")
    assert response.status_code == 200, response.text
    assert response.headers["carbonlink-feed-complete"] == "false"
    assert 'down; code="FEED.SOURCE_UNREACHABLE"' in response.headers["carbonlink-feed-missing"]
    page = response.json()
    assert {m["registry"]: m["code"] for m in page["missing"]} == {
        "down": "FEED.SOURCE_UNREACHABLE", "garbage": "FEED.SOURCE_GARBAGE", "refused": "FEED.SOURCE_REFUSED",
        "unsigned": "FEED.SOURCE_UNSIGNED"}
    assert 'garbage; code="FEED.SOURCE_GARBAGE"' in response.headers["carbonlink-feed-missing"]
    assert page["sources"] == ["che", "col", "gha", "ncr"]
    mirror = [i for i in page["items"] if i["record"].get("unitSerialId") == vcu(5000, 5999, "19390")]
    assert len(mirror) == 1 and mirror[0]["sources"] == ["col", "gha"] and "conflicts" not in mirror[0]
    assert mirror[0]["record"]["unitStartBlock"] == "5000" and mirror[0]["record"]["unitStatus"] == "Held"
    serials = [i["record"].get("unitSerialId") for i in page["items"]]
    assert vcu(1000, 1999) in serials and vcu(1500, 2499) in serials and vcu(1000, 1099) in serials
    assert page["count"] == len(page["items"]) == 5  # gha 3 (one the mirror of col), che 1, ncr 1


def test_cursor_pages_cover_the_feed_once(net: FeedNetwork) -> None:
    whole = get(net.reader(), "/v1/feeds/cadt/v2/units?limit=1000").json()["items"]
    paged = all_items(net.reader(), "/v1/feeds/cadt/v2/units", limit=2)
    assert [i["key"] for i in paged] == [i["key"] for i in whole]
    assert len({i["key"] for i in paged}) == len(paged)


def test_ndjson_stream_ends_with_a_summary_line(net: FeedNetwork) -> None:
    response = get(net.reader(), "/v1/feeds/cadt/v2/units?format=ndjson")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines()]
    end = lines[-1]
    assert end["type"] == "end" and end["count"] == len(lines) - 1 == 5
    assert end["complete"] is False and [m["registry"] for m in end["missing"]] == MISSING


def test_csv_and_xlsx_have_the_cadt_columns(net: FeedNetwork) -> None:
    response = get(net.reader(), "/v1/feeds/cadt/v2/units", Accept="text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:4] == ["key", "sources", "updated_at", "cadTrustUnitId"] and rows[0][-1] == "conflicts"
    assert len(rows) == 6 and any(r[1] == "col; gha" for r in rows[1:])
    book = openpyxl.load_workbook(io.BytesIO(get(net.reader(), "/v1/feeds/cadt/v2/units?format=xlsx").content))
    assert book["units"].max_row == 6 and [c.value for c in book["missing"]["A"][1:]] == MISSING


def test_etag_answers_304_until_a_source_changes(net: FeedNetwork) -> None:
    reader = net.reader()
    first = get(reader, "/v1/feeds/cadt/v2/projects")
    etag = first.headers["etag"]
    again = get(reader, "/v1/feeds/cadt/v2/projects", **{"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag
    other = get(reader, "/v1/feeds/cadt/v2/units", **{"If-None-Match": etag})
    assert other.status_code == 200  # another feed, another tag
    for variant in ("?format=csv", "?format=ndjson", "?limit=1"):  # another representation, another tag
        answer = get(reader, "/v1/feeds/cadt/v2/projects" + variant, **{"If-None-Match": etag})
        assert answer.status_code == 200 and answer.headers["etag"] != etag
    aef = get(reader, "/v1/feeds/aef/SEN/2024")
    assert get(reader, "/v1/feeds/aef/SEN/2024", **{"If-None-Match": aef.headers["etag"]}).status_code == 304
    assert get(reader, "/v1/feeds/aef/SEN/2024?format=csv&table=T2",
               **{"If-None-Match": aef.headers["etag"]}).status_code == 200


def test_same_project_from_two_registries_reports_the_conflict(net: FeedNetwork) -> None:
    items = get(net.reader(), "/v1/feeds/cadt/v2/projects").json()["items"]
    adama = [i for i in items if i["record"].get("projectId") == "1340"]
    assert len(adama) == 1 and adama[0]["sources"] == ["che", "gha"]
    assert adama[0]["conflicts"] == [{"field": "name", "values": {"che": "Adama Wind Farm Phase 1",
                                                                  "gha": "Adama Wind Farm"}}]
    assert "projectName" not in adama[0]["record"]  # never silently chosen


def test_conflicts_feed_finds_every_kind_of_double_counting(net: FeedNetwork) -> None:
    body = get(net.reader(), "/v1/feeds/conflicts").json()
    by_code: dict[str, list[dict[str, Any]]] = {}
    for finding in body["findings"]:
        by_code.setdefault(finding["code"], []).append(finding)
    overlap = by_code["FEED.DC.SERIAL_OVERLAP"]
    assert {frozenset(r["registry"] for r in f["records"]) for f in overlap} >= {frozenset({"gha", "che"})}
    retired = by_code["FEED.DC.RETIRED_AND_ACTIVE"]
    assert {r["registry"] for r in retired[0]["records"]} == {"gha", "ncr"}
    twice = by_code["FEED.DC.ITMO_FIRST_TRANSFERRED_TWICE"]
    assert len(twice) == 1 and [r["first"] for r in twice[0]["records"]] == [1, 50]
    projects = by_code["FEED.DC.PROJECT_TWO_PROGRAMMES"]
    assert any({r["programme"] for r in f["records"]} == {"Verra", "Gold Standard"} for f in projects)
    assert body["complete"] is False and [m["registry"] for m in body["missing"]] == MISSING
    mirror_pairs = [f for f in overlap if {r["registry"] for r in f["records"]} == {"col", "gha"}]
    assert mirror_pairs and "same block" in mirror_pairs[0]["message"]


@pytest.mark.parametrize(("query", "expected_sources"), [
    ("status=retired", {("ncr",)}),
    ("registry=che", {("che",)}),
    ("party=COL", {("col",)}),
    ("vintage=2023", {("gha",)}),
])
def test_filters(net: FeedNetwork, query: str, expected_sources: set[tuple[str, ...]]) -> None:
    page = get(net.reader(), f"/v1/feeds/canonical/units?{query}").json()
    assert page["items"] and {tuple(i["sources"]) for i in page["items"]} == expected_sources


def test_updated_since_in_the_future_is_empty(net: FeedNetwork) -> None:
    page = get(net.reader(), "/v1/feeds/canonical/units?updated_since=2999-01-01T00:00:00Z").json()
    assert page["items"] == [] and page["next_cursor"] is None


@pytest.mark.parametrize("query", ["vintage=20x3", "status=lost", "action_type=Gift", "party=XX",
                                   "cursor=%%%", "updated_since=yesterday", "format=pdf", "limit=0"])
def test_bad_queries_are_coded_400(net: FeedNetwork, query: str) -> None:
    response = get(net.reader(), f"/v1/feeds/canonical/units?{query}")
    assert response.status_code == 400, response.text
    assert response.json()["code"] in ("FEED.QUERY_INVALID", "FEED.CURSOR_INVALID")


def test_unknown_feed_is_coded(net: FeedNetwork) -> None:
    response = get(net.reader(), "/v1/feeds/cadt/v1/issuances")  # v1 nests issuances in projects
    assert response.status_code == 400 and response.json()["code"] == "HTTP.INVALID_REQUEST"
    assert "kind" in response.json()["detail"]
    response = get(net.reader(), "/v1/feeds/canonical/units?vintage=soon")
    assert response.status_code == 400 and response.json()["code"] == "FEED.QUERY_INVALID"


def test_a_registry_may_be_limited_to_its_own_data(net: FeedNetwork) -> None:
    own = net.registry_reader("gha", "feeds:read:own")
    page = get(own, "/v1/feeds/canonical/units").json()
    assert page["sources"] == ["gha"] and all(i["sources"] == ["gha"] for i in page["items"])
    refused = get(own, "/v1/feeds/canonical/units?registry=che")
    assert refused.status_code == 403 and refused.json()["code"] == "FEED.FORBIDDEN"
    no_scope = get(net.registry_reader("gha", "messages:send"), "/v1/feeds/canonical/units")
    assert no_scope.status_code == 403


def test_issuances_and_v1_shapes(net: FeedNetwork) -> None:
    items = get(net.reader(), "/v1/feeds/cadt/v2/issuances").json()["items"]
    assert items and all(i["record"]["cadTrustIssuanceId"] == i["related"]["unit"][0]["cadTrustIssuanceId"]
                         for i in items)
    v1 = get(net.reader(), "/v1/feeds/cadt/v1/units").json()["items"]
    assert v1 and all("unitBlockStart" in i["record"] for i in v1)


def test_aef_feed_of_a_party_and_year(net: FeedNetwork) -> None:
    report = get(net.reader(), "/v1/feeds/aef/SEN/2024").json()
    actions = report["report"]["Actions"]
    assert [a["FirstID"] for a in actions] == [1, 50] and report["sources"] == ["ncr"]
    holdings = get(net.reader(), "/v1/feeds/aef/GHA/2023").json()["report"]["Holdings"]
    assert [(h["FirstID"], h["LastID"]) for h in holdings] == [(1, 500)]
    book = openpyxl.load_workbook(io.BytesIO(get(net.reader(), "/v1/feeds/aef/SEN/2024?format=xlsx").content))
    assert len(book.sheetnames) >= 5
    table = get(net.reader(), "/v1/feeds/aef/SEN/2024?format=csv&table=T3").text
    assert table.count("\n") >= 3


def test_bad_snapshot_is_refused_with_findings(net: FeedNetwork) -> None:
    pusher = net.registry_reader("gha", "feeds:push")
    response = pusher.request("PUT", "/v1/feeds/snapshot", content=b'{"units": [{"first_id": "x"}]}',
                              headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and response.json()["code"] == "FEED.SNAPSHOT_INVALID"


def _key_file(net: FeedNetwork, tmp_path: Path) -> str:
    path = tmp_path / "reader.key.json"
    path.write_text(json.dumps(net.reader_key.as_dict(private=True)))
    return str(path)


def test_cli_feed_pull_writes_the_stream_and_fails_when_a_registry_is_missing(
        net: FeedNetwork, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from gateway.cli import main

    target = tmp_path / "units.ndjson"
    args = ["feed", "pull", "--gateway", net.gateway_url, "--client-id", "unfccc-reader", "--key",
            _key_file(net, tmp_path), "--standard", "cadt-v2", "-o", str(target)]
    assert main(args) == 1
    lines = target.read_text().splitlines()
    assert len(lines) == 6 and json.loads(lines[-1])["type"] == "end"
    assert "missing registry down: FEED.SOURCE_UNREACHABLE" in capsys.readouterr().err
    assert main([*args, "--allow-partial"]) == 0


def test_cli_feed_pull_json_holds_every_page_and_aef_csv_any_table(
        net: FeedNetwork, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.cli import feeds as feed_cli
    from gateway.cli import main

    monkeypatch.setattr(feed_cli, "PAGE", 2)  # five items: three pages
    base = ["feed", "pull", "--gateway", net.gateway_url, "--client-id", "unfccc-reader", "--key",
            _key_file(net, tmp_path)]
    target = tmp_path / "units.json"
    assert main([*base, "--standard", "cadt-v2", "-o", str(target)]) == 1  # a registry is down
    body = json.loads(target.read_text())
    assert body["count"] == len(body["items"]) == 5 and body["complete"] is False
    assert len({i["key"] for i in body["items"]}) == 5 and body["missing"][0]["registry"] == "down"
    t4 = tmp_path / "t4.csv"
    assert main([*base, "--standard", "aef", "--party", "GHA", "--year", "2023", "--table", "t4", "-o", str(t4)]) == 0
    assert t4.read_text().lstrip("\ufeff").startswith("Cooperative approach ID,") and ",500," in t4.read_text()
    assert main([*base, "--standard", "cadt-v2", "--table", "T4", "-o", str(t4)]) == 2  # not an AEF csv


def test_cli_feed_pull_aef_workbook(net: FeedNetwork, tmp_path: Path) -> None:
    from gateway.cli import main

    target = tmp_path / "aef.xlsx"
    assert main(["feed", "pull", "--gateway", net.gateway_url, "--client-id", "unfccc-reader", "--key",
                 _key_file(net, tmp_path), "--standard", "aef", "--party", "SEN", "--year", "2024",
                 "-o", str(target)]) == 0
    assert len(openpyxl.load_workbook(target).sheetnames) >= 5
    assert main(["feed", "pull", "--gateway", net.gateway_url, "--client-id", "unfccc-reader", "--key",
                 _key_file(net, tmp_path), "--standard", "aef", "-o", str(target)]) == 2  # no --party/--year


def test_cli_feed_conflicts(net: FeedNetwork, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from gateway.cli import main

    assert main(["feed", "conflicts", "--gateway", net.gateway_url, "--client-id", "unfccc-reader", "--key",
                 _key_file(net, tmp_path), "--json"]) == 1
    body = json.loads(capsys.readouterr().out)
    assert {f["code"] for f in body["findings"]} == {"FEED.DC.SERIAL_OVERLAP", "FEED.DC.RETIRED_AND_ACTIVE",
                                                     "FEED.DC.ITMO_FIRST_TRANSFERRED_TWICE",
                                                     "FEED.DC.PROJECT_TWO_PROGRAMMES"}


def test_subscription_and_changes_refuse_what_the_caller_may_not_follow(net: FeedNetwork) -> None:
    own = net.registry_reader("gha", "feeds:read:own")
    refused = own.request("GET", "/v1/feeds/changes?source=che&wait=0")
    assert refused.status_code == 403 and refused.json()["code"] == "FEED.FORBIDDEN"
    bad_url = net.reader().request("POST", "/v1/feeds/subscriptions", content=b'{"url": "ftp://x"}',
                                   headers={"Content-Type": "application/json"})
    assert bad_url.status_code == 400 and bad_url.json()["code"] == "FEED.QUERY_INVALID"
    unknown = net.reader().request("GET", "/v1/feeds/subscriptions/sub-nope")
    assert unknown.status_code == 404 and unknown.json()["code"] == "FEED.SUBSCRIPTION_UNKNOWN"


def test_sources_list_the_state_of_every_registry(net: FeedNetwork) -> None:
    body = get(net.reader(), "/v1/feeds/sources").json()
    states = {s["registry"]: s for s in body["sources"]}
    assert states["ncr"]["mode"] == "push" and states["gha"]["mode"] == "pull" and states["gha"]["sequence"] > 0
    assert states["down"]["error"]["code"] == "FEED.SOURCE_UNREACHABLE"


def test_cli_feed_pull_csv(net: FeedNetwork, tmp_path: Path) -> None:
    from gateway.cli import main

    target = tmp_path / "projects.csv"
    assert main(["feed", "pull", "--gateway", net.gateway_url, "--client-id", "unfccc-reader", "--key",
                 _key_file(net, tmp_path), "--kind", "projects", "--allow-partial", "-o", str(target)]) == 0
    rows = list(csv.reader(io.StringIO(target.read_text())))
    assert rows[0][:3] == ["key", "sources", "updated_at"] and len(rows) == 3  # Verra 1340 once, GS4410
