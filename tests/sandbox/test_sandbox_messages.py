"""Inbound messages over real HTTP: accepted transfers, every rejection code, atomicity, block
splits, dedupe by message id, and answers the trust layer verifies as coming from the sandbox."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from gateway.sandbox.client import SandboxClient
from gateway.trust.errors import ResponseSignatureInvalid
from gateway.trust.outbound import SIGNATURE_HEADER
from tests.sandbox.support import (
    SandboxServer,
    World,
    aef_actions,
    canonical_actions,
    held,
    itmo_action,
    itmo_label,
)

Start = Callable[..., SandboxServer]
SEED = (f"{itmo_label(1, 1000)}@treasury",)


def _operator(server: SandboxServer) -> SandboxClient:
    return SandboxClient(server.base, server.sandbox.operator_token)


def _answer(resp: httpx.Response) -> dict[str, Any]:
    doc = json.loads(resp.content)
    assert isinstance(doc, dict)
    return doc


def test_aef_first_transfer_is_credited_and_the_answer_is_signed_by_the_sandbox(world: World, start: Start) -> None:
    server = start("sbx-che", "aef")
    body = aef_actions({})  # the example's first transfer GHA -> CHE of ITMOs 1-20000
    resp = world.send(server, body, "msg-1")
    answer = _answer(resp)
    assert resp.status_code == 200, answer
    assert answer["verdict"] == "accepted" and answer["code"] is None and answer["message_id"] == "msg-1"
    assert answer["applied"] == [{"action": 0, "type": "First transfer", "direction": "credit",
                                  "units": itmo_label(1, 20000), "quantity": 20000, "account": "incoming"}]
    header = world.verify(server, resp, body)  # the gateway's own check: key from the directory, iss, req
    assert header["iss"] == "sbx-che"
    assert held(_operator(server).holdings()) == [(itmo_label(1, 20000), "incoming", "held")]


def test_answer_signature_does_not_verify_for_another_body_or_request(world: World, start: Start) -> None:
    server = start("sbx-che", "canonical")
    body = canonical_actions(itmo_action("Transfer", 1, 10))
    resp = world.send(server, body, "msg-1")
    assert resp.status_code == 200
    tampered = httpx.Response(200, content=resp.content.replace(b"accepted", b"rejected"), headers=resp.headers)
    with pytest.raises(ResponseSignatureInvalid) as exc:
        world.verify(server, tampered, body)
    assert exc.value.code == "OUTBOUND.RESPONSE_SIGNATURE"
    with pytest.raises(ResponseSignatureInvalid) as exc:
        world.verify(server, resp, body + b" ")
    assert exc.value.code == "OUTBOUND.RESPONSE_REQUEST"


def test_jwks_is_published_and_matches_the_signing_key(world: World, start: Start) -> None:
    server = start("sbx-che", "canonical")
    jwks = httpx.get(server.base + "/.well-known/jwks.json").json()
    assert [k["kid"] for k in jwks["keys"]] == ["sbx-che-1"]
    assert "d" not in jwks["keys"][0]
    resp = world.send(server, canonical_actions(itmo_action("Transfer", 1, 10)), "m")
    assert resp.headers[SIGNATURE_HEADER].count(".") == 2 and ".." in resp.headers[SIGNATURE_HEADER]


@pytest.mark.parametrize(("actions", "code", "pointer"), [
    # an outgoing transfer of a series never held here
    ([itmo_action("Transfer", 1, 10, acquiring="JPN", transferring="CHE", vintage=2030)], "SANDBOX.UNKNOWN_UNITS",
     "/actions/0"),
    # a retirement naming no identifiable units at all
    ([{"action_type": "Retirement", "quantity": "5"}], "SANDBOX.UNKNOWN_UNITS", "/actions/0"),
    # a retirement running past the end of the held block
    ([itmo_action("Use", 990, 1010, acquiring=None)], "SANDBOX.UNITS_NOT_HELD", "/actions/0"),
    # a cancellation from an account that does not hold the units
    ([itmo_action("Cancellation", 1, 10, acquiring=None, account="other")], "SANDBOX.UNITS_NOT_HELD", "/actions/0"),
    # an incoming block overlapping units already held
    ([itmo_action("Transfer", 900, 1100, transferring="GHA")], "SANDBOX.OVERLAPPING_BLOCKS", "/actions/0"),
    # two incoming blocks of one message overlapping each other
    ([itmo_action("Transfer", 2000, 2100), itmo_action("Acquisition", 2050, 2060)], "SANDBOX.OVERLAPPING_BLOCKS",
     "/actions/1"),
    ([itmo_action("Issuance", 5000, 5100)], "SANDBOX.UNSUPPORTED_KIND", "/actions/0"),
    # a stated quantity that is not the length of the range
    ([itmo_action("Transfer", 2000, 2100), {**itmo_action("Transfer", 3000, 3099), "quantity": "99"}],
     "SANDBOX.QUANTITY_MISMATCH", "/actions/1"),
    # a transfer between two other Parties
    ([itmo_action("Transfer", 5000, 5100, acquiring="JPN", transferring="GHA")], "SANDBOX.WRONG_REGISTRY",
     "/actions/0"),
])
def test_each_rejection_is_coded_signed_and_changes_nothing(world: World, start: Start, actions: list[dict[str, Any]],
                                                             code: str, pointer: str) -> None:
    server = start("sbx-che", "canonical", holds=SEED)
    before = _operator(server).holdings()["holdings"]
    body = canonical_actions(*actions)
    resp = world.send(server, body, "msg-bad")
    answer = _answer(resp)
    assert resp.status_code == 422, answer
    assert answer["verdict"] == "rejected" and answer["code"] == code and answer["applied"] == []
    assert answer["reasons"][0]["rule"] == code and answer["reasons"][0]["pointer"] == pointer
    assert answer["reasons"][0]["message"] and answer["reasons"][0]["reference"]
    world.verify(server, resp, body)
    assert _operator(server).holdings()["holdings"] == before


@pytest.mark.parametrize(("body", "fmt", "code"), [
    (b"{not json", "canonical", "SANDBOX.MALFORMED"),
    (b"", "canonical", "SANDBOX.MALFORMED"),
    (b'{"actions": [{"action_type": "Teleport", "date": "2024-01-01T00:00:00Z"}]}', "canonical",
     "SANDBOX.MALFORMED"),
    (b'{"projects": [{"project_id": "P-1"}]}', "canonical", "SANDBOX.UNSUPPORTED_KIND"),
    (b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>", "des-xml",
     "SANDBOX.MALFORMED"),
])
def test_unreadable_messages_get_a_coded_rejection(world: World, start: Start, body: bytes, fmt: str,
                                                   code: str) -> None:
    server = start("sbx-che", fmt)
    resp = world.send(server, body, "msg-x")
    answer = _answer(resp)
    assert resp.status_code == 422 and answer["code"] == code, answer
    world.verify(server, resp, body)


def test_aef_message_with_errors_lists_the_aef_findings(world: World, start: Start) -> None:
    server = start("sbx-che", "aef")
    body = aef_actions({"FirstID": 500, "LastID": 100})
    answer = _answer(world.send(server, body, "msg-aef-bad"))
    assert answer["code"] == "SANDBOX.MALFORMED"
    rules = [r["rule"] for r in answer["reasons"]]
    assert rules[0] == "SANDBOX.MALFORMED" and any(r.startswith("AEF") for r in rules[1:]), rules


def test_a_message_is_applied_completely_or_not_at_all(world: World, start: Start) -> None:
    server = start("sbx-che", "canonical", holds=SEED)
    body = canonical_actions(itmo_action("Transfer", 5000, 5999),  # fine on its own
                             itmo_action("Retirement", 1, 2000, acquiring=None))  # not all held
    answer = _answer(world.send(server, body, "msg-atomic"))
    assert answer["code"] == "SANDBOX.UNITS_NOT_HELD" and answer["reasons"][0]["pointer"] == "/actions/1"
    assert held(_operator(server).holdings()) == [(itmo_label(1, 1000), "treasury", "held")]


def test_partial_debits_split_blocks_and_credits_merge_them(world: World, start: Start) -> None:
    server = start("sbx-che", "canonical", holds=SEED)
    body = canonical_actions(itmo_action("Retirement", 101, 200, acquiring=None),
                             itmo_action("Transfer", 901, 1000, acquiring="JPN", transferring="CHE"))
    answer = _answer(world.send(server, body, "msg-split"))
    assert answer["verdict"] == "accepted", answer
    assert [a["direction"] for a in answer["applied"]] == ["final", "debit"]
    assert held(_operator(server).holdings()) == [(itmo_label(1, 100), "treasury", "held"),
                                                  (itmo_label(201, 900), "treasury", "held")]
    # the gap is refilled from outside: adjacent blocks of one account merge back into one
    back = canonical_actions(itmo_action("Transfer", 101, 200, account="treasury"),
                             itmo_action("Transfer", 901, 1000, account="treasury"))
    assert _answer(world.send(server, back, "msg-back"))["verdict"] == "accepted"
    assert held(_operator(server).holdings()) == [(itmo_label(1, 1000), "treasury", "held")]


def test_debit_may_span_several_blocks_of_one_account(world: World, start: Start) -> None:
    server = start("sbx-che", "canonical", holds=(f"{itmo_label(1, 100)}@a", f"{itmo_label(101, 200)}@b",
                                                   f"{itmo_label(201, 300)}@a"))
    one_account = canonical_actions(itmo_action("Retirement", 50, 150, acquiring=None, account="a"))
    assert _answer(world.send(server, one_account, "m1"))["code"] == "SANDBOX.UNITS_NOT_HELD"
    any_account = canonical_actions(itmo_action("Retirement", 50, 250, acquiring=None))
    assert _answer(world.send(server, any_account, "m2"))["verdict"] == "accepted"
    assert held(_operator(server).holdings()) == [(itmo_label(1, 49), "a", "held"),
                                                  (itmo_label(251, 300), "a", "held")]


def test_same_message_id_and_body_returns_the_original_answer(world: World, start: Start) -> None:
    server = start("sbx-che", "canonical")
    body = canonical_actions(itmo_action("Transfer", 1, 10))
    first = world.send(server, body, "msg-dup")
    again = world.send(server, body, "msg-dup")
    assert first.status_code == again.status_code == 200
    assert again.content == first.content and again.headers["Carbonlink-Replayed"] == "true"
    world.verify(server, again, body)
    holdings = _operator(server).holdings()
    assert holdings["total"]["held"] == 10  # credited once
    assert [j["message_id"] for j in _operator(server).journal()] == ["msg-dup"]


def test_a_rejection_is_replayed_too_even_after_the_units_arrive(world: World, start: Start) -> None:
    server = start("sbx-che", "canonical")
    retire = canonical_actions(itmo_action("Retirement", 1, 10, acquiring=None))
    first = world.send(server, retire, "msg-r")
    assert _answer(first)["code"] == "SANDBOX.UNKNOWN_UNITS"
    world.send(server, canonical_actions(itmo_action("Transfer", 1, 10)), "msg-credit")
    again = world.send(server, retire, "msg-r")
    assert again.status_code == 422 and again.content == first.content


def test_same_message_id_with_another_body_is_refused(world: World, start: Start) -> None:
    server = start("sbx-che", "canonical")
    world.send(server, canonical_actions(itmo_action("Transfer", 1, 10)), "msg-1")
    other = canonical_actions(itmo_action("Transfer", 11, 20))
    resp = world.send(server, other, "msg-1")
    assert resp.status_code == 409 and resp.headers["content-type"] == "application/problem+json"
    assert _answer(resp)["code"] == "SANDBOX.MESSAGE_ID_REUSED"
    world.verify(server, resp, other)
    assert _operator(server).holdings()["total"]["held"] == 10


def test_message_ids_are_per_sender(world: World, start: Start) -> None:
    server = start("sbx-che", "canonical")
    assert world.send(server, canonical_actions(itmo_action("Transfer", 1, 10)), "1", sender="gha").status_code == 200
    resp = world.send(server, canonical_actions(itmo_action("Transfer", 11, 20)), "1", sender="sgp")
    assert resp.status_code == 200 and "Carbonlink-Replayed" not in resp.headers


@pytest.mark.parametrize(("headers", "code"), [
    ({}, "SANDBOX.MESSAGE_ID_MISSING"),
    ({"Carbonlink-Message-Id": "has space"}, "SANDBOX.MESSAGE_ID_INVALID"),
    ({"Carbonlink-Message-Id": "x" * 201}, "SANDBOX.MESSAGE_ID_INVALID"),
])
def test_message_id_is_required(world: World, start: Start, headers: dict[str, str], code: str) -> None:
    server = start("sbx-che", "canonical")
    resp = httpx.post(server.base + "/messages", content=b"{}",
                      headers={"Authorization": f"Bearer {world.token(server)}", **world.gateway.signature(b"{}"),
                               **headers})
    assert resp.status_code == 400 and _answer(resp)["code"] == code


def test_oversized_body_is_refused_before_reading_it(world: World, start: Start) -> None:
    server = start("sbx-che", "canonical", max_body_bytes=2048)
    resp = world.send(server, b"{" + b" " * 5000 + b"}", "big")
    assert resp.status_code == 413 and _answer(resp)["code"] == "SANDBOX.TOO_LARGE"


def test_configured_messages_path(world: World, start: Start) -> None:
    server = start("sbx-che", "canonical", messages_path="/registry/inbox")
    body = canonical_actions(itmo_action("Transfer", 1, 10))
    assert world.send(server, body, "p1").status_code == 200
    elsewhere = httpx.post(server.base + "/messages", content=body)
    assert elsewhere.status_code == 404 and _answer(elsewhere)["code"] == "SANDBOX.NOT_FOUND"
    world.verify(server, elsewhere, None)  # even a 404 is signed by the sandbox


def test_des_xml_registry_accepts_a_kyoto_proposal(world: World, start: Start) -> None:
    server = start("sbx-jpn", "des-xml", party="JPN")
    with open("tests/fixtures/des-xml/proposal-external-transfer.xml", "rb") as fh:
        body = fh.read()
    resp = world.send(server, body, "GB1000234")
    answer = _answer(resp)
    assert resp.status_code == 200, answer
    assert [a["quantity"] for a in answer["applied"]] == [25000, 500]
    units = [h["units"] for h in _operator(server).holdings()["holdings"]]
    assert any("104500001-104525000" in u for u in units) and any("2000001-2000500" in u for u in units)


def test_serial_numbered_units_split_with_their_own_serial_text(world: World, start: Start) -> None:
    serial = "ACR-US-192-2010-203-1-5000"
    server = start("sbx-che", "canonical", party=None, holds=(serial,))
    body = canonical_actions({"action_type": "Retirement", "units": {"serial": "ACR-US-192-2010-203-1001-2000"}})
    answer = _answer(world.send(server, body, "ret-1"))
    assert answer["verdict"] == "accepted", answer
    assert [h[0] for h in held(_operator(server).holdings())] == ["ACR-US-192-2010-203-1-1000",
                                                                   "ACR-US-192-2010-203-2001-5000"]


@pytest.mark.parametrize("action", [
    itmo_action("Transfer", 1, 2**63),  # beyond what a unit number can be
    {"action_type": "Transfer", "acquiring_party": "CHE",
     "units": {"registry": "CDM", "first_id": 2**70, "last_id": 2**71}},
    {"action_type": "Retirement", "units": {"serial": "ACR-US-192-2010-203-1-" + "9" * 30}},
])
def test_absurd_unit_numbers_are_unknown_units_not_a_crash(world: World, start: Start, action: dict[str, Any]) -> None:
    server = start("sbx-che", "canonical")
    answer = _answer(world.send(server, canonical_actions(action), "huge"))
    assert answer["code"] == "SANDBOX.UNKNOWN_UNITS", answer


def test_an_invalid_sender_header_is_refused(world: World, start: Start) -> None:
    server = start("sbx-che", "canonical")
    resp = world.send(server, canonical_actions(itmo_action("Transfer", 1, 10)), "m", sender="a b")
    assert resp.status_code == 400 and _answer(resp)["code"] == "SANDBOX.SENDER_INVALID"


def test_concurrent_deliveries_of_one_message_apply_it_once(world: World, start: Start) -> None:
    server = start("sbx-che", "canonical")
    body = canonical_actions(itmo_action("Transfer", 1, 10))
    tokens = [world.token(server) for _ in range(12)]
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda t: httpx.post(server.base + "/messages", content=body, headers={
            "Authorization": f"Bearer {t}", "Carbonlink-Message-Id": "same", **world.gateway.signature(body)}),
            tokens))
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    assert sum("Carbonlink-Replayed" not in a.headers for a in answers) == 1
    assert _operator(server).holdings()["total"]["held"] == 10


def test_concurrent_overlapping_credits_accept_exactly_one(world: World, start: Start) -> None:
    server = start("sbx-che", "canonical")
    bodies = [canonical_actions(itmo_action("Transfer", 1 + i, 100 + i)) for i in range(10)]
    jobs = [(world.token(server), body, f"m{i}") for i, body in enumerate(bodies)]
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda j: httpx.post(server.base + "/messages", content=j[1], headers={
            "Authorization": f"Bearer {j[0]}", "Carbonlink-Message-Id": j[2], **world.gateway.signature(j[1])}),
            jobs))
    codes = sorted(_answer(a)["code"] or "accepted" for a in answers)
    assert codes == ["SANDBOX.OVERLAPPING_BLOCKS"] * 9 + ["accepted"]
    assert _operator(server).holdings()["total"]["held"] == 100


def test_quantity_check_can_be_turned_off_and_skips_non_ghg_blocks(world: World, start: Start) -> None:
    off = start("sbx-off", "canonical", quantity_check=False)
    wrong = canonical_actions({**itmo_action("Transfer", 1, 100), "quantity": "7"})
    assert _answer(world.send(off, wrong, "q1"))["verdict"] == "accepted"
    on = start("sbx-on", "canonical")
    assert _answer(world.send(on, wrong, "q1"))["code"] == "SANDBOX.QUANTITY_MISMATCH"
    non_ghg = canonical_actions({**itmo_action("Transfer", 1, 100), "quantity": "7", "metric": "non-GHG"})
    assert _answer(world.send(on, non_ghg, "q2"))["verdict"] == "accepted"


@pytest.mark.parametrize("body", [b"PK\x03\x04 not really a zip", b"plain text", b""])
def test_an_unreadable_workbook_is_malformed(world: World, start: Start, body: bytes) -> None:
    server = start("sbx-xlsx", "aef", medium="xlsx")
    answer = _answer(world.send(server, body, "wb"))
    assert answer["code"] == "SANDBOX.MALFORMED" and "INPUT." in answer["reasons"][0]["message"], answer
