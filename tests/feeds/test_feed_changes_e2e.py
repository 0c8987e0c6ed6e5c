"""Change subscriptions: server-sent events with a gap-free sequence per source, resumed after a reconnect at
the other of two gateway processes that share the view's store, without loss or duplicates."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.client import GatewayClient
from gateway.demo import Registry
from gateway.feeds.compaction import cutoff
from gateway.feeds.sql import Database
from gateway.feeds.store import FeedStore
from gateway.sandbox.store import SandboxStore
from gateway.sandbox.units import parse_hold_spec
from gateway.trust import jose
from tests.feeds.support import FeedNetwork, seed_registry
from tests.support.processes import ThreadedServer
from tests.support.services import require_postgres, unique_prefix

pytestmark = pytest.mark.e2e

BASE = 18440
#: network root -> the store its gateways share (target, table prefix)
STORES: dict[Path, tuple[str, str]] = {}
TAIL = "VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1"


def vcu(first: int, last: int) -> str:
    return f"19385-{first}-{last}-{TAIL}"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.service)])
def net(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FeedNetwork]:
    """Two gateway processes sharing one store: the same SQLite file, or the same PostgreSQL tables."""
    root: Path = tmp_path_factory.mktemp("changes")
    seed_registry(root, "gha", holds=[vcu(1, 100), vcu(201, 300)],
                  projects=[{"registry": "Verra", "project_id": "1340", "name": "Adama", "country": "ETH"}])
    env = {"CARBONLINK_FEEDS_MAX_AGE_SECONDS": "0", "CARBONLINK_FEEDS_STORE": str(root / "feeds.sqlite3"),
           "CARBONLINK_FEEDS_WEBHOOK_BACKOFF": "0.5", "CARBONLINK_FEEDS_WEBHOOK_INTERVAL": "0.2"}
    database = None
    STORES[root] = (str(root / "feeds.sqlite3"), "feed_")
    if request.param == "postgres":
        prefix = unique_prefix("feed").replace("-", "_") + "_"
        env |= {"CARBONLINK_FEEDS_STORE": require_postgres(), "CARBONLINK_FEEDS_STORE_PREFIX": prefix}
        database = Database(require_postgres(), prefix=prefix)
        STORES[root] = (require_postgres(), prefix)
    base = BASE if request.param == "sqlite" else BASE + 30
    network = FeedNetwork([Registry("gha", "GHA", "canonical")], root=root, base=base, readable={"gha"},
                          gateway_env=env, gateways=2)
    try:
        with network:
            yield network
    finally:
        if database is not None:
            database.drop()


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


class Receiver(ThreadedServer):
    """A subscriber's webhook endpoint: answers 500 to the first ``fail`` deliveries, then 204."""

    def __init__(self, port: int, fail: int) -> None:
        self.received: list[tuple[bytes, str | None, int]] = []
        self.fail = fail

        async def hook(request: Request) -> Response:
            body = await request.body()
            status = 500 if self.fail > 0 else 204
            self.fail -= 1
            self.received.append((body, request.headers.get("carbonlink-signature"), status))
            return Response(status_code=status)

        super().__init__(Starlette(routes=[Route("/hook", hook, methods=["POST"])]), port=port, log_level="error")


def wait_for(check: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_webhook_deliveries_are_signed_retried_with_backoff_and_visible(net: FeedNetwork) -> None:
    receiver = Receiver(net.gateway_port + 10, fail=2)
    receiver.start_serving(timeout=10)
    try:
        reader = net.reader(0)
        created = reader.request("POST", "/v1/feeds/subscriptions",
                                 content=json.dumps({"url": f"{receiver.url}/hook"}).encode(),
                                 headers={"Content-Type": "application/json"})
        assert created.status_code == 201, created.text
        sid = created.json()["id"]
        failing = wait_for(lambda: (s := reader.request("GET", f"/v1/feeds/subscriptions/{sid}").json())
                           ["attempts"] >= 1 and s)
        assert failing["last_error"] == "HTTP 500" and failing["next_attempt_at"] and failing["delivered"] == 0
        done = wait_for(lambda: (s := net.reader(1).request("GET", f"/v1/feeds/subscriptions/{sid}").json())
                        ["delivered"] > 0 and s)
        assert done["attempts"] == 0 and done["last_error"] is None
        keys = reader.gateway_keys()
        accepted = [(body, signature) for body, signature, status in receiver.received if status == 204]
        seqs = []
        for body, signature in accepted:
            assert signature is not None
            jose.verify(signature, typ=["carbonlink-feed-changes+jws"], key_for=lambda h: keys[h["kid"]],
                        payload=body, registry=jose.make_registry(max_payload=len(body) * 2 + 1024))
            seqs += [c["seq"] for c in json.loads(body)["changes"] if c["source"] == "gha"]
        assert seqs == list(range(1, len(seqs) + 1)) and done["position"] == f"gha:{seqs[-1]}"
        assert [status for _, _, status in receiver.received[:3]] == [500, 500, 204]
        gone = reader.request("DELETE", f"/v1/feeds/subscriptions/{sid}")
        assert gone.status_code == 204
        assert reader.request("GET", f"/v1/feeds/subscriptions/{sid}").status_code == 404
    finally:
        receiver.stop_serving()


def test_a_subscriber_behind_the_compacted_change_log_is_told_with_a_code(net: FeedNetwork) -> None:
    """Runs last: compacts the shared log (as the gateways' compactor would, with a policy keeping one change)."""
    target, prefix = STORES[net.root]
    store = FeedStore(target, prefix=prefix)
    try:
        top = store.sources()["gha"].seq
        assert store.compact(cutoff(-1), keep_last=1) == {"gha": top - 1}
    finally:
        store.close()
    behind = net.reader(1).request("GET", "/v1/feeds/changes?after=gha:2&wait=0")
    assert behind.status_code == 410 and behind.json()["code"] == "FEED.CHANGES_COMPACTED"
    assert f"resume from gha:{top}" in behind.json()["detail"]
    kept = [e for e in events(net.reader(0), f"after=gha:{top - 1}&wait=0") if e["event"] == "change"]
    assert [e["data"]["seq"] for e in kept] == [top]
    reader = net.reader(0)
    created = reader.request("POST", "/v1/feeds/subscriptions", headers={"Content-Type": "application/json"},
                             content=json.dumps({"url": f"http://127.0.0.1:{net.gateway_port + 11}/hook",
                                                 "after": "gha:0"}).encode())
    assert created.status_code == 201, created.text
    sid = created.json()["id"]
    stuck = wait_for(lambda: (s := reader.request("GET", f"/v1/feeds/subscriptions/{sid}").json())["attempts"] and s)
    assert stuck["last_error"].startswith("FEED.CHANGES_COMPACTED") and stuck["delivered"] == 0
