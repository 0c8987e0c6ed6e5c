"""Notices delivered to a sandbox over real HTTP: recorded when they name a message the sandbox sent
or received, refused with a coded reason otherwise, deduplicated by message id, holdings untouched."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from gateway.sandbox.client import SandboxClient
from gateway.sandbox.service import KIND_HEADER, MESSAGE_ID_HEADER, SENDER_HEADER
from tests.sandbox.support import SandboxServer, World, canonical_actions, held, itmo_action, itmo_label

Start = Callable[..., SandboxServer]
SEED = (f"{itmo_label(1, 1000)}@treasury",)
STATUS = {"acceptance": 8, "rejection": 6, "completion": 4, "termination": 5}


def _client(server: SandboxServer) -> SandboxClient:
    return SandboxClient(server.base, server.sandbox.operator_token)


def _notice(notice_type: str, sender: str, message_id: str, **extra: Any) -> bytes:
    doc: dict[str, Any] = {"notice_type": notice_type, "transaction_status": STATUS[notice_type],
                           "in_reply_to": {"sender": sender, "message_id": message_id}, "reasons": [],
                           "issued_at": "2024-06-03T10:05:00Z", **extra}
    return json.dumps(doc).encode()


def _send(world: World, server: SandboxServer, body: bytes, message_id: str, kind: str,
          sender: str = "gha-registry") -> tuple[httpx.Response, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {world.token(server)}", MESSAGE_ID_HEADER: message_id,
               SENDER_HEADER: sender, KIND_HEADER: kind, "Content-Type": "application/json",
               **world.gateway.signature(body)}
    resp = world.http.post(server.base + server.config.messages_path, content=body, headers=headers)
    world.verify(server, resp, body)  # every answer is signed by the sandbox
    answer = json.loads(resp.content)
    assert isinstance(answer, dict)
    return resp, answer


def test_completion_of_a_received_transfer_is_recorded_and_moves_nothing(world: World, start: Start) -> None:
    server = start("sbx-che", "canonical")
    assert world.send(server, canonical_actions(itmo_action("Transfer", 1, 10)), "in-1").status_code == 200
    before = held(_client(server).holdings())
    resp, answer = _send(world, server, _notice("completion", "gha-registry", "in-1"), "done-1", "completions")
    assert resp.status_code == 200 and answer["verdict"] == "accepted" and answer["code"] is None
    assert answer["notice"] == {"kind": "completions", "notice_type": "completion", "transaction_status": 4,
                                "in_reply_to": {"sender": "gha-registry", "message_id": "in-1"}}
    assert held(_client(server).holdings()) == before
    notices = _client(server).notices()
    assert [(n["sender"], n["message_id"], n["notice_type"]) for n in notices] == [
        ("gha-registry", "done-1", "completion")]


def test_completion_of_an_unknown_or_someone_elses_message_is_rejected(world: World, start: Start) -> None:
    server = start("sbx-che", "canonical")
    assert world.send(server, canonical_actions(itmo_action("Transfer", 1, 10)), "in-1").status_code == 200
    resp, answer = _send(world, server, _notice("completion", "gha-registry", "in-404"), "done-1", "completions")
    assert resp.status_code == 422 and answer["code"] == "SANDBOX.UNKNOWN_MESSAGE"
    resp, answer = _send(world, server, _notice("completion", "gha-registry", "in-1"), "done-2", "completions",
                         sender="jpn-registry")
    assert resp.status_code == 422 and answer["code"] == "SANDBOX.UNKNOWN_MESSAGE"
    assert _client(server).notices() == []


def test_completion_of_a_rejected_message_is_refused_termination_is_recorded(world: World, start: Start) -> None:
    server = start("sbx-che", "canonical")
    retire = canonical_actions(itmo_action("Retirement", 1, 10, acquiring=None))
    assert world.send(server, retire, "in-bad").status_code == 422  # nothing held: rejected
    resp, answer = _send(world, server, _notice("completion", "gha-registry", "in-bad"), "done-1", "completions")
    assert resp.status_code == 422 and answer["code"] == "SANDBOX.NOTICE_STATE"
    body = _notice("termination", "gha-registry", "in-bad", reasons=[{"code": "SANDBOX.UNKNOWN_UNITS", "detail": "x"}])
    resp, answer = _send(world, server, body, "stop-1", "completions")
    assert resp.status_code == 200 and answer["notice"]["transaction_status"] == 5


def test_acceptance_of_a_message_this_registry_sent(world: World, start: Start) -> None:
    server = start("sbx-che", "canonical", holds=SEED)
    out = canonical_actions(itmo_action("Transfer", 1, 300, acquiring="JPN", transferring="CHE"))
    assert _client(server).reserve("out-1", out)["verdict"] == "reserved"
    resp, answer = _send(world, server, _notice("acceptance", "sbx-che", "out-1"), "ok-1", "acceptances",
                         sender="jpn-registry")
    assert resp.status_code == 200 and answer["notice"]["transaction_status"] == 8
    resp, answer = _send(world, server, _notice("acceptance", "sbx-che", "out-2"), "ok-2", "acceptances",
                         sender="jpn-registry")
    assert resp.status_code == 422 and answer["code"] == "SANDBOX.UNKNOWN_MESSAGE"
    resp, answer = _send(world, server, _notice("acceptance", "other-registry", "out-1"), "ok-3", "acceptances",
                         sender="jpn-registry")
    assert resp.status_code == 422 and answer["code"] == "SANDBOX.UNKNOWN_MESSAGE"
    assert held(_client(server).holdings())[0] == (itmo_label(1, 300), "treasury", "pending")  # not settled by it


@pytest.mark.parametrize(("body", "kind", "code"), [
    (b"{not json", "completions", "SANDBOX.MALFORMED"),
    (json.dumps({"notice_type": "completion", "in_reply_to": {"sender": "a", "message_id": "b"},
                 "issued_at": "2024-06-03T10:05:00Z"}).encode(), "completions", "SANDBOX.MALFORMED"),
    (_notice("completion", "gha-registry", "in-1", transaction_status=8), "completions", "SANDBOX.MALFORMED"),
    (_notice("acceptance", "gha-registry", "in-1"), "completions", "SANDBOX.UNSUPPORTED_KIND"),
])
def test_malformed_or_misfiled_notices_are_rejected(world: World, start: Start, body: bytes, kind: str,
                                                     code: str) -> None:
    server = start("sbx-che", "canonical")
    resp, answer = _send(world, server, body, "n-1", kind)
    assert resp.status_code == 422 and answer["verdict"] == "rejected" and answer["code"] == code


def test_a_notice_is_answered_once_per_message_id(world: World, start: Start) -> None:
    server = start("sbx-che", "canonical")
    assert world.send(server, canonical_actions(itmo_action("Transfer", 1, 10)), "in-1").status_code == 200
    body = _notice("completion", "gha-registry", "in-1")
    first, _ = _send(world, server, body, "done-1", "completions")
    again, _ = _send(world, server, body, "done-1", "completions")
    assert first.status_code == again.status_code == 200 and again.content == first.content
    assert again.headers.get("carbonlink-replayed") == "true"
    other, answer = _send(world, server, _notice("termination", "gha-registry", "in-1",
                                                 reasons=[{"code": "X", "detail": "y"}]), "done-1", "completions")
    assert other.status_code == 409 and answer["code"] == "SANDBOX.MESSAGE_ID_REUSED"
    assert len(_client(server).notices()) == 1
