"""The MRV chain across real processes (a ``carbonlink serve`` gateway and two ``carbonlink sandbox`` registries):
report -> verification -> issuance -> first transfer of the issued units; the trail of the block checked offline
by the command line; a period reported again to the other registry refused; a retried request issues once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.demo import Network
from gateway.demo_mrv import MrvParties, documents, first_transfer, network, run_chain, trail_of
from tests.support.cli import run_cli

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[Network, MrvParties, dict[str, Any]]]:
    parties = MrvParties()
    with network(parties) as net:
        yield net, parties, run_chain(net, parties, "che-sandbox", quantity=1000, prefix="e2e")


def test_the_chain_issues_and_the_units_move_on(world: tuple[Network, MrvParties, dict[str, Any]]) -> None:
    net, _, result = world
    assert [result[k]["outcome"] for k in ("report", "verification", "request")] == ["accepted"] * 3
    notice = result["notice"]
    assert notice["quantity"] == 1000 and notice["registry"] == "che-sandbox"
    assert net.sandbox("che-sandbox").holdings()["total"] == {"held": 1000, "pending": 0}
    moved = first_transfer(net, "che-sandbox", "GHA", notice["block"]["first"], notice["block"]["first"] + 99,
                           notice["vintage"])
    assert moved.receipt["outcome"] == "accepted" and moved.outcome == "debited"
    assert net.sandbox("gha-sandbox").holdings()["total"]["held"] == 100
    assert net.sandbox("che-sandbox").holdings()["total"]["held"] == 900


def test_the_trail_verifies_offline_with_the_published_keys(world: tuple[Network, MrvParties, dict[str, Any]],
                                                            tmp_path: Path) -> None:
    net, _, result = world
    block = result["notice"]["block"]["serial"]
    assert trail_of(net, block).ok
    jwks = tmp_path / "jwks.json"
    jwks.write_text(httpx.get(net.gateway_url + "/.well-known/jwks.json", timeout=10).text)
    data = net.root / "gateway"
    shown = run_cli("mrv", "trail", block, "--store", f"sqlite:///{data / 'mrv.sqlite3'}", "--jwks", str(jwks),
                    "--evidence-store", str(data / "mrv-evidence"), "--json", "--html", str(tmp_path / "t.html"))
    doc = json.loads(shown.stdout)
    assert shown.returncode == 0 and doc["verified"], doc["findings"]
    assert [link["id"] for link in doc["links"]][1:] == [
        result["documents"]["request"]["request_id"], result["documents"]["statement"]["statement_id"],
        result["documents"]["report"]["report_id"]]
    assert doc["evidence"][0]["bytes"] == "match"


def test_refusals_across_processes(world: tuple[Network, MrvParties, dict[str, Any]]) -> None:
    net, parties, result = world
    mrv = parties.client(net, "solar-mrv")
    again = documents("gha-sandbox", "solar-mrv", "verify-ag", 10)["report"]
    sent = mrv.send(json.dumps(again).encode(), message_id="e2e-report-again", kind="monitoring-reports")
    assert (sent.status, sent.body["code"]) == (409, "MRV_GATEWAY.PERIOD_OVERLAP")
    replay = mrv.send(json.dumps(result["documents"]["request"]).encode(), message_id="e2e-request",
                      kind="issuance-requests")
    assert replay.replayed and replay.body["receipt_id"] == result["request"]["receipt_id"]
    other = dict(result["documents"]["request"], request_id="IR-again", quantity=1)
    refused = mrv.send(json.dumps(other).encode(), message_id="e2e-request-2", kind="issuance-requests")
    assert (refused.status, refused.body["code"]) == (409, "MRV_GATEWAY.ALREADY_REQUESTED")
    assert net.sandbox("che-sandbox").holdings()["total"]["held"] + net.sandbox("gha-sandbox").holdings()[
        "total"]["held"] == 1000
