"""The sandbox as the *sender*: pending debits, settled by the receiver's verdict; and a transfer
from one sandbox to another in a different format, as the demo will run it through the gateway."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from gateway.sandbox.client import SandboxClient, SandboxRefused, receipt_verdict, send_with_pending_debit
from tests.sandbox.support import SandboxServer, World, aef_actions, canonical_actions, held, itmo_action, itmo_label

Start = Callable[..., SandboxServer]
SEED = (f"{itmo_label(1, 1000)}@treasury",)
OUT = canonical_actions(itmo_action("Transfer", 1, 300, acquiring="JPN", transferring="CHE"))


def _client(server: SandboxServer) -> SandboxClient:
    return SandboxClient(server.base, server.sandbox.operator_token)


def test_reserve_makes_a_pending_debit_that_inbound_messages_cannot_touch(world: World, start: Start) -> None:
    server = start("sbx-che", "canonical", holds=SEED)
    client = _client(server)
    answer = client.reserve("out-1", OUT)
    assert answer["verdict"] == "reserved" and answer["applied"][0]["direction"] == "reserve"
    assert held(client.holdings()) == [(itmo_label(1, 300), "treasury", "pending"),
                                       (itmo_label(301, 1000), "treasury", "held")]
    assert client.holdings()["holdings"][0]["pending_message_id"] == "out-1"
    retire = canonical_actions(itmo_action("Retirement", 250, 350, acquiring=None))
    rejected = json.loads(world.send(server, retire, "ret-1").content)
    assert rejected["code"] == "SANDBOX.UNITS_NOT_HELD" and "pending" in rejected["reasons"][0]["message"]


def test_receiver_accepts_then_the_debit_is_final(world: World, start: Start) -> None:
    server = start("sbx-che", "canonical", holds=SEED)
    client = _client(server)
    result = send_with_pending_debit(client, message_id="out-1", body=OUT,
                                     deliver=lambda: {"receipt_id": "r1", "answer": {"verdict": "accepted"}})
    assert result.outcome == "debited" and result.settlement is not None
    assert result.settlement["settled"] == "debited"
    assert held(client.holdings()) == [(itmo_label(301, 1000), "treasury", "held")]
    assert [(j["message_id"], j["direction"]) for j in client.journal()][-2:] == [("out-1", "reserve"),
                                                                                  ("out-1", "debit")]


def test_receiver_rejects_then_the_units_are_held_again(world: World, start: Start) -> None:
    server = start("sbx-che", "canonical", holds=SEED)
    client = _client(server)
    result = send_with_pending_debit(client, message_id="out-1", body=OUT,
                                     deliver=lambda: {"verdict": "rejected", "code": "SANDBOX.OVERLAPPING_BLOCKS"})
    assert result.outcome == "released"
    assert held(client.holdings()) == [(itmo_label(1, 1000), "treasury", "held")]  # merged back into one block


def test_a_fault_leaves_the_debit_pending_until_a_receipt_settles_it(world: World, start: Start) -> None:
    server = start("sbx-che", "canonical", holds=SEED)
    client = _client(server)

    def down() -> Mapping[str, Any]:
        raise ConnectionError("gateway answered 504")

    with pytest.raises(ConnectionError):
        send_with_pending_debit(client, message_id="out-1", body=OUT, deliver=down)
    assert client.holdings()["total"] == {"held": 700, "pending": 300}
    unclear = send_with_pending_debit(client, message_id="out-1", body=OUT, deliver=lambda: {"status": "queued"})
    assert unclear.outcome == "pending" and unclear.reservation["verdict"] == "reserved"  # same id: replayed
    client.confirm("out-1", {"verdict": "accepted"})
    assert client.holdings()["total"] == {"held": 700, "pending": 0}


def test_nothing_is_sent_when_the_units_are_not_held(world: World, start: Start) -> None:
    server = start("sbx-che", "canonical", holds=SEED)
    calls: list[int] = []
    too_much = canonical_actions(itmo_action("Transfer", 900, 1100, acquiring="JPN", transferring="CHE"))
    with pytest.raises(SandboxRefused) as exc:
        send_with_pending_debit(_client(server), message_id="out-1", body=too_much,
                                deliver=lambda: calls.append(1) or {})
    assert exc.value.code == "SANDBOX.UNITS_NOT_HELD" and exc.value.status == 422 and calls == []


@pytest.mark.parametrize(("body", "code"), [
    (canonical_actions(itmo_action("Transfer", 1, 10, acquiring="CHE", transferring="GHA")), "SANDBOX.WRONG_REGISTRY"),
    (canonical_actions(itmo_action("Retirement", 1, 10, acquiring=None)), "SANDBOX.UNSUPPORTED_KIND"),
])
def test_only_outgoing_transfers_can_be_reserved(world: World, start: Start, body: bytes, code: str) -> None:
    server = start("sbx-che", "canonical", holds=SEED)
    with pytest.raises(SandboxRefused) as exc:
        _client(server).reserve("out-x", body)
    assert exc.value.code == code


def test_reservations_are_deduplicated_by_message_id(world: World, start: Start) -> None:
    server = start("sbx-che", "canonical", holds=SEED)
    client = _client(server)
    assert client.reserve("out-1", OUT) == client.reserve("out-1", OUT)
    assert client.holdings()["total"]["pending"] == 300
    with pytest.raises(SandboxRefused) as exc:
        client.reserve("out-1", canonical_actions(itmo_action("Transfer", 1, 5, acquiring="JPN", transferring="CHE")))
    assert exc.value.code == "SANDBOX.MESSAGE_ID_REUSED" and exc.value.status == 409


def test_settling_is_idempotent_and_needs_a_pending_debit(world: World, start: Start) -> None:
    server = start("sbx-che", "canonical", holds=SEED)
    client = _client(server)
    for settle in (client.confirm, client.release):
        with pytest.raises(SandboxRefused) as exc:
            settle("nothing-here", None)
        assert exc.value.code == "SANDBOX.NO_PENDING_DEBIT" and exc.value.status == 404
    client.reserve("out-1", OUT)
    first = client.confirm("out-1", {"verdict": "accepted"})
    assert client.confirm("out-1", {"verdict": "accepted"}) == first  # a retried confirm gets the same answer
    with pytest.raises(SandboxRefused) as exc:
        client.release("out-1")  # but the opposite settlement is refused
    assert exc.value.code == "SANDBOX.ALREADY_SETTLED" and exc.value.status == 409
    assert client.holdings()["total"] == {"held": 700, "pending": 0}


@pytest.mark.parametrize(("receipt", "verdict"), [
    ({"verdict": "accepted"}, True), ({"answer": {"verdict": "rejected"}}, False),
    ({"receiver": {"verdict": "accepted"}}, True), ({"verdict": "maybe"}, None), ({}, None),
    ({"answer": "accepted"}, None),
])
def test_receipt_verdict(receipt: dict[str, Any], verdict: bool | None) -> None:
    assert receipt_verdict(receipt) is verdict


def test_transfer_between_two_sandboxes_in_different_formats(world: World, start: Start) -> None:
    """GHA (canonical) sends ITMOs 1-20000 to CHE (AEF): what the gateway will do, by hand here."""
    gha = start("sbx-gha", "canonical", party="GHA", holds=(f"{itmo_label(1, 50000)}@cmo",))
    che = start("sbx-che", "aef", party="CHE")
    outgoing = canonical_actions(itmo_action("First transfer", 1, 20000, acquiring="CHE"))
    delivered = aef_actions({})  # the same first transfer, as the gateway would translate it to AEF

    def deliver() -> dict[str, Any]:
        resp = world.send(che, delivered, "gha-0001", sender="sbx-gha")
        world.verify(che, resp, delivered)
        answer = json.loads(resp.content)
        assert isinstance(answer, dict)
        return {"answer": answer}

    result = send_with_pending_debit(_client(gha), message_id="gha-0001", body=outgoing, deliver=deliver)
    assert result.outcome == "debited"
    assert held(_client(gha).holdings()) == [(itmo_label(20001, 50000), "cmo", "held")]
    assert held(_client(che).holdings()) == [(itmo_label(1, 20000), "incoming", "held")]
