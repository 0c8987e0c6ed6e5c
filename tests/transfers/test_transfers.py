"""Transfers through the gateway, end to end, between real processes on loopback.

A gateway (`carbonlink serve`) and sandbox registries (`carbonlink sandbox`) run as processes;
a registry client gets a DPoP-bound token with private_key_jwt and sends messages. Faults come from
misbehaving peers served for real (tests/transfers/peers.py).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import orjson
import pytest

from adapters import default_catalog
from gateway.client import GatewayClient
from gateway.demo import Network, Registry, itmo_message
from gateway.transfers.service import CANONICAL_CONTENT_TYPE
from standards.codec import Medium
from standards.model import ActionType, CanonicalDocument
from tests.support.cli import run_cli
from tests.transfers.peers import CuttingServer, FaultyRegistry
from tests.transfers.support import Blocks, gateway_env

pytestmark = pytest.mark.e2e  # the process tier: real gateway and registry processes over HTTP

GHA_HOLDS = "CA0001-GHA01-GHA-1-2023..CA0001-GHA01-GHA-1000000-2023@treasury"


def _fault_participant(pid: str, party: str, url: str) -> dict[str, Any]:
    from gateway.trust.keys import generate_key, public_jwk

    return {"id": pid, "party": party, "party_registry_id": f"{party}01", "status": "active", "format": "aef",
            "endpoints": {"messages": url}, "issuer": url,
            "jwks": {"keys": [public_jwk(generate_key("ES256", f"{pid}-1"))]},
            "message_kinds": ["transfers"], "scopes": []}


@pytest.fixture(scope="module")
def faulty() -> Iterator[FaultyRegistry]:
    peer = FaultyRegistry(slow_seconds=3).start()
    yield peer
    peer.stop()


@pytest.fixture(scope="module")
def cutter() -> Iterator[CuttingServer]:
    server = CuttingServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def net(faulty: FaultyRegistry, cutter: CuttingServer) -> Iterator[Network]:
    extra = [
        _fault_participant("nor-5xx", "NOR", faulty.url + "/messages/5xx"),
        _fault_participant("swe-garbage", "SWE", faulty.url + "/messages/garbage"),
        _fault_participant("jpn-unsigned", "JPN", faulty.url + "/messages/unsigned"),
        _fault_participant("kor-slow", "KOR", faulty.url + "/messages/slow"),
        _fault_participant("sgp-cuts", "SGP", cutter.url + "/messages"),
        _fault_participant("per-down", "PER", "http://127.0.0.1:9/messages"),
    ]
    registries = [
        Registry("gha", "GHA", "aef", holds=[GHA_HOLDS]),
        Registry("che", "CHE", "canonical"),
        Registry("chl", "CHL", "spreadsheet", message_kinds=("cancellations",)),
    ]
    env = gateway_env(timeout=1.0, retries=1, retry_after=7, per_minute=600, burst=20)
    with Network(registries, gateway_env=env, extra_participants=extra) as network:
        yield network


@pytest.fixture(scope="module")
def gha(net: Network) -> GatewayClient:
    return net.client("gha")


BLOCKS = Blocks()


def message(receiver_party: str = "CHE", size: int = 100, **kw: Any) -> bytes:
    first, last = BLOCKS.take(size)
    return json.dumps(itmo_message(sender_party="GHA", receiver_party=receiver_party, first=first, last=last,
                                   **kw)).encode()


def held(net: Network, registry: str) -> int:
    return int(net.sandbox(registry).holdings()["total"]["held"])


def test_transfer_is_validated_translated_delivered_and_receipted(net: Network, gha: GatewayClient) -> None:
    before = held(net, "che")
    body = message(size=250)
    sent = gha.send(body, message_id="t-accepted-1")
    assert sent.status == 200, sent.body
    receipt = sent.body
    assert receipt["outcome"] == "accepted" and receipt["type"] == "carbonlink-receipt"
    assert receipt["sender"] == {"id": "gha", "party": "GHA", "registry": "GHA01"}
    assert receipt["receiver"]["id"] == "che"
    assert receipt["inbound"]["sha256"] == hashlib.sha256(body).hexdigest()
    assert receipt["inbound"]["format"] == "aef" and receipt["outbound"]["format"] == "canonical"
    assert receipt["receiver_answer"]["status"] == 200 and receipt["receiver_answer"]["signature"].count(".") == 2
    assert receipt["receiver_answer"]["body"]["verdict"] == "accepted"
    assert held(net, "che") == before + 250


def test_retry_gets_the_original_receipt_and_delivers_once(net: Network, gha: GatewayClient) -> None:
    body = message(size=10)
    first = gha.send(body, message_id="t-retry-1")
    after_first = held(net, "che")
    again = gha.send(body, message_id="t-retry-1")
    assert first.status == again.status == 200
    assert again.raw == first.raw and again.signature == first.signature and again.replayed
    assert held(net, "che") == after_first


def test_message_id_reused_with_another_body_is_refused(gha: GatewayClient) -> None:
    assert gha.send(message(size=5), message_id="t-reuse-1").status == 200
    refused = gha.send(message(size=5), message_id="t-reuse-1")
    assert refused.status == 409 and refused.body["code"] == "IDEMPOTENCY.BODY_MISMATCH"


def test_sender_posing_as_another_registry_is_refused(gha: GatewayClient) -> None:
    doc = itmo_message(sender_party="GHA", receiver_party="CHE", first=1, last=10)
    doc["Actions"][0]["PartyITMORegistryID"] = "CHE01"  # tracked in another Party's registry
    refused = gha.send(json.dumps(doc).encode(), message_id="t-posing-1")
    assert refused.status == 403 and refused.body["code"] == "TRANSFER.SENDER_MISMATCH"
    doc = itmo_message(sender_party="CHE", receiver_party="GHA", first=1, last=10)
    refused = gha.send(json.dumps(doc).encode(), message_id="t-posing-2")
    assert refused.status == 403 and refused.body["code"] == "TRANSFER.SENDER_MISMATCH"


def test_invalid_message_gets_every_finding_as_problem_json(gha: GatewayClient) -> None:
    doc = itmo_message(sender_party="GHA", receiver_party="CHE", first=1, last=10)
    doc["Actions"][0]["QuantityCO2"] = 11
    doc["Actions"][0]["MitigationType"] = "Avoidance"
    refused = gha.send(json.dumps(doc).encode(), message_id="t-invalid-1")
    assert refused.status == 422 and refused.body["code"] == "VALIDATION.FAILED"
    rules = {f["rule"] for f in refused.body["errors"]}
    assert "AEF.CODE_LIST.VALUE" in rules
    assert all({"rule", "severity", "location", "message", "reference"} <= set(f) for f in refused.body["errors"])


def test_unknown_receiver_and_kinds_are_refused(gha: GatewayClient) -> None:
    refused = gha.send(message("BRA", size=3), message_id="t-nobody-1")
    assert refused.status == 422 and refused.body["code"] == "TRANSFER.RECEIVER_UNKNOWN"
    refused = gha.send(message(size=3), message_id="t-kind-1", kind="holdings")
    assert refused.status == 403 and refused.body["code"] == "TRANSFER.KIND_NOT_ALLOWED"
    refused = gha.send(message(size=3), message_id="t-kind-2", kind="cancellations", receiver="che")
    assert refused.status == 422 and refused.body["code"] == "TRANSFER.KIND_MISMATCH"


def test_business_rejection_is_receipted_with_the_receivers_code(net: Network, gha: GatewayClient) -> None:
    body = message(size=20)
    assert gha.send(body, message_id="t-overlap-1").body["outcome"] == "accepted"
    before = held(net, "che")
    again = gha.send(body, message_id="t-overlap-2")  # the same units a second time
    assert again.status == 200
    assert again.body["outcome"] == "rejected"
    assert again.body["receiver_answer"]["body"]["code"] == "SANDBOX.OVERLAPPING_BLOCKS"
    assert held(net, "che") == before


def test_canonical_json_is_accepted_from_any_sender(gha: GatewayClient) -> None:
    from standards.aef.codec import AEF
    from standards.canonical import CANONICAL
    from standards.codec import Medium

    document = AEF.parse(message(size=7), medium=Medium.JSON).document
    body = CANONICAL.serialize(document, medium=Medium.JSON).data
    sent = gha.send(body, message_id="t-canonical-1", content_type=CANONICAL_CONTENT_TYPE)
    assert sent.status == 200 and sent.body["outcome"] == "accepted"
    assert sent.body["inbound"]["format"] == "canonical"


@pytest.mark.parametrize(("receiver", "status", "code"), [
    ("nor-5xx", 502, "UPSTREAM.SERVER_ERROR"),
    ("swe-garbage", 502, "UPSTREAM.ANSWER_INVALID"),
    ("jpn-unsigned", 502, "UPSTREAM.ANSWER_INVALID"),
    ("kor-slow", 504, "UPSTREAM.TIMEOUT"),
    ("sgp-cuts", 502, "UPSTREAM.UNAVAILABLE"),
    ("per-down", 502, "UPSTREAM.UNAVAILABLE"),
])
def test_faults_give_a_coded_502_or_504_with_retry_after_and_no_receipt(
        gha: GatewayClient, receiver: str, status: int, code: str) -> None:
    party = {"nor-5xx": "NOR", "swe-garbage": "SWE", "jpn-unsigned": "JPN", "kor-slow": "KOR", "sgp-cuts": "SGP",
             "per-down": "PER"}[receiver]
    sent = gha.send(message(party, size=2), message_id=f"t-fault-{receiver}")
    assert sent.status == status, sent.body
    assert sent.body["code"] == code and sent.retry_after == "7"
    assert sent.signature is None and "outcome" not in sent.body


def test_fault_retries_follow_the_delivery_policy(faulty: FaultyRegistry, gha: GatewayClient) -> None:
    before = faulty.calls.get("5xx", 0)
    gha.send(message("NOR", size=2), message_id="t-policy-1")
    assert faulty.calls["5xx"] - before == 2  # one attempt plus one retry (CARBONLINK_DELIVERY.retries = 1)


def test_metrics_count_per_peer_and_kind(net: Network) -> None:
    import httpx

    assert httpx.get(net.gateway_url + "/metrics").status_code == 401  # not readable anonymously
    registry = net.registries["gha"]
    assert registry.key is not None
    scraper = GatewayClient(net.gateway_url, registry.id, registry.key, issuer=net.issuer, scope="metrics:read")
    text = scraper.request("GET", "/metrics").text  # the demo directory grants metrics:read
    assert 'carbonlink_messages_total{kind="transfers",outcome="accepted",peer="che"}' in text
    assert 'carbonlink_delivery_faults_total{code="UPSTREAM.TIMEOUT",kind="transfers",peer="kor-slow"}' in text
    assert 'carbonlink_rejections_total{code="TRANSFER.SENDER_MISMATCH",kind="transfers",peer="gha"}' in text


def test_evidence_chain_verifies_and_detects_tampering(net: Network, gha: GatewayClient, tmp_path: Any) -> None:
    assert gha.send(message(size=4), message_id="t-evidence-1").status == 200
    db = net.root / "gateway" / "evidence.sqlite3"
    jwks = tmp_path / "jwks.json"
    import httpx

    jwks.write_text(httpx.get(net.gateway_url + "/.well-known/jwks.json").text)
    copy = tmp_path / "evidence.sqlite3"
    with sqlite3.connect(db) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    verify = run_cli("evidence", "verify", "--log", f"sqlite:///{copy}", "--jwks", str(jwks))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    export = tmp_path / "evidence-export.jsonl"
    exported = run_cli("evidence", "export", "--log", f"sqlite:///{copy}", "-o", str(export))
    assert exported.returncode == 0, exported.stdout + exported.stderr
    offline = run_cli("evidence", "verify", "--file", str(export), "--jwks", str(jwks))
    assert offline.returncode == 0, offline.stdout + offline.stderr
    messages = [json.loads(line).get("message_id") for line in export.read_text().split("\n")[1:] if line.strip()]
    assert "t-evidence-1" in messages
    with sqlite3.connect(copy) as conn:
        triggers = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")]
        for name in triggers:
            conn.execute(f'DROP TRIGGER "{name}"')
        last = conn.execute("SELECT max(seq) FROM evidence").fetchone()[0]
        conn.execute("UPDATE evidence SET message_id = 'forged' WHERE seq = ?", (last,))
    tampered = run_cli("evidence", "verify", "--log", f"sqlite:///{copy}", "--jwks", str(jwks), "--json")
    assert tampered.returncode == 1, tampered.stdout + tampered.stderr
    assert str(last) in tampered.stdout and "hash" in tampered.stdout.lower()


def test_gateway_logs_are_json_lines_with_message_ids(net: Network, gha: GatewayClient) -> None:
    assert gha.send(message(size=3), message_id="t-logged-1").status == 200
    lines = []
    for raw in (net.root / "gateway.log").read_text().splitlines():
        if raw.startswith("{"):
            lines.append(json.loads(raw))
    relayed = [line for line in lines if line.get("message_id") == "t-logged-1"]
    assert relayed and relayed[0]["event"] == "relayed" and relayed[0]["receiver"] == "che"
    assert any(line.get("code") == "UPSTREAM.TIMEOUT" for line in lines)


def test_oversized_message_is_refused_with_413(gha: GatewayClient) -> None:
    huge = b'{"format": "carbonlink/aef-json", "Actions": [], "pad": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    refused = gha.send(huge, message_id="t-huge-1")
    assert refused.status == 413 and refused.body["code"] == "INPUT.TOO_LARGE"


def test_rate_limit_answers_429_with_retry_after(net: Network) -> None:
    import httpx

    limited = GatewayClient(net.gateway_url, "gha", net.registries["gha"].key)  # type: ignore[arg-type]
    codes = []
    for i in range(200):
        sent = limited.send(b"{}", message_id=f"t-rate-{i}")
        codes.append(sent.status)
        if sent.status == 429:
            assert sent.body["code"] == "TRANSFER.RATE_LIMITED" and sent.retry_after
            break
    assert 429 in codes, codes
    assert httpx.get(net.gateway_url + "/healthz").status_code == 200


def acquisition(first: int, last: int) -> bytes:
    """CHE's registry reports the acquisition of GHA's ITMOs ``first``..``last`` (canonical JSON)."""
    parsed = default_catalog().get("aef").parse(message(size=1), medium=Medium.JSON)
    (action,) = parsed.document.actions
    acquired = action.model_copy(update={
        "action_type": ActionType.ACQUISITION, "subtype": None, "registry": "CHE01", "transferring_party": "GHA",
        "acquiring_party": None, "first_id": first, "last_id": last, "quantity": Decimal(last - first + 1)})
    return CanonicalDocument(actions=[acquired]).model_dump_json(exclude_none=True).encode()


def test_an_acquisition_goes_to_the_registry_the_units_came_from(net: Network) -> None:
    """Routing only: the acquiring registry reports an acquisition and the gateway delivers it, translated,
    to the transferring Party's registry, which answers with a signed verdict. (The sandbox keys ITMOs by the
    registry tracking them, so it cannot match CHE01's record to its own GHA01 units and rejects them as
    unknown: docs/sandbox.md.)"""
    che = net.client("che")
    first, last = BLOCKS.take(40)
    sent = che.send(acquisition(first, last), message_id="t-acq-1", kind="actions",
                    content_type=CANONICAL_CONTENT_TYPE)
    assert sent.status == 200, sent.body
    assert sent.body["receiver"]["id"] == "gha" and sent.body["outbound"]["format"] == "aef"
    answer = sent.body["receiver_answer"]
    assert answer["signature"].count(".") == 2 and answer["body"]["verdict"] == sent.body["outcome"]

    refused = che.send(acquisition(first, last), message_id="t-acq-2", kind="transfers",
                       content_type=CANONICAL_CONTENT_TYPE)
    assert refused.status == 422 and refused.body["code"] == "TRANSFER.KIND_MISMATCH"


def test_an_acquisition_from_the_senders_own_party_is_refused(gha: GatewayClient) -> None:
    doc = orjson.loads(acquisition(1, 5))
    doc["actions"][0]["registry"], doc["actions"][0]["transferring_party"] = "GHA01", "GHA"
    refused = gha.send(orjson.dumps(doc), message_id="t-acq-self", kind="actions",
                       content_type=CANONICAL_CONTENT_TYPE)
    assert refused.status == 403 and refused.body["code"] == "TRANSFER.SENDER_MISMATCH"
