"""Change subscriptions: server-sent events with a gap-free sequence per source, resumed after a reconnect at
the other of two gateway processes that share the view's store, without loss or duplicates."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.client import GatewayClient
from gateway.demo import Registry
from gateway.sandbox.store import SandboxStore
from gateway.sandbox.units import parse_hold_spec
from tests.feeds.support import FeedNetwork, seed_registry

pytestmark = pytest.mark.e2e

BASE = 18440
TAIL = "VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1"


def vcu(first: int, last: int) -> str:
    return f"19385-{first}-{last}-{TAIL}"


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FeedNetwork]:
    root: Path = tmp_path_factory.mktemp("changes")
    seed_registry(root, "gha", holds=[vcu(1, 100), vcu(201, 300)],
                  projects=[{"registry": "Verra", "project_id": "1340", "name": "Adama", "country": "ETH"}])
    env = {"CARBONLINK_FEEDS_MAX_AGE_SECONDS": "0", "CARBONLINK_FEEDS_STORE": str(root / "feeds.sqlite3")}
    network = FeedNetwork([Registry("gha", "GHA", "canonical")], root=root, base=BASE, readable={"gha"},
                          gateway_env=env, gateways=2)
    with network:
        yield network


def events(client: GatewayClient, query: str, last_event_id: str | None = None) -> list[dict[str, Any]]:
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    response = client.request("GET", f"/v1/feeds/changes?{query}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    out = []
    for block in response.text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":"))
        if "data" in fields:
            out.append({"id": fields.get("id"), "event": fields["event"], "data": json.loads(fields["data"])})
    return out


def test_changes_resume_at_the_other_gateway_without_loss_or_duplicates(net: FeedNetwork) -> None:
    first = events(net.reader(0), "wait=0")
    assert first[0]["event"] == "coverage" and first[0]["data"]["sources"] == ["gha"]
    changes = [e for e in first if e["event"] == "change"]
    seqs = [e["data"]["seq"] for e in changes]
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) == 5  # 1 project, 2 units, 2 issuances
    assert changes[-1]["id"] == f"gha:{seqs[-1]}"
    half = changes[2]["id"]  # the subscriber got three events, then its connection dropped

    store = SandboxStore(net.root / "gha.sqlite3")  # the registry books more units meanwhile
    try:
        store.seed([parse_hold_spec(vcu(401, 450))], default_account="treasury", source="later")
    finally:
        store.close()

    resumed = [e for e in events(net.reader(1), "wait=0", last_event_id=half) if e["event"] == "change"]
    assert [e["data"]["seq"] for e in resumed] == list(range(4, 8))  # 2 old ones, then 1 unit + 1 issuance
    assert [e["data"]["key"] for e in resumed[:2]] == [e["data"]["key"] for e in changes[3:]]
    assert resumed[-1]["id"] == "gha:7"
    again = [e for e in events(net.reader(0), "after=gha:7&wait=0") if e["event"] == "change"]
    assert again == []


def test_limit_and_bad_positions(net: FeedNetwork) -> None:
    limited = [e for e in events(net.reader(0), "limit=2&wait=0") if e["event"] == "change"]
    assert [e["data"]["seq"] for e in limited] == [1, 2]
    bad = net.reader(0).request("GET", "/v1/feeds/changes?after=gha:x")
    assert bad.status_code == 400 and bad.json()["code"] == "FEED.QUERY_INVALID"
