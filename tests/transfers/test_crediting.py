"""Crediting-programme transfers (unit blocks, no Article 6 actions) end to end between real processes:
the sender reserves the blocks in its registry, the gateway checks and relays them to the registry named
in Carbonlink-Receiver, the receiver credits them, the sender's debit is settled by the receipt."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from gateway.demo import Network, Registry, receipt_outcome
from gateway.sandbox.client import SandboxRefused, send_with_pending_debit
from gateway.transfers.service import CANONICAL_CONTENT_TYPE

pytestmark = pytest.mark.e2e  # the process tier: real gateway and registry processes over HTTP

#: A Verra VCU block of 425 units (941467007-941467431), held by gha.
BATCH, FIRST, LAST = "19385", 941467007, 941467431
TAIL = "VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1"
#: The batch of the block the Verra-format registry holds.
VERRA_BATCH = "19390"


def vcu(first: int, last: int, batch: str = BATCH) -> str:
    return f"{batch}-{first}-{last}-{TAIL}"


@pytest.fixture(scope="module")
def net() -> Iterator[Network]:
    registries = [
        Registry("gha", "GHA", "canonical", holds=[f"{vcu(FIRST, LAST)}@treasury"]),
        Registry("che", "CHE", "canonical"),
        Registry("col", "COL", "aef"),
        Registry("verra", "USA", "verra", holds=[f"{vcu(FIRST, LAST, batch=VERRA_BATCH)}@treasury"]),
    ]
    env = {"CARBONLINK_RATE_LIMIT_PER_MINUTE": "6000", "CARBONLINK_RATE_LIMIT_BURST": "200"}
    with Network(registries, gateway_env=env) as network:
        yield network


def block(first: int, last: int, *, registry: str | None = "gha", batch: str = BATCH,
          **fields: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"serial": vcu(first, last, batch), "quantity": str(last - first + 1),
                           "unit_type": "VCU", "project_id": "1340", "vintage": 2020, **fields}
    if registry is not None:
        out["registry"] = registry
    return out


def message(*blocks: dict[str, Any]) -> bytes:
    return json.dumps({"units": list(blocks)}).encode()


def held(net: Network, registry: str) -> tuple[int, int]:
    total = net.sandbox(registry).holdings()["total"]
    return int(total["held"]), int(total["pending"])


def send(net: Network, body: bytes, message_id: str, receiver: str | None = "che") -> Any:
    return net.client("gha").send(body, message_id=message_id, content_type=CANONICAL_CONTENT_TYPE,
                                  receiver=receiver)


def test_accepted_transfer_moves_the_blocks_and_settles_the_senders_debit(net: Network) -> None:
    before_gha, before_che = held(net, "gha"), held(net, "che")
    body = message(block(FIRST, FIRST + 99, account="treasury"))
    result = send_with_pending_debit(net.sandbox("gha"), message_id="c-accepted-1", body=body,
                                     deliver=lambda: send(net, body, "c-accepted-1").body, verdict=receipt_outcome)
    assert result.outcome == "debited", result.receipt
    receipt = result.receipt
    assert receipt is not None and receipt["outcome"] == "accepted" and receipt["kind"] == "transfers"
    assert receipt["sender"]["id"] == "gha" and receipt["receiver"] == {"id": "che", "party": "CHE",
                                                                        "registry": "CHE01"}
    applied = receipt["receiver_answer"]["body"]["applied"]
    assert applied == [{"action": 0, "type": "Crediting transfer", "direction": "credit",
                        "units": vcu(FIRST, FIRST + 99), "quantity": 100, "account": "incoming"}]
    assert held(net, "gha") == (before_gha[0] - 100, 0)
    assert held(net, "che") == (before_che[0] + 100, 0)
    again = send(net, body, "c-accepted-1")  # a retry gets the original receipt
    assert again.replayed and again.body == receipt


def test_blocks_may_name_the_senders_party_registry_id(net: Network) -> None:
    body = message(block(FIRST + 100, FIRST + 109, registry="GHA01"))
    result = send_with_pending_debit(net.sandbox("gha"), message_id="c-accepted-2", body=body,
                                     deliver=lambda: send(net, body, "c-accepted-2").body, verdict=receipt_outcome)
    assert result.outcome == "debited", result.receipt


def test_the_receiver_must_be_named_and_known(net: Network) -> None:
    body = message(block(FIRST + 200, FIRST + 201))
    refused = send(net, body, "c-receiver-1", receiver=None)
    assert refused.status == 422 and refused.body["code"] == "TRANSFER.RECEIVER_UNKNOWN"
    assert "Carbonlink-Receiver" in refused.body["detail"]
    refused = send(net, body, "c-receiver-2", receiver="nobody")
    assert refused.status == 422 and refused.body["code"] == "TRANSFER.RECEIVER_UNKNOWN"
    refused = send(net, body, "c-receiver-3", receiver="gha")
    assert refused.status == 422 and refused.body["code"] == "TRANSFER.RECEIVER_UNKNOWN"


def test_sender_that_does_not_hold_the_blocks_is_refused(net: Network) -> None:
    refused = send(net, message(block(FIRST + 200, FIRST + 201, registry="che")), "c-holder-1")
    assert refused.status == 403 and refused.body["code"] == "TRANSFER.SENDER_MISMATCH"
    refused = send(net, message(block(FIRST + 200, FIRST + 201, registry=None)), "c-holder-2")
    assert refused.status == 403 and refused.body["code"] == "TRANSFER.SENDER_MISMATCH"


@pytest.mark.parametrize(("body", "rule", "pointer"), [
    (message(block(FIRST, FIRST + 9, quantity="11")), "CREDITING.QUANTITY_MISMATCH", "/units/0/quantity"),
    (message(block(FIRST, FIRST + 9, first_id=FIRST + 1)), "CREDITING.RANGE_MISMATCH", "/units/0/first_id"),
    (message({**block(FIRST, FIRST + 9), "serial": "not a serial"}), "CREDITING.SERIAL_INVALID", "/units/0/serial"),
    (message({**block(FIRST, FIRST + 9), "serial": None}), "CREDITING.SERIAL_REQUIRED", "/units/0"),
    (message(block(FIRST, FIRST + 9), block(FIRST + 5, FIRST + 20)), "CREDITING.OVERLAPPING_BLOCKS", "/units/1"),
])
def test_malformed_blocks_get_coded_findings(net: Network, body: bytes, rule: str, pointer: str) -> None:
    refused = send(net, body, f"c-bad-{rule}")
    assert refused.status == 422 and refused.body["code"] == "VALIDATION.FAILED"
    assert [(f["rule"], f["pointer"]) for f in refused.body["errors"]] == [(rule, pointer)]


def test_blocks_not_held_by_the_sender_are_refused_by_its_registry(net: Network) -> None:
    gha = net.sandbox("gha")
    for message_id, body, code in [
        ("c-notheld-1", message(block(LAST - 5, LAST + 5)), "SANDBOX.UNITS_NOT_HELD"),  # runs past the held block
        ("c-notheld-2", message(block(1, 10, batch="777")), "SANDBOX.UNKNOWN_UNITS"),  # a series never held
    ]:
        with pytest.raises(SandboxRefused) as exc:
            send_with_pending_debit(gha, message_id=message_id, body=body,
                                    deliver=lambda: pytest.fail("nothing is sent when the units are not held"))
        assert exc.value.code == code, exc.value.answer


def test_receiver_that_already_holds_the_blocks_rejects_them(net: Network) -> None:
    body = message(block(FIRST + 300, FIRST + 309))
    assert send(net, body, "c-overlap-1").body["outcome"] == "accepted"  # sent without reserving: che has them
    again = send(net, body, "c-overlap-2")
    assert again.status == 200 and again.body["outcome"] == "rejected"
    assert again.body["receiver_answer"]["body"]["code"] == "SANDBOX.OVERLAPPING_BLOCKS"


def test_unit_blocks_travel_only_as_transfers_and_only_to_formats_that_carry_them(net: Network) -> None:
    body = message(block(FIRST + 400, FIRST + 401))
    refused = net.client("gha").send(body, message_id="c-kind-1", kind="cancellations",
                                     content_type=CANONICAL_CONTENT_TYPE, receiver="che")
    assert refused.status == 422 and refused.body["code"] == "TRANSFER.KIND_MISMATCH"
    refused = send(net, body, "c-aef-1", receiver="col")
    assert refused.status == 422 and refused.body["code"] == "TRANSFER.OUTPUT_INVALID"


def test_a_verra_format_registry_sends_its_own_csv(net: Network) -> None:
    """The Verra adapter names every block's registry "verra": the sender whose participant id that is."""
    from decimal import Decimal

    from adapters import default_catalog
    from standards.codec import Medium
    from standards.model import CanonicalDocument, UnitBlock

    verra = default_catalog().get("verra")
    units = UnitBlock(registry="verra", serial=vcu(FIRST, FIRST + 49, batch=VERRA_BATCH), quantity=Decimal(50),
                      unit_type="VCU", project_id="1340", vintage=2020)
    body = verra.serialize(CanonicalDocument(units=[units]), medium=Medium.CSV).data
    client = net.client("verra")
    before = held(net, "che")
    result = send_with_pending_debit(
        net.sandbox("verra"), message_id="c-verra-1", body=body, verdict=receipt_outcome,
        deliver=lambda: client.send(body, message_id="c-verra-1", content_type="text/csv", receiver="che").body)
    assert result.outcome == "debited", result.receipt
    assert result.receipt is not None
    assert result.receipt["inbound"]["format"] == "verra" and result.receipt["outbound"]["format"] == "canonical"
    assert held(net, "che") == (before[0] + 50, 0)
    assert held(net, "verra") == (LAST - FIRST + 1 - 50, 0)
    refused = send(net, message(block(FIRST + 50, FIRST + 59, registry="verra", batch=VERRA_BATCH)), "c-verra-2")
    assert refused.status == 403 and refused.body["code"] == "TRANSFER.SENDER_MISMATCH"  # gha is not "verra"
