"""The MRV chain through a gateway in this process to sandbox registries: evidence uploaded, a monitoring report,
its verification and an issuance request relayed, signed and receipted; the registry issues and its notice is
checked and recorded; every refusal the gateway makes with facts only it has, coded."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.evidence import open_log
from gateway.mrv import build_trail, open_mrv_store
from gateway.sandbox.client import SandboxClient
from gateway.sandbox.mrv import _refuse
from tests.mrv.gateway_world import EVIDENCE, MrvWorld, report, request, verification


@pytest.fixture
def net(tmp_path: Path) -> Iterator[MrvWorld]:
    world = MrvWorld(tmp_path)
    yield world
    world.stop()


def code(sent: Any) -> tuple[int, str]:
    return sent.status, sent.body.get("code")


def chain(net: MrvWorld, *, report_doc: dict[str, Any] | None = None) -> tuple[dict[str, Any], ...]:
    """Upload the evidence and relay report and verification; return the three documents."""
    assert net.upload("mrv-sys", EVIDENCE).status_code == 201
    rep = report_doc or report()
    sent = net.send("mrv-sys", "monitoring-reports", rep, "mr-1")
    assert sent.status == 200 and sent.body["outcome"] == "accepted", sent.body
    ver = verification(rep)
    sent = net.send("verifier-energy", "verifications", ver, "vs-1")
    assert sent.status == 200 and sent.body["outcome"] == "accepted", sent.body
    return rep, ver, request(ver)


def test_the_chain_is_relayed_issued_and_its_trail_verifies(net: MrvWorld) -> None:
    req = chain(net)[2]
    sent = net.send("mrv-sys", "issuance-requests", req, "ir-1")
    assert sent.status == 200, sent.body
    receipt = sent.body
    assert receipt["kind"] == "issuance-requests" and receipt["outcome"] == "accepted"
    assert receipt["inbound"]["format"] == receipt["outbound"]["format"] == "mrv"
    notice = receipt["receiver_answer"]["body"]["notice"]
    assert notice["quantity"] == 1000 and notice["block"]["last"] - notice["block"]["first"] + 1 == 1000
    assert notice["block"]["serial"] == "CA0001-CHE01-CHE-1-2023..CA0001-CHE01-CHE-1000-2023"
    holdings = SandboxClient(net.servers["che-sandbox"].base, "op-che-sandbox").holdings()
    assert [(b["units"], b["account"], b["status"]) for b in holdings["holdings"]] == [
        (notice["block"]["serial"], "issuance", "held")]
    # every MRV message is in the evidence log, and the notice as the registry's answer
    log = open_log(f"sqlite:///{net.root / 'data' / 'evidence.sqlite3'}")
    try:
        kinds = [r.kind for r in log.records()]
    finally:
        log.close()
    assert [k for k in kinds if k != "transfers"] == [
        "monitoring-reports", "monitoring-reports", "verifications", "verifications", "issuance-requests",
        "issuance-notices", "issuance-requests"]
    store = open_mrv_store(f"sqlite:///{net.root / 'data' / 'mrv.sqlite3'}")
    try:
        trail = build_trail(store, notice["block"]["serial"], net.world.keyring.jwks())
    finally:
        store.close()
    assert trail.ok, [f.message for f in trail.findings]
    assert [link.kind for link in trail.links] == ["issuance-notices", "issuance-requests", "verifications",
                                                   "monitoring-reports"]
    assert trail.evidence[0]["attested_by"]["role"] == "mrv-system"


def test_a_retry_gets_the_same_receipt_and_issues_once(net: MrvWorld) -> None:
    _, _, req = chain(net)
    first = net.send("mrv-sys", "issuance-requests", req, "ir-1")
    again = net.send("mrv-sys", "issuance-requests", req, "ir-1")
    assert again.replayed and again.raw == first.raw
    holdings = SandboxClient(net.servers["che-sandbox"].base, "op-che-sandbox").holdings()
    assert holdings["total"]["held"] == 1000


def test_report_refusals(net: MrvWorld) -> None:
    # evidence cited but never uploaded
    assert code(net.send("mrv-sys", "monitoring-reports", report(), "mr-0")) == (
        422, "MRV_GATEWAY.EVIDENCE_MISSING")
    assert net.upload("mrv-sys", EVIDENCE).status_code == 201
    # uploaded, but the report states another size
    wrong_size = report(evidence=[{**report()["evidence"][0], "size": 3}])
    assert code(net.send("mrv-sys", "monitoring-reports", wrong_size, "mr-0b")) == (
        422, "MRV_GATEWAY.EVIDENCE_MISSING")
    # the report names another MRV system than its sender
    assert code(net.send("mrv-sys", "monitoring-reports", report(mrv_system="other"), "mr-0c")) == (
        403, "MRV_GATEWAY.ROLE")
    # a verifier may not send reports (directory kinds), a registry has no MRV-system role
    assert code(net.send("verifier-energy", "monitoring-reports", report(), "mr-0d")) == (
        403, "TRANSFER.KIND_NOT_ALLOWED")
    assert code(net.send("che-sandbox", "monitoring-reports", report(), "mr-0e")) == (403, "MRV_GATEWAY.ROLE")
    # not JSON
    assert code(net.send("mrv-sys", "monitoring-reports", b"a,b", "mr-0f", content_type="text/csv")) == (
        415, "MRV_GATEWAY.CONTENT_TYPE")
    assert code(net.send("mrv-sys", "monitoring-reports", report(), "mr-1")) == (200, None)


def test_overlapping_periods_of_one_project_are_refused_across_registries(net: MrvWorld) -> None:
    assert net.upload("mrv-sys", EVIDENCE).status_code == 201
    assert net.send("mrv-sys", "monitoring-reports", report(), "mr-1").status == 200
    overlap = report(report_id="MR-2", registry="gha-sandbox", period={"start": "2023-12-01", "end": "2024-05-31"},
                     prepared_on="2024-06-10")
    refused = net.send("mrv-sys", "monitoring-reports", overlap, "mr-2")
    assert code(refused) == (409, "MRV_GATEWAY.PERIOD_OVERLAP")
    assert "che-sandbox" in refused.body["detail"]
    # the next period, to the other registry, is fine; another project's same period too
    after = report(report_id="MR-3", registry="gha-sandbox", period={"start": "2024-01-01", "end": "2024-06-30"},
                   prepared_on="2024-07-10")
    assert net.send("mrv-sys", "monitoring-reports", after, "mr-3").body["outcome"] == "accepted"
    other = report(report_id="MR-4", project_id="CHE-WIND-2")
    assert net.send("mrv-sys", "monitoring-reports", other, "mr-4").body["outcome"] == "accepted"


def test_a_report_the_registry_rejects_frees_its_period(net: MrvWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    assert net.upload("mrv-sys", EVIDENCE).status_code == 201
    mrv = net.servers["che-sandbox"].sandbox.mrv
    check = mrv._check
    monkeypatch.setattr(mrv, "_check", lambda db, kind, doc: _refuse("the registry's clerk refuses it"))
    sent = net.send("mrv-sys", "monitoring-reports", report(), "mr-x")
    assert sent.status == 200 and sent.body["outcome"] == "rejected"
    assert sent.body["receiver_answer"]["body"]["code"] == "SANDBOX.MRV_REFUSED"
    monkeypatch.setattr(mrv, "_check", check)
    store = open_mrv_store(f"sqlite:///{net.root / 'data' / 'mrv.sqlite3'}")
    try:
        assert store.message("mrv-sys", "mr-x").status == "rejected"  # type: ignore[union-attr]
    finally:
        store.close()
    # the same period again: free, since the first report was not taken
    assert net.send("mrv-sys", "monitoring-reports", report(), "mr-y").body["outcome"] == "accepted"
    # and a verification cannot rest on the rejected one's digest... it is the same document: it rests on mr-y
    assert net.send("verifier-energy", "verifications", verification(report()), "vs-1").body["outcome"] == "accepted"


def test_verification_refusals(net: MrvWorld) -> None:
    assert net.upload("mrv-sys", EVIDENCE).status_code == 201
    rep = report(operator="verifier-mrv-co")
    assert net.send("mrv-sys", "monitoring-reports", rep, "mr-1").status == 200
    unknown = verification(report(report_id="never-sent"))
    assert code(net.send("verifier-energy", "verifications", unknown, "vs-0")) == (422, "MRV_GATEWAY.REPORT_UNKNOWN")
    waste = verification(rep, verifier={"participant": "verifier-waste", "accreditation_id": "W-1",
                                        "sectors": ["Waste management"]})
    assert code(net.send("verifier-waste", "verifications", waste, "vs-1")) == (
        403, "MRV_GATEWAY.VERIFIER_NOT_ACCREDITED")
    claims_energy = verification(rep, verifier={"participant": "verifier-waste", "accreditation_id": "W-1",
                                                "sectors": ["Energy generation"]})
    assert code(net.send("verifier-waste", "verifications", claims_energy, "vs-2")) == (
        403, "MRV_GATEWAY.VERIFIER_NOT_ACCREDITED")
    own = verification(rep, verifier={"participant": "verifier-mrv-co", "accreditation_id": "S-1",
                                      "sectors": ["Energy generation"]})
    assert code(net.send("verifier-mrv-co", "verifications", own, "vs-3")) == (
        403, "MRV_GATEWAY.VERIFIER_NOT_INDEPENDENT")
    assert code(net.send("verifier-energy", "verifications", verification(rep, verified_quantity="1200.5"),
                         "vs-4")) == (422, "MRV_GATEWAY.QUANTITY")
    assert code(net.send("verifier-energy", "verifications", verification(rep, project_id="CHE-OTHER"),
                         "vs-5")) == (422, "MRV_GATEWAY.CHAIN_MISMATCH")
    assert code(net.send("verifier-energy", "verifications", verification(rep, verifier={
        "participant": "verifier-waste", "accreditation_id": "X", "sectors": ["Energy generation"]}), "vs-6")) == (
        403, "MRV_GATEWAY.ROLE")
    assert net.send("verifier-energy", "verifications", verification(rep), "vs-7").body["outcome"] == "accepted"


def test_a_verifier_of_the_same_organisation_is_not_independent(net: MrvWorld) -> None:
    assert net.upload("mrv-sys", EVIDENCE).status_code == 201
    rep = report()  # no operator named: the directory names verifier-mrv-co and mrv-sys alike ("Solar MRV Co")
    assert net.send("mrv-sys", "monitoring-reports", rep, "mr-1").status == 200
    own = verification(rep, verifier={"participant": "verifier-mrv-co", "accreditation_id": "S-1",
                                      "sectors": ["Energy generation"]})
    refused = net.send("verifier-mrv-co", "verifications", own, "vs-1")
    assert code(refused) == (403, "MRV_GATEWAY.VERIFIER_NOT_INDEPENDENT")
    assert [e["rule"] for e in refused.body["errors"]] == ["MRV.VERIFIER_NOT_INDEPENDENT"]


def test_request_refusals(net: MrvWorld) -> None:
    rep, ver, req = chain(net)
    unknown = request(verification(rep, statement_id="never-sent"))
    assert code(net.send("mrv-sys", "issuance-requests", unknown, "ir-0")) == (
        422, "MRV_GATEWAY.VERIFICATION_UNKNOWN")
    # 1150 verified minus 100 buffer: 1050 issuable
    assert code(net.send("mrv-sys", "issuance-requests", request(ver, quantity=1051), "ir-1")) == (
        422, "MRV_GATEWAY.QUANTITY")
    assert code(net.send("mrv-sys", "issuance-requests", request(ver, vintage=2024), "ir-2")) == (
        422, "MRV_GATEWAY.CHAIN_MISMATCH")
    assert code(net.send("mrv-sys", "issuance-requests", request(ver, registry="gha-sandbox"), "ir-3")) == (
        422, "MRV_GATEWAY.CHAIN_MISMATCH")
    assert code(net.send("verifier-energy", "issuance-requests", req, "ir-4")) == (403, "TRANSFER.KIND_NOT_ALLOWED")
    assert net.send("mrv-sys", "issuance-requests", request(ver, quantity=1050), "ir-5").body["outcome"] == "accepted"
    again = request(ver, request_id="IR-again", quantity=1)
    assert code(net.send("mrv-sys", "issuance-requests", again, "ir-6")) == (409, "MRV_GATEWAY.ALREADY_REQUESTED")
    assert code(net.send("che-sandbox", "issuance-notices", {"kind": "issuance-notice"}, "in-1")) == (
        403, "MRV_GATEWAY.ROLE")


def test_an_adverse_opinion_verifies_nothing_to_issue(net: MrvWorld) -> None:
    assert net.upload("mrv-sys", EVIDENCE).status_code == 201
    rep = report()
    assert net.send("mrv-sys", "monitoring-reports", rep, "mr-1").status == 200
    adverse = verification(rep, opinion="adverse", verified_quantity="0")
    assert net.send("verifier-energy", "verifications", adverse, "vs-1").body["outcome"] == "accepted"
    assert code(net.send("mrv-sys", "issuance-requests", request(adverse, quantity=1), "ir-1")) == (
        422, "MRV_GATEWAY.QUANTITY")


def test_a_notice_of_another_quantity_is_refused_and_not_recorded(net: MrvWorld,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _, _, req = chain(net)
    mrv = net.servers["che-sandbox"].sandbox.mrv
    issue = mrv._issue

    def short(db: Any, load: Any, request_doc: Any, message_id: str) -> Any:
        return issue(db, load, request_doc.model_copy(update={"quantity": request_doc.quantity - 1}), message_id)

    monkeypatch.setattr(mrv, "_issue", short)
    refused = net.send("mrv-sys", "issuance-requests", req, "ir-1")
    assert code(refused) == (502, "MRV_GATEWAY.BLOCK_QUANTITY"), refused.body
    assert "MRV.BLOCK_QUANTITY" in refused.body["detail"] and "999" in refused.body["detail"]
    store = open_mrv_store(f"sqlite:///{net.root / 'data' / 'mrv.sqlite3'}")
    try:
        assert store.notices() == [] and store.message("mrv-sys", "ir-1") is None
    finally:
        store.close()


def test_evidence_uploads(net: MrvWorld) -> None:
    sha = hashlib.sha256(EVIDENCE).hexdigest()
    stored = net.upload("mrv-sys", EVIDENCE)
    assert stored.status_code == 201 and stored.json()["role"] == "mrv-system"
    again = net.upload("mrv-sys", EVIDENCE)
    assert again.json()["attestation"] == stored.json()["attestation"]  # the first attestation stays
    back = net.client("verifier-energy").request("GET", f"/v1/mrv/evidence/{sha}")
    assert back.status_code == 200 and back.content == EVIDENCE
    assert back.headers["Carbonlink-Evidence-Attestations"] == stored.json()["attestation"]
    mismatch = net.upload("mrv-sys", EVIDENCE + b"x", digest=sha)
    assert (mismatch.status_code, mismatch.json()["code"]) == (422, "MRV_GATEWAY.EVIDENCE_DIGEST")
    missing = net.client("mrv-sys").request("GET", f"/v1/mrv/evidence/{'0' * 64}")
    assert (missing.status_code, missing.json()["code"]) == (404, "MRV_GATEWAY.EVIDENCE_NOT_FOUND")
    bad = net.client("mrv-sys").request("GET", "/v1/mrv/evidence/NOT-A-DIGEST")
    assert bad.status_code in (404, 422) and bad.json()["code"]
    # a registry without MRV roles (no mrv:evidence scope at all)
    plain = net.client("che-registry", "messages:send")
    assert plain.request("PUT", f"/v1/mrv/evidence/{sha}", content=EVIDENCE).json()["code"] == \
        "TOKEN.INSUFFICIENT_SCOPE"
    assert json.loads(stored.content)["uploaded_by"] == "mrv-sys"
