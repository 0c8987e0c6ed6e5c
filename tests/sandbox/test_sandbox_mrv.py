"""MRV documents at the sandbox registry, sent to it directly (as a gateway would): it keeps reports of projects
it lists and verifications of reports it received, issues on a valid issuance request (ITMOs of its cooperative
approach when it has a Party, else a registry serial range) and refuses invalid ones with a code."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from gateway.protocol import KIND_HEADER, MESSAGE_ID_HEADER, SENDER_HEADER
from gateway.sandbox.client import SandboxClient
from tests.mrv.gateway_world import report, request, verification
from tests.sandbox.support import SandboxServer, World

Start = Callable[..., SandboxServer]


def send(world: World, server: SandboxServer, kind: str, doc: dict[str, Any] | bytes, message_id: str) -> Any:
    body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    headers = {"Authorization": f"Bearer {world.token(server)}", MESSAGE_ID_HEADER: message_id,
               SENDER_HEADER: "mrv-sys", KIND_HEADER: kind, "Content-Type": "application/json",
               **world.gateway.signature(body)}
    resp = world.http.post(server.base + "/messages", content=body, headers=headers)
    world.verify(server, resp, body)  # every answer is signed by the registry
    return resp


def verdict(resp: httpx.Response) -> tuple[int, str | None]:
    answer = json.loads(resp.content)
    return resp.status_code, answer["code"]


def _chain(world: World, server: SandboxServer, registry: str) -> tuple[dict[str, Any], ...]:
    rep = report(registry=registry)
    assert verdict(send(world, server, "monitoring-reports", rep, "mr-1")) == (200, None)
    ver = verification(rep)
    assert verdict(send(world, server, "verifications", ver, "vs-1")) == (200, None)
    return rep, ver, request(ver, registry=registry)


def test_a_valid_request_issues_itmos_with_a_notice(world: World, start: Start) -> None:
    server = start("sbx-che", party="CHE", holds=("CA0001-CHE01-CHE-1-2023..CA0001-CHE01-CHE-50-2023@treasury",))
    req = _chain(world, server, "sbx-che")[2]
    resp = send(world, server, "issuance-requests", req, "ir-1")
    answer = json.loads(resp.content)
    assert resp.status_code == 200 and answer["verdict"] == "accepted", answer
    notice = answer["notice"]
    # the next serials after what the registry already holds of the series
    assert notice["block"] == {"first": 51, "last": 1050,
                               "serial": "CA0001-CHE01-CHE-51-2023..CA0001-CHE01-CHE-1050-2023"}
    assert notice["registry"] == "sbx-che" and notice["quantity"] == 1000 and notice["vintage"] == 2023
    assert [(a["type"], a["direction"], a["quantity"]) for a in answer["applied"]] == [("Issuance", "credit", 1000)]
    assert SandboxClient(server.base, "op-sbx-che-token").holdings()["total"]["held"] == 1050
    again = send(world, server, "issuance-requests", req, "ir-1")  # a retry: the stored answer
    assert again.content == resp.content and again.headers.get("carbonlink-replayed") == "true"


def test_without_a_party_it_issues_a_registry_serial_range(world: World, start: Start) -> None:
    server = start("sbx-vcs", party=None)
    req = _chain(world, server, "sbx-vcs")[2]
    notice = json.loads(send(world, server, "issuance-requests", req, "ir-1").content)["notice"]
    assert notice["block"]["first"] == 1 and notice["block"]["last"] == 1000
    assert "project CHE-SOLAR-7" in notice["block"]["serial"]


def test_invalid_documents_and_requests_are_refused_with_a_code(world: World, start: Start) -> None:
    server = start("sbx-che", party="CHE")
    assert verdict(send(world, server, "monitoring-reports", report(registry="elsewhere"), "mr-0")) == (
        422, "SANDBOX.MRV_REFUSED")
    assert verdict(send(world, server, "monitoring-reports", b'{"kind": "monitoring-report"}', "mr-00")) == (
        422, "SANDBOX.MALFORMED")
    assert verdict(send(world, server, "verifications", verification(report()), "vs-0")) == (
        422, "SANDBOX.MRV_REFUSED")
    rep, ver, req = _chain(world, server, "sbx-che")
    for message_id, bad in (("ir-unknown", request(verification(rep, statement_id="other"), registry="sbx-che")),
                            ("ir-too-many", request(ver, registry="sbx-che", quantity=1051)),
                            ("ir-vintage", request(ver, registry="sbx-che", vintage=2022)),
                            ("ir-registry", request(ver, registry="sbx-gha"))):
        assert verdict(send(world, server, "issuance-requests", bad, message_id)) == (422, "SANDBOX.MRV_REFUSED"), \
            message_id
    assert verdict(send(world, server, "issuance-requests", req, "ir-1")) == (200, None)
    twice = request(ver, registry="sbx-che", request_id="IR-twice", quantity=1)
    assert verdict(send(world, server, "issuance-requests", twice, "ir-2")) == (422, "SANDBOX.MRV_REFUSED")
    assert verdict(send(world, server, "issuance-notices", b"{}", "in-1")) == (422, "SANDBOX.UNSUPPORTED_KIND")
    assert SandboxClient(server.base, "op-sbx-che-token").holdings()["total"]["held"] == 1000
