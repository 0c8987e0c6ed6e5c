"""Crediting-programme transfers at the sandbox: unit blocks identified by serial, no actions. Inbound they
are credited to the default account; outgoing (operator reserve) they become pending debits."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from gateway.sandbox.client import SandboxClient, SandboxRefused
from tests.sandbox.support import SandboxServer, World, held

Start = Callable[..., SandboxServer]
TAIL = "VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1"


def vcu(first: int, last: int) -> str:
    return f"19385-{first}-{last}-{TAIL}"


def blocks(*units: dict[str, Any]) -> bytes:
    return json.dumps({"units": list(units)}).encode()


def _client(server: SandboxServer) -> SandboxClient:
    return SandboxClient(server.base, server.sandbox.operator_token)


def test_inbound_blocks_are_credited_to_the_default_account(world: World, start: Start) -> None:
    server = start("sbx-che", "canonical")
    body = blocks({"registry": "gha", "serial": vcu(1, 100), "quantity": "100", "account": "senders-own"},
                  {"registry": "gha", "serial": vcu(201, 210)})
    resp = world.send(server, body, "in-1")
    answer = json.loads(resp.content)
    assert resp.status_code == 200, answer
    assert [(a["type"], a["direction"], a["units"], a["account"]) for a in answer["applied"]] == [
        ("Crediting transfer", "credit", vcu(1, 100), "incoming"),
        ("Crediting transfer", "credit", vcu(201, 210), "incoming")]
    assert held(_client(server).holdings()) == [(vcu(1, 100), "incoming", "held"), (vcu(201, 210), "incoming", "held")]


@pytest.mark.parametrize(("units", "code", "pointer"), [
    ({"serial": vcu(1, 100), "quantity": "99"}, "SANDBOX.QUANTITY_MISMATCH", "/units/0"),
    ({"first_id": 1, "last_id": 100, "registry": "gha"}, "SANDBOX.UNKNOWN_UNITS", "/units/0"),
    ({"serial": "no such serial"}, "SANDBOX.UNKNOWN_UNITS", "/units/0"),
    ({"serial": vcu(50, 60)}, "SANDBOX.OVERLAPPING_BLOCKS", "/units/0"),
])
def test_inbound_blocks_are_refused_with_a_code(world: World, start: Start, units: dict[str, Any], code: str,
                                                pointer: str) -> None:
    server = start("sbx-che", "canonical", holds=(f"{vcu(1, 100)}@treasury",))
    resp = world.send(server, blocks(units), "in-1")
    answer = json.loads(resp.content)
    assert resp.status_code == 422 and answer["code"] == code
    assert answer["reasons"][0]["pointer"] == pointer
    assert held(_client(server).holdings()) == [(vcu(1, 100), "treasury", "held")]


def test_outgoing_blocks_are_reserved_only_when_held(world: World, start: Start) -> None:
    server = start("sbx-gha", "canonical", party="GHA", holds=(f"{vcu(1, 100)}@treasury",))
    client = _client(server)
    answer = client.reserve("out-1", blocks({"registry": "sbx-gha", "serial": vcu(1, 30), "account": "treasury"}))
    assert answer["verdict"] == "reserved"
    assert held(client.holdings()) == [(vcu(1, 30), "treasury", "pending"), (vcu(31, 100), "treasury", "held")]
    for message_id, units, code in [("out-2", {"serial": vcu(90, 110)}, "SANDBOX.UNITS_NOT_HELD"),
                                    ("out-3", {"serial": vcu(20, 40)}, "SANDBOX.UNITS_NOT_HELD"),  # 20-30 pending
                                    ("out-4", {"serial": vcu(31, 40), "account": "other"}, "SANDBOX.UNITS_NOT_HELD"),
                                    ("out-5", {"serial": f"77-1-10-{TAIL}"}, "SANDBOX.UNKNOWN_UNITS")]:
        with pytest.raises(SandboxRefused) as exc:
            client.reserve(message_id, blocks(units))
        assert exc.value.code == code, (message_id, exc.value.answer)
    client.confirm("out-1")
    assert held(client.holdings()) == [(vcu(31, 100), "treasury", "held")]
