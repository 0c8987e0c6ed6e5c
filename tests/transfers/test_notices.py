"""Notices through the gateway, end to end between real processes: a transfer A -> B, B's acceptance
back to A, A's completion to B; every refusal code; replays; the evidence chain still verifies."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from gateway.client import NOTICE_CONTENT_TYPE, GatewayClient
from gateway.demo import Network, Registry, itmo_message, receipt_outcome
from gateway.sandbox.client import send_with_pending_debit
from gateway.trust.keys import generate_key, public_jwk
from tests.support.cli import run_cli
from tests.transfers.support import Blocks, gateway_env

pytestmark = pytest.mark.e2e  # the process tier: real gateway and registry processes over HTTP

KINDS = ("transfers", "acceptances", "completions")
GHA_HOLDS = "CA0001-GHA01-GHA-1-2023..CA0001-GHA01-GHA-100000-2023@treasury"


@pytest.fixture(scope="module")
def net() -> Iterator[Network]:
    down = {"id": "per-down", "party": "PER", "party_registry_id": "PER01", "status": "active", "format": "aef",
            "endpoints": {"messages": "http://127.0.0.1:9/messages"}, "issuer": "http://127.0.0.1:9",
            "jwks": {"keys": [public_jwk(generate_key("ES256", "per-down-1"))]},
            "message_kinds": list(KINDS), "scopes": []}
    registries = [
        Registry("gha", "GHA", "aef", holds=[GHA_HOLDS], message_kinds=KINDS),
        Registry("che", "CHE", "canonical", message_kinds=KINDS),
        Registry("chl", "CHL", "spreadsheet", message_kinds=KINDS),
        Registry("col", "COL", "canonical", message_kinds=("transfers",)),
    ]
    env = gateway_env(timeout=2.0, retries=0, retry_after=3, per_minute=6000, burst=200)
    with Network(registries, gateway_env=env, extra_participants=[down]) as network:
        yield network


BLOCKS = Blocks()


def transfer(receiver_party: str = "CHE", size: int = 10) -> bytes:
    first, last = BLOCKS.take(size)
    return json.dumps(itmo_message(sender_party="GHA", receiver_party=receiver_party, first=first,
                                   last=last)).encode()


def notice(notice_type: str, sender: str, message_id: str, **extra: Any) -> bytes:
    doc: dict[str, Any] = {"notice_type": notice_type, "in_reply_to": {"sender": sender, "message_id": message_id},
                           "issued_at": "2024-06-03T10:05:00Z", **extra}
    return json.dumps(doc).encode()


def send_transfer(net: Network, message_id: str, body: bytes | None = None) -> dict[str, Any]:
    """A transfer from gha to che the way a registry sends one: reserve, send, settle by the receipt."""
    body = body or transfer()
    client = net.client("gha")
    result = send_with_pending_debit(net.sandbox("gha"), message_id=message_id, body=body,
                                     deliver=lambda: client.send(body, message_id=message_id).body,
                                     verdict=receipt_outcome)
    assert result.receipt is not None
    return result.receipt


def held(net: Network, registry: str) -> tuple[int, int]:
    total = net.sandbox(registry).holdings()["total"]
    return int(total["held"]), int(total["pending"])


@pytest.fixture(scope="module")
def relayed(net: Network) -> dict[str, Any]:
    """One transfer gha -> che, accepted: the message most tests send notices about."""
    receipt = send_transfer(net, "n-transfer-1")
    assert receipt["outcome"] == "accepted", receipt
    return receipt


def test_acceptance_then_completion_reach_the_other_party(net: Network, relayed: dict[str, Any]) -> None:
    che, gha = net.client("che"), net.client("gha")
    before = {r: held(net, r) for r in ("gha", "che")}
    accepted = che.send_notice("acceptance", in_reply_to=("gha", "n-transfer-1"), message_id="n-accept-1",
                               additional_information="checked by the CHE registry clerk")
    assert accepted.status == 200, accepted.body
    receipt = accepted.body
    assert receipt["kind"] == "acceptances" and receipt["outcome"] == "accepted"
    assert receipt["sender"]["id"] == "che" and receipt["receiver"]["id"] == "gha"
    assert receipt["inbound"]["format"] == receipt["outbound"]["format"] == "notice"
    answer = receipt["receiver_answer"]["body"]
    assert answer["verdict"] == "accepted" and answer["notice"] == {
        "kind": "acceptances", "notice_type": "acceptance", "transaction_status": 8,
        "in_reply_to": {"sender": "gha", "message_id": "n-transfer-1"}}
    stored = net.sandbox("gha").notices()
    assert [(n["sender"], n["message_id"], n["notice_type"]) for n in stored] == [("che", "n-accept-1", "acceptance")]

    completed = gha.send_notice("completion", in_reply_to=("gha", "n-transfer-1"), message_id="n-complete-1",
                                receiver="che")
    assert completed.status == 200, completed.body
    assert completed.body["kind"] == "completions" and completed.body["receiver"]["id"] == "che"
    assert completed.body["outcome"] == "accepted"
    assert completed.body["receiver_answer"]["body"]["notice"]["transaction_status"] == 4
    assert [n["notice_type"] for n in net.sandbox("che").notices()] == ["completion"]
    assert {r: held(net, r) for r in ("gha", "che")} == before  # notices never move units


def test_delivered_body_is_canonical_notice_json_with_the_des_status(net: Network, relayed: dict[str, Any]) -> None:
    body = notice("rejection", "gha", "n-transfer-1", reasons=[{"code": "7122", "detail": "late"}],
                  additional_information="after review")
    sent = net.client("che").send(body, message_id="n-reject-1", kind="acceptances", content_type="application/json")
    assert sent.status == 200, sent.body
    expected = orjson.dumps({**json.loads(body), "transaction_status": 6}, option=orjson.OPT_SORT_KEYS)
    assert sent.body["outbound"]["sha256"] == hashlib.sha256(expected).hexdigest()
    assert sent.body["outbound"]["medium"] == "json"


def test_replayed_notice_returns_the_same_receipt(net: Network, relayed: dict[str, Any]) -> None:
    che = net.client("che")
    body = notice("acceptance", "gha", "n-transfer-1")
    first = che.send(body, message_id="n-accept-replay", kind="acceptances", content_type=NOTICE_CONTENT_TYPE)
    again = che.send(body, message_id="n-accept-replay", kind="acceptances", content_type=NOTICE_CONTENT_TYPE)
    assert first.status == again.status == 200
    assert again.replayed and again.raw == first.raw and again.signature == first.signature
    other = che.send(notice("rejection", "gha", "n-transfer-1", reasons=[{"code": "X", "detail": "y"}]),
                     message_id="n-accept-replay", kind="acceptances", content_type=NOTICE_CONTENT_TYPE)
    assert other.status == 409 and other.body["code"] == "IDEMPOTENCY.BODY_MISMATCH"


def test_notice_about_an_unknown_message_is_refused(net: Network, relayed: dict[str, Any]) -> None:
    sent = net.client("che").send_notice("acceptance", in_reply_to=("gha", "never-sent"), message_id="n-unknown-1")
    assert sent.status == 422 and sent.body["code"] == "NOTICE.UNKNOWN_MESSAGE"
    sent = net.client("gha").send_notice("completion", in_reply_to=("gha", "never-sent"), message_id="n-unknown-2")
    assert sent.status == 422 and sent.body["code"] == "NOTICE.UNKNOWN_MESSAGE"
    # a registry that is no party of the exchange learns nothing about it: the same answer
    sent = net.client("chl").send_notice("acceptance", in_reply_to=("gha", "n-transfer-1"), message_id="n-unknown-3")
    assert sent.status == 422 and sent.body["code"] == "NOTICE.UNKNOWN_MESSAGE"


def test_notice_from_the_wrong_party_is_refused(net: Network, relayed: dict[str, Any]) -> None:
    sent = net.client("gha").send_notice("acceptance", in_reply_to=("gha", "n-transfer-1"), message_id="n-party-1")
    assert sent.status == 403 and sent.body["code"] == "NOTICE.NOT_A_PARTY"
    sent = net.client("che").send_notice("completion", in_reply_to=("gha", "n-transfer-1"), message_id="n-party-2")
    assert sent.status == 403 and sent.body["code"] == "NOTICE.NOT_A_PARTY"


def test_completion_of_a_rejected_transfer_is_refused_but_termination_goes(net: Network) -> None:
    body = transfer(size=5)
    assert net.client("gha").send(body, message_id="n-first-copy").body["outcome"] == "accepted"
    rejected = net.client("gha").send(body, message_id="n-overlap")  # the same units again: che rejects
    assert rejected.status == 200 and rejected.body["outcome"] == "rejected"
    gha, che = net.client("gha"), net.client("che")
    sent = gha.send_notice("completion", in_reply_to=("gha", "n-overlap"), message_id="n-state-1")
    assert sent.status == 422 and sent.body["code"] == "NOTICE.STATE"
    sent = che.send_notice("acceptance", in_reply_to=("gha", "n-overlap"), message_id="n-state-2")
    assert sent.status == 422 and sent.body["code"] == "NOTICE.STATE"
    sent = gha.send_notice("termination", in_reply_to=("gha", "n-overlap"), message_id="n-state-3",
                           reasons=[("SANDBOX.OVERLAPPING_BLOCKS", "the receiver already holds these units")])
    assert sent.status == 200 and sent.body["outcome"] == "accepted", sent.body
    assert sent.body["receiver_answer"]["body"]["notice"]["transaction_status"] == 5


def test_notice_about_an_undelivered_message_or_a_notice_is_refused(net: Network, relayed: dict[str, Any]) -> None:
    gha = net.client("gha")
    fault = gha.send(transfer("PER", size=2), message_id="n-fault-1")
    assert fault.status == 502
    sent = gha.send_notice("completion", in_reply_to=("gha", "n-fault-1"), message_id="n-state-4")
    assert sent.status == 422 and sent.body["code"] == "NOTICE.STATE"
    accepted = net.client("che").send_notice("acceptance", in_reply_to=("gha", "n-transfer-1"),
                                             message_id="n-accept-2")
    assert accepted.status == 200
    sent = gha.send_notice("acceptance", in_reply_to=("che", "n-accept-2"), message_id="n-state-5")
    assert sent.status == 422 and sent.body["code"] == "NOTICE.STATE"


def test_malformed_notices_get_coded_findings(net: Network, relayed: dict[str, Any]) -> None:
    che = net.client("che")

    def send(body: bytes, mid: str, kind: str = "acceptances", ctype: str = NOTICE_CONTENT_TYPE) -> Any:
        return che.send(body, message_id=mid, kind=kind, content_type=ctype)

    sent = send(notice("rejection", "gha", "n-transfer-1"), "n-bad-1")
    assert sent.status == 422 and sent.body["code"] == "VALIDATION.FAILED"
    assert [f["rule"] for f in sent.body["errors"]] == ["NOTICE.REASONS_REQUIRED"]
    sent = send(notice("acceptance", "gha", "n-transfer-1", colour="blue", issued_at="yesterday"), "n-bad-2")
    assert sent.status == 422 and sent.body["code"] == "VALIDATION.FAILED"
    assert {f["pointer"] for f in sent.body["errors"]} == {"/colour", "/issued_at"}
    assert {f["rule"] for f in sent.body["errors"]} == {"NOTICE.SCHEMA"}
    sent = send(notice("completion", "gha", "n-transfer-1"), "n-bad-3")
    assert sent.status == 422 and sent.body["code"] == "TRANSFER.KIND_MISMATCH"
    sent = send(notice("acceptance", "gha", "n-transfer-1"), "n-bad-4", ctype="text/csv")
    assert sent.status == 415 and sent.body["code"] == "NOTICE.CONTENT_TYPE"
    sent = send(b"{not json", "n-bad-5")
    assert sent.status == 400 and sent.body["code"] == "INPUT.JSON"


def test_receiver_header_must_name_the_other_party(net: Network, relayed: dict[str, Any]) -> None:
    sent = net.client("che").send_notice("acceptance", in_reply_to=("gha", "n-transfer-1"), message_id="n-hint-1",
                                         receiver="chl")
    assert sent.status == 422 and sent.body["code"] == "TRANSFER.RECEIVER_UNKNOWN"
    sent = net.client("che").send_notice("acceptance", in_reply_to=("gha", "n-transfer-1"), message_id="n-hint-2",
                                         receiver="gha")
    assert sent.status == 200 and sent.body["receiver"]["id"] == "gha"


def test_the_kind_must_be_allowed_on_both_sides(net: Network) -> None:
    gha = net.client("gha")
    body = transfer("COL", size=3)
    assert gha.send(body, message_id="n-col-1").body["outcome"] == "accepted"
    col = net.client("col")
    sent = col.send_notice("acceptance", in_reply_to=("gha", "n-col-1"), message_id="n-col-accept")
    assert sent.status == 403 and sent.body["code"] == "TRANSFER.KIND_NOT_ALLOWED"
    sent = gha.send_notice("completion", in_reply_to=("gha", "n-col-1"), message_id="n-col-complete")
    assert sent.status == 422 and sent.body["code"] == "TRANSFER.RECEIVER_UNKNOWN"


def test_registry_rejects_a_notice_about_a_message_it_has_no_record_of(net: Network) -> None:
    """gha sent this transfer without reserving it in its sandbox: gha's registry refuses the acceptance."""
    assert net.client("gha").send(transfer(size=3), message_id="n-unreserved").body["outcome"] == "accepted"
    sent = net.client("che").send_notice("acceptance", in_reply_to=("gha", "n-unreserved"), message_id="n-sbx-1")
    assert sent.status == 200 and sent.body["outcome"] == "rejected"
    assert sent.body["receiver_answer"]["body"]["code"] == "SANDBOX.UNKNOWN_MESSAGE"


def test_evidence_chain_verifies_with_notices(net: Network, relayed: dict[str, Any], tmp_path: Path) -> None:
    assert net.client("che").send_notice("acceptance", in_reply_to=("gha", "n-transfer-1"),
                                         message_id="n-evidence-1").status == 200
    copy = tmp_path / "evidence.sqlite3"
    with sqlite3.connect(net.root / "gateway" / "evidence.sqlite3") as source, sqlite3.connect(copy) as target:
        source.backup(target)
    jwks = tmp_path / "jwks.json"
    jwks.write_text(httpx.get(net.gateway_url + "/.well-known/jwks.json").text)
    verify = run_cli("evidence", "verify", "--log", f"sqlite:///{copy}", "--jwks", str(jwks))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    with sqlite3.connect(copy) as conn:
        kinds = dict(conn.execute("SELECT message_id, kind FROM evidence WHERE sender = 'che'").fetchall())
    assert kinds["n-evidence-1"] == "acceptances"


def test_client_refuses_an_unknown_notice_type(net: Network) -> None:
    from gateway.client import GatewayClientError

    client: GatewayClient = net.client("che")
    with pytest.raises(GatewayClientError) as exc:
        client.send_notice("approval", in_reply_to=("gha", "x"), message_id="n-client-1")
    assert exc.value.code == "CLIENT.NOTICE_TYPE"
