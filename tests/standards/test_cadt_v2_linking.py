"""Linked CAD Trust v2 documents from registry exports (Verra, Gold Standard): every record the data
dictionary v2.0.2 requires is built with deterministic ids shared with v1, values are in the v2
picklists, and what no fact gives is a coded finding; the uncertain requirements follow the profile."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from adapters import default_catalog
from standards import CanonicalDocument, Finding, Medium
from standards.cadt.codec import CadtV1Codec, CadtV2Codec
from standards.cadt.operator import OperatorProfile, operator_profile_from
from standards.cadt.picklists import bundled
from standards.cadt.profiles import load_profile
from tests.support.cli import run_cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
OPERATOR = {"project": {"coveredByNDC": "Unknown", "projectStatusDate": "2026-12-01"},
            "unit": {"correspondingAdjustmentDeclaration": "Unknown", "correspondingAdjustmentStatus": "Not Started",
                     "unitStatusReason": "As published in the registry's export"},
            "issuance": {"verificationApproach": "Verified under the registry's standard",
                         "verificationReportDate": "issuance date", "verificationBody": "SCS Global Services"}}
LISTS = bundled("v2").lists


def _document(fmt: str, *names: str) -> CanonicalDocument:
    document = CanonicalDocument()
    for name in names:
        parsed = default_catalog().get(fmt).parse((FIXTURES / fmt / name).read_bytes(), medium=Medium.CSV)
        document.projects.extend(parsed.document.projects)
        document.units.extend(parsed.document.units)
    return document


def _v2(document: CanonicalDocument, operator: dict[str, Any] | None = OPERATOR,
        profile: str = "cadt-v2.0.2") -> tuple[dict[str, Any], list[Finding]]:
    op = operator_profile_from(operator, "test profile", bundled("v1")) if operator is not None else None
    codec = CadtV2Codec(operator=op, profile=load_profile(profile))
    result = codec.serialize(document, medium=Medium.JSON)
    checked = codec.validate(result.data, medium=Medium.JSON)
    return json.loads(result.data), list(result.findings) + list(checked.findings)


def _errors(findings: list[Finding]) -> set[tuple[str, str]]:
    return {(f.rule, f.location.pointer or "") for f in findings if f.is_error}


def test_verra_exports_become_a_linked_v2_document() -> None:
    doc, findings = _v2(_document("verra", "projects.csv", "transactions.csv"))
    # only what no vocabulary can decide: ACM0002 covers several technologies (no single v2 project_type)
    assert {(rule, pointer.rsplit("/", 1)[1]) for rule, pointer in _errors(findings)} == {
        ("CADT.V2.VOCAB", "projectType"), ("CADT.V2.REQUIRED", "projectType")}
    # VM0042 mixes removals and reductions in one VCU: v2 has 'Not Determined' for that (v1 has no such value)
    assert {u["unitType"] for u in doc["unit"]} <= set(LISTS["unit_type"])
    by_id = {r: {rec[next(k for k in rec if k.startswith("cadTrust") and k.endswith("Id"))]: rec
                 for rec in doc.get(r, [])} for r in ("issuance", "verification", "location")}
    projects = {p["cadTrustProjectId"]: p for p in doc["project"]}
    links = {pm["cadTrustProjectMethodologyId"]: pm for pm in doc["project-methodology"]}
    assert len(doc["unit"]) == 7
    for unit in doc["unit"]:
        issuance = by_id["issuance"][unit["cadTrustIssuanceId"]]
        verification = by_id["verification"][issuance["cadTrustVerificationId"]]
        project = projects[verification["cadTrustProjectId"]]
        assert by_id["location"][issuance["cadTrustLocationId"]]["cadTrustProjectId"] == project["cadTrustProjectId"]
        assert links[issuance["cadTrustProjectMethodologyId"]]["cadTrustProjectId"] == project["cadTrustProjectId"]
        assert unit["unitMetric"] == "tCO2e" and unit["unitStatus"] in LISTS["unit_status"]
        assert unit["unitStatusDate"] and unit["unitStatusReason"]
        # the VM0042 project (VCS3352) only: the others' methodologies name one kind of credit
        assert (unit["unitType"] == "Not Determined") == (project["projectId"] == "VCS3352"), unit
    bale = next(p for p in doc["project"] if p["projectId"] == "VCS1340")
    assert bale["projectRegistryName"] == "Verra" and bale["projectSector"] == ["Others"]
    assert bale["projectType"] == ["Agriculture, forestry and other land use (AFOLU)"]
    assert bale["projectStatus"] in LISTS["project_status"] and bale["projectUnitMetric"] == "tCO2e"
    methodology = next(m for m in doc["methodology"] if m["methodologyCode"] == "VM0015")
    assert methodology["methodologyName"] == "Methodology for Avoided Unplanned Deforestation"
    assert {loc["locationCountry"] for loc in doc["location"]} <= set(LISTS["location_country"])


def test_v2_ids_are_the_v1_ids_and_stable_across_runs() -> None:
    document = _document("verra", "projects.csv", "transactions.csv")
    v2, _ = _v2(document)
    again, _ = _v2(_document("verra", "projects.csv", "transactions.csv"))
    assert json.dumps(v2, sort_keys=True) == json.dumps(again, sort_keys=True)
    v1 = json.loads(CadtV1Codec(operator=operator_profile_from(OPERATOR, "p", bundled("v1"))).serialize(
        document, medium=Medium.JSON).data)
    assert {p["warehouseProjectId"] for p in v1["projects"]} == {p["cadTrustProjectId"] for p in v2["project"]}
    assert [u["warehouseUnitId"] for u in v1["units"]] == [u["cadTrustUnitId"] for u in v2["unit"]]
    assert {u["issuanceId"] for u in v1["units"] if "issuanceId" in u} == \
        {u["cadTrustIssuanceId"] for u in v2["unit"]}


def test_gold_standard_exports_become_a_linked_v2_document() -> None:
    doc, findings = _v2(_document("gold-standard", "projects.csv", "issuances.csv", "retirements.csv"))
    flagged = {pointer.split("/")[1] + "/" + pointer.split("/")[2] for _, pointer in _errors(findings)}
    a_r = next(i for i, p in enumerate(doc["project"]) if p.get("projectSector") == ["Afforestation and reforestation"])
    assert flagged == set()
    # 'A/R' is afforestation or reforestation: the umbrella type AFOLU, not one of the two
    assert doc["project"][a_r]["projectType"] == ["Agriculture, forestry and other land use (AFOLU)"]
    assert len(doc["unit"]) == 6 and all("cadTrustIssuanceId" in u for u in doc["unit"])
    certified = [p for p in doc["project"] if p.get("projectStatus") == "Certified"]
    assert certified and all(s in LISTS["project_status"] for s in (p.get("projectStatus") for p in doc["project"]))
    assert {s["stakeholderType"] for s in doc["stakeholder"]} == {"Developer"}


def test_without_a_verification_body_the_profile_key_is_named() -> None:
    operator = {**OPERATOR, "issuance": {k: v for k, v in OPERATOR["issuance"].items() if k != "verificationBody"}}
    _, findings = _v2(_document("verra", "projects.csv", "transactions.csv"), operator)
    missing = [f for f in findings if f.rule == "CADT.V2.PROFILE_MISSING"]
    assert missing and all("issuance.verificationBody" in f.message for f in missing)
    assert any(f.rule == "CADT.V2.REQUIRED" and f.location.pointer.endswith("cadTrustIssuanceId") for f in findings)


def test_the_code_profile_relaxes_only_what_the_dictionary_and_the_code_disagree_on() -> None:
    operator = {**OPERATOR, "unit": {k: v for k, v in OPERATOR["unit"].items() if k != "unitStatusReason"}}
    document = _document("gold-standard", "issuances.csv")
    _, strict = _v2(document, operator)
    assert {rule for rule, pointer in _errors(strict) if pointer.endswith("/unitStatusReason")} == \
        {"CADT.V2.PROFILE_MISSING", "CADT.V2.REQUIRED"}
    _, relaxed = _v2(document, operator, profile="cadt-v2-code")
    assert not _errors(relaxed)
    assert load_profile("cadt-v2-code").values == load_profile("cadt-v2.0.2").values


def test_cli_writes_v2_with_a_profile_and_refuses_without(tmp_path: Path) -> None:
    profile = tmp_path / "operator.json"
    profile.write_text(json.dumps(OPERATOR), encoding="utf-8")
    out = tmp_path / "gs.json"
    done = run_cli("translate", str(FIXTURES / "gold-standard" / "issuances.csv"), "--from", "gold-standard",
                   "--to", "cadt-v2", "--profile", str(profile), "-o", str(out))
    assert done.returncode == 0, done.stderr
    written = json.loads(out.read_text(encoding="utf-8"))
    assert len(written["unit"]) == 4 and len(written["issuance"]) == 4
    back = run_cli("translate", str(out), "--from", "cadt-v2", "--to", "canonical", "-o", str(tmp_path / "c.json"))
    assert back.returncode == 0, back.stderr
    canonical = json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))
    assert sorted(u["quantity"] for u in canonical["units"]) == sorted(str(u["unitCount"]) for u in written["unit"])
    refused = run_cli("translate", str(FIXTURES / "gold-standard" / "issuances.csv"), "--from", "gold-standard",
                      "--to", "cadt-v2", "-o", str(tmp_path / "none.json"))
    assert refused.returncode == 1 and not (tmp_path / "none.json").exists()


def test_operator_profile_keys_are_v1_names() -> None:
    assert OperatorProfile.key("issuance", "verificationBody") == "issuance.verificationBody"
