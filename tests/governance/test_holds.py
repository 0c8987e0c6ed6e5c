"""Four eyes by separate approval messages, on a gateway in this process: a transfer above the threshold without
enough approvals is held (202), its retries answer the hold, approval messages release it through the relay (every
control checked again), and each attack is refused with its code and clause: the same officer twice, a replayed
approval, an approval of another body or message, by a non-officer or another registry's officer, a release after
the policy changed, after the hold expired. The receiving registry of this world is unreachable, so a release
ends at delivery (502) with the intent on record: the relay of a released message to a real registry is in
test_holds_e2e."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from gateway.client import GatewayClient
from gateway.demo import itmo_message
from gateway.digests import sha256_hex
from gateway.evidence import open_log
from gateway.governance import sign_approval
from gateway.trust.keys import generate_key, public_jwk
from tests.governance.test_policy_routes import BODY, Governed, signed

OTHER = orjson.dumps(itmo_message(sender_party="CHE", receiver_party="GHA", first=6001, last=9000))
NO_RETRIES = json.dumps({"timeout": 1.0, "connect_timeout": 0.5, "retries": 0, "backoff": 0.01, "retry_after": 1})


@pytest.fixture
def net(tmp_path: Path) -> Iterator[Governed]:
    governed = Governed(tmp_path)
    yield governed
    if governed.gateway is not None:
        governed.gateway.stop()


GINA = generate_key("ES256", "gina-1")  # an officer of gha-registry


def holding(net: Governed, **che: Any) -> dict[str, Any]:
    content = net.content(four_eyes_hold=True, **che)
    content["participants"]["gha-registry"]["officers"] = [{"id": "gina", "keys": [public_jwk(GINA)]}]
    return content


def start(net: Governed, content: dict[str, Any], **env: str) -> None:
    net.start(signed(net.operator, content), CARBONLINK_DELIVERY=NO_RETRIES, **env)


def approve(net: Governed, message_id: str, tokens: list[str], *, client: GatewayClient | None = None
            ) -> httpx.Response:
    who = client or net.client("che-registry", "approvals:write")
    return who.request("POST", f"/v1/transfers/{message_id}/approvals", content=orjson.dumps({"approvals": tokens}),
                       headers={"Content-Type": "application/json"})


def records(net: Governed, message_id: str) -> list[dict[str, Any]]:
    log = open_log(f"sqlite:///{net.root / 'data' / 'evidence.sqlite3'}", create=False)
    try:
        return [r.verdicts for r in log.find("che-registry", message_id)]
    finally:
        log.close()


def test_a_transfer_above_the_threshold_is_held_and_a_retry_answers_the_same_hold(net: Governed) -> None:
    start(net, holding(net))
    che = net.client("che-registry", "messages:send")
    sent = che.send(BODY, message_id="h-1")
    assert sent.status == 202, sent.body
    assert sent.body["code"] == "GOVERNANCE.TRANSFER_HELD" and sent.body["state"] == "held"
    assert sent.body["units"] == "5000" and sent.body["approvals_needed"] == 2 and sent.body["approved_by"] == []
    assert sent.body["sha256"] == sha256_hex(BODY) and sent.body["policy_version"] == 1
    again = che.send(BODY, message_id="h-1")
    assert again.status == 202 and again.body["held_at"] == sent.body["held_at"]  # one hold, not a second
    other = che.send(OTHER, message_id="h-1")
    assert other.status == 409 and other.body["code"] == "GOVERNANCE.HOLD_CONFLICT"
    held = [v for v in records(net, "h-1") if v["outcome"] == "held"]
    assert len(held) == 1 and held[0]["policy"]["version"] == 1
    assert held[0]["policy"]["clause"] == "participants.che-registry.four_eyes_hold"
    queue = net.client("che-registry", "approvals:write").request("GET", "/v1/transfers/held")
    assert queue.status_code == 200 and [h["message_id"] for h in queue.json()["held"]] == ["h-1"]
    # another registry sees none of it, and a small transfer is not held
    gha = net.client("gha-registry", "peers:read").request("GET", "/v1/transfers/held")
    assert gha.status_code == 403
    small = orjson.dumps(itmo_message(sender_party="CHE", receiver_party="GHA", first=1, last=10))
    assert che.send(small, message_id="h-small").status == 502  # relayed at once (the receiver is unreachable)


def test_the_default_still_refuses_and_holds_nothing(net: Governed) -> None:
    start(net, net.content())
    sent = net.client("che-registry", "messages:send").send(BODY, message_id="r-1")
    assert sent.status == 403 and sent.body["code"] == "GOVERNANCE.POLICY_APPROVAL_REQUIRED"
    missing = approve(net, "r-1", [net.approval("alice", "r-1")])
    assert missing.status_code == 404 and missing.json()["code"] == "GOVERNANCE.HOLD_NOT_FOUND"


def test_approvals_of_two_officers_release_the_message_through_the_relay(net: Governed) -> None:
    start(net, holding(net))
    che = net.client("che-registry", "messages:send")
    assert che.send(BODY, message_id="h-2", approvals=[net.approval("alice", "h-2")]).status == 202
    shown = net.client("che-registry", "approvals:write").request("GET", "/v1/transfers/held/h-2").json()
    assert shown["approved_by"] == ["alice"]  # the approval carried with the message counts
    released = approve(net, "h-2", [net.approval("bob", "h-2")])
    # relayed as any other message: every control passed, the intent on record, then the unreachable receiver
    assert released.status_code == 502, released.text
    intent = [v for v in records(net, "h-2") if v["outcome"] == "delivering"]
    assert intent and intent[0]["policy"] == {"version": 1, "decision": "allowed", "controlled": True,
                                              "units": "5000", "approved_by": ["alice", "bob"]}
    # a fault leaves it held, with both approvals: the message sent again retries the release
    assert net.client("che-registry", "approvals:write").request(
        "GET", "/v1/transfers/held/h-2").json()["state"] == "held"
    assert che.send(BODY, message_id="h-2").status == 502
    assert len([v for v in records(net, "h-2") if v["outcome"] == "delivering"]) == 2


@pytest.mark.parametrize("attack", ["same officer", "replayed", "other body", "other message", "non-officer",
                                    "other registry's officer", "approval for another sender", "not an approval"])
def test_approval_attacks_are_refused_with_their_code(net: Governed, attack: str) -> None:
    start(net, holding(net))
    che = net.client("che-registry", "messages:send")
    assert che.send(BODY, message_id="h-3").status == 202
    first = net.approval("alice", "h-3")
    assert approve(net, "h-3", [first]).status_code == 202
    stranger = generate_key("ES256", "mallory-1")
    token, code = {
        "same officer": (lambda: sign_approval(net.officers["alice"], officer="alice", sender="che-registry",
                                               kind="transfers", message_id="h-3", body_sha256=sha256_hex(BODY),
                                               now=int(time.time()) + 1), "SAME_OFFICER"),
        "replayed": (lambda: first, "REPLAYED"),
        "other body": (lambda: sign_approval(net.officers["bob"], officer="bob", sender="che-registry",
                                             kind="transfers", message_id="h-3", body_sha256=sha256_hex(OTHER)),
                       "MISMATCH"),
        "other message": (lambda: net.approval("bob", "h-4"), "MISMATCH"),
        "non-officer": (lambda: sign_approval(stranger, officer="bob", sender="che-registry", kind="transfers",
                                              message_id="h-3", body_sha256=sha256_hex(BODY)), "INVALID"),
        "other registry's officer": (lambda: sign_approval(GINA, officer="gina", sender="che-registry",
                                                           kind="transfers", message_id="h-3",
                                                           body_sha256=sha256_hex(BODY)), "INVALID"),
        "approval for another sender": (lambda: sign_approval(net.officers["bob"], officer="bob",
                                                              sender="gha-registry", kind="transfers",
                                                              message_id="h-3", body_sha256=sha256_hex(BODY)),
                                        "MISMATCH"),
        "not an approval": (lambda: "e30.e30.AAAA", "INVALID"),
    }[attack]
    refused = approve(net, "h-3", [token()])
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == f"GOVERNANCE.POLICY_APPROVAL_{code}"
    assert "clause participants.che-registry." in refused.json()["detail"]
    shown = net.client("che-registry", "approvals:write").request("GET", "/v1/transfers/held/h-3").json()
    assert shown["state"] == "held" and shown["approved_by"] == ["alice"]  # nothing was released


def test_an_approval_message_of_another_registry_finds_nothing_of_ours(net: Governed) -> None:
    start(net, holding(net))
    assert net.client("che-registry", "messages:send").send(BODY, message_id="h-5").status == 202
    sgp = net.client("sgp-registry", "messages:send")  # no registry-operator role: no approvals:write scope
    assert approve(net, "h-5", [net.approval("bob", "h-5")], client=sgp).status_code == 403


def test_a_release_after_the_policy_changed_is_refused_and_ends_the_hold(net: Governed) -> None:
    start(net, holding(net), CARBONLINK_POLICY_REFRESH_SECONDS="1")
    che = net.client("che-registry", "messages:send")
    assert che.send(BODY, message_id="h-6").status == 202
    assert approve(net, "h-6", [net.approval("alice", "h-6")]).status_code == 202
    (net.root / "policy.jws").write_text(signed(net.operator, {**holding(net), "version": 2}))
    time.sleep(1.2)
    refused = approve(net, "h-6", [net.approval("bob", "h-6")])
    assert refused.status_code == 410 and refused.json()["code"] == "GOVERNANCE.HOLD_POLICY_CHANGED"
    assert "policy version 1" in refused.json()["detail"]
    assert che.send(BODY, message_id="h-6").status == 410
    ended = [v for v in records(net, "h-6") if v["outcome"] == "policy_changed"]
    assert len(ended) == 1 and ended[0]["policy"]["approved_by"] == ["alice"]


def test_a_hold_expires_with_its_code(net: Governed) -> None:
    start(net, holding(net, approval_wait_seconds=60))
    che = net.client("che-registry", "messages:send")
    assert che.send(BODY, message_id="h-7").status == 202
    assert net.gateway is not None
    holds = net.gateway.app.state.held_transfers[1]
    holds.clock = lambda: time.time() + 61  # the hold's time has passed
    late = approve(net, "h-7", [net.approval("alice", "h-7"), net.approval("bob", "h-7")])
    assert late.status_code == 410 and late.json()["code"] == "GOVERNANCE.HOLD_EXPIRED"
    assert "approval_wait_seconds" in late.json()["detail"]
    assert che.send(BODY, message_id="h-7").status == 410
    assert [v["code"] for v in records(net, "h-7") if v["outcome"] == "expired"] == ["GOVERNANCE.HOLD_EXPIRED"]
    listed = net.client("che-registry", "approvals:write").request("GET", "/v1/transfers/held?state=expired")
    assert [h["message_id"] for h in listed.json()["held"]] == ["h-7"]


def test_bad_approval_messages_are_coded(net: Governed) -> None:
    start(net, holding(net))
    assert net.client("che-registry", "messages:send").send(BODY, message_id="h-8").status == 202
    who = net.client("che-registry", "approvals:write")
    for body in (b"", b"not json", b'{"approvals": "x"}', b'{"approvals": [1]}'):
        answer = who.request("POST", "/v1/transfers/h-8/approvals", content=body,
                             headers={"Content-Type": "application/json"})
        assert 400 <= answer.status_code < 500 and answer.json()["code"].startswith(("INPUT.", "HTTP.")), body
    five = [net.approval("alice", "h-8")] * 5
    assert approve(net, "h-8", five).json()["code"] == "GOVERNANCE.POLICY_APPROVAL_INVALID"


def test_a_held_approval_whose_key_leaves_the_directory_no_longer_counts(net: Governed) -> None:
    def officers_in_directory(alice_key: Any) -> None:
        for entry in net.world.content["participants"]:
            if entry["id"] == "che-registry":
                entry["officers"] = [{"id": "alice", "keys": [public_jwk(alice_key)]},
                                     {"id": "bob", "keys": [public_jwk(net.officers["bob"])]}]
        net.world.write_directory()

    officers_in_directory(net.officers["alice"])
    content = holding(net)
    content["participants"]["che-registry"]["officers"] = [{"id": "alice"}, {"id": "bob"}]  # keys: the directory's
    start(net, content)
    assert net.client("che-registry", "messages:send").send(BODY, message_id="h-9").status == 202
    assert approve(net, "h-9", [net.approval("alice", "h-9")]).json()["approved_by"] == ["alice"]
    officers_in_directory(generate_key("ES256", "alice-2"))  # alice's key replaced in the next directory
    time.sleep(0.6)  # the gateway reads the directory every 0.2 s
    waiting = approve(net, "h-9", [net.approval("bob", "h-9")])
    assert waiting.status_code == 202, waiting.text  # alice's approval no longer counts: not released
    assert waiting.json()["approved_by"] == ["bob"]
    refused = approve(net, "h-9", [net.approval("alice", "h-9")])  # her old key approves nothing now
    assert refused.status_code == 403 and refused.json()["code"] == "GOVERNANCE.POLICY_APPROVAL_INVALID"


def test_a_gateway_without_a_policy_holds_nothing(net: Governed) -> None:
    net.start(None)
    listed = net.client("che-registry", "approvals:write").request("GET", "/v1/transfers/held")
    assert listed.status_code == 404 and listed.json()["code"] == "GOVERNANCE.POLICY_NOT_CONFIGURED"
    sent = approve(net, "x-1", [net.approval("alice", "x-1")])
    assert sent.status_code == 404 and sent.json()["code"] == "GOVERNANCE.POLICY_NOT_CONFIGURED"
