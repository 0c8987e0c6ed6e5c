"""CAD Trust output of the Isometric and CARB exports: what cannot be expressed is refused record by record with a
coded finding that says why (kilogram quantities, no serial numbers, no v2 picklist value), never with a made-up
id, a rounded block or a nearest picklist value; ``--accept-losses`` writes the rest and counts what was left
out, including issuance-report rows whose project was left out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from standards import CanonicalDocument, Finding, Medium
from standards.cadt.codec import CadtV2Codec
from standards.cadt.operator import OperatorProfile, load_operator_profile
from standards.cadt.picklists import bundled
from tests.adapters.registry_samples import FIXTURES, PROFILE, flagged, parse, rules
from tests.support.cli import run_cli

ISOMETRIC = [str(FIXTURES / "isometric" / name)
             for name in ("projects.csv", "issuances.csv", "credit-batches.csv", "retirements.csv")]
CARB = str(FIXTURES / "carb" / "issuance-table.csv")


def _cadt_v2(fmt: str, *names: str, operator: OperatorProfile | None = None) -> tuple[dict[str, Any], list[Finding]]:
    document = CanonicalDocument()
    for name in names:
        parsed = parse(fmt, Path(name).name)
        assert not rules(parsed.findings), parsed.findings
        document.projects.extend(parsed.document.projects)
        document.units.extend(parsed.document.units)
    codec = CadtV2Codec(operator=operator or load_operator_profile(PROFILE))
    result = codec.serialize(document, medium=Medium.JSON)
    checked = codec.validate(result.data, medium=Medium.JSON)
    return json.loads(result.data), list(result.findings) + list(checked.findings)


def _translate(*args: str, out: Path, profile: Path = PROFILE) -> tuple[int, dict[str, Any]]:
    done = run_cli("translate", *args, "--profile", str(profile), "-o", str(out), "--json")
    return done.returncode, json.loads(done.stdout)


def test_carb_units_without_serials_get_no_placeholder_id_and_a_reason() -> None:
    doc, findings = _cadt_v2("carb", CARB)
    assert not any(f.rule == "CADT.V2.DUPLICATE_ID" for f in findings)
    assert doc["unit"] and all("cadTrustUnitId" not in u and "unitStartBlock" not in u for u in doc["unit"])
    reasons = [f for f in findings if f.rule == "CADT.V2.SOURCE_MISSING" and f.location.pointer.endswith(
        "/unitStartBlock")]
    assert flagged(reasons, "unit") == set(range(len(doc["unit"])))
    assert all("gives no serial numbers" in f.message for f in reasons)


def test_carb_issuance_rows_of_a_left_out_project_are_lost_records(tmp_path: Path) -> None:
    out = tmp_path / "carb.json"
    code, summary = _translate(CARB, "--from", "carb", "--to", "cadt-v2", "--accept-losses", out=out)
    assert code == 0, summary
    losses = {loss["field"]: loss["records"] for loss in summary["losses"]}
    doc = json.loads(out.read_bytes())
    written_projects = {p["projectId"] for p in doc["project"]}
    as_issuance = losses.get("unit.quantity", [])
    # every row still listed as written is the issuance of a project that was written, and is in the document
    assert as_issuance and all(rid.split("(project ")[1].rstrip(")") in written_projects for rid in as_issuance)
    # an issuance built from unit rows that are lost (no serials) is still written: its project is written
    verifications = {v["cadTrustVerificationId"]: v["cadTrustProjectId"] for v in doc["verification"]}
    project_ids = {p["cadTrustProjectId"] for p in doc["project"]}
    assert len(doc["issuance"]) >= len(as_issuance)
    assert all(verifications[i["cadTrustVerificationId"]] in project_ids for i in doc["issuance"])
    # the rows of left-out projects are lost records, and the summary adds up
    left_out = set(losses["projects.record"])
    rows_lost = [rid for rid in losses["units.record"] if rid.startswith("#")]
    assert left_out and rows_lost
    assert all(rid.split("(project ")[1].rstrip(")") in left_out for rid in rows_lost)
    assert summary["records_written"] == len(as_issuance) + len(doc.get("unit", []))
    assert summary["records_written"] + summary["records_lost"] == summary["records"]


def test_isometric_v1_accepting_losses_writes_the_projects_and_counts_every_unit(tmp_path: Path) -> None:
    out = tmp_path / "iso.json"
    code, summary = _translate(*ISOMETRIC, "--from", "isometric", "--to", "cadt-v1", out=out)
    assert code == 1 and not out.exists()
    code, summary = _translate(*ISOMETRIC, "--from", "isometric", "--to", "cadt-v1", "--accept-losses", out=out)
    assert code == 0, summary
    doc = json.loads(out.read_bytes())
    assert len(doc["projects"]) == 4 and doc["units"] == []
    assert summary["records_lost"] == summary["records"] - 4 and summary["records_written"] == 4
    assert not any(f["severity"] == "error" for f in summary["findings"])
    whole = [f for f in summary["findings"] if "is not a whole number of units" in f["message"]]
    assert whole and all(f["rule"] == "CADT.V1.SOURCE_MISSING" for f in whole)


def test_isometric_v2_maps_what_the_picklists_hold_and_names_the_vocabulary_for_the_rest(tmp_path: Path) -> None:
    # without the operator's own project types (project.projectTypeV2: see test_isometric_cadt_v2.py)
    raw = yaml.safe_load(PROFILE.read_text(encoding="utf-8"))
    del raw["project"]["projectTypeV2"]
    profile = tmp_path / "operator.yaml"
    profile.write_text(yaml.safe_dump(raw), encoding="utf-8")
    doc, findings = _cadt_v2("isometric", *ISOMETRIC, operator=load_operator_profile(profile))
    picklists = bundled("v2")
    for project in doc["project"]:
        assert set(project.get("projectSector", [])) <= set(picklists.values("project_sector") or ())
        assert set(project.get("projectType", [])) <= set(picklists.values("project_type") or ())
        assert project["projectStatus"] in (picklists.values("project_status") or ())
        assert project["projectUnitMetric"] == "tCO2e" and project["projectRegistryName"] == "Isometric"
    statuses = {p["projectId"]: p["projectStatus"] for p in doc["project"]}
    assert statuses["prj_1HZSSWBQM1S08H83"] == "Validated" and statuses["prj_1KC8T0EGS1S0H36R"] == "Listed"
    storage = next(p for p in doc["project"] if p["projectId"] == "prj_1HZSSWBQM1S08H83")
    assert storage["projectSector"] == ["Carbon capture and storage"]
    # no v2 project type fits a biomass removal pathway: a finding naming the file to extend, no nearest value
    vocab = [f for f in findings if f.rule == "CADT.V2.VOCAB" and f.location.pointer.endswith("/projectType")]
    assert flagged(vocab, "project") == set(range(len(doc["project"])))
    assert all("isometric.json" in f.message and "project.projectTypeV2" in f.message for f in vocab)
    fractional = [f for f in findings if f.rule == "CADT.V2.SOURCE_MISSING" and "not a whole number" in f.message]
    assert flagged(fractional, "unit") >= {0, 1, 2, 3}
    out = tmp_path / "iso.json"
    code, summary = _translate(*ISOMETRIC, "--from", "isometric", "--to", "cadt-v2", "--accept-losses", out=out,
                               profile=profile)
    assert code == 1 and not out.exists() and "TRANSLATION.EMPTY" in summary["message"]
    # the refusal carries the findings it points to: every project's missing project type, every unit's reason
    said = {(f["rule"], (f["pointer"] or "").rsplit("/", 1)[-1]) for f in summary["findings"]}
    assert {("CADT.V2.VOCAB", "projectType"), ("CADT.V2.SOURCE_MISSING", "unitStartBlock")} <= said
    assert sum(1 for f in summary["findings"] if f["rule"] == "CADT.V2.VOCAB"
               and (f["pointer"] or "").endswith("/projectType") and "isometric.json" in f["message"]) == 4


def test_the_text_report_of_accepted_losses_shows_why_records_are_missing(tmp_path: Path) -> None:
    done = run_cli("translate", CARB, "--from", "carb", "--to", "cadt-v2", "--profile", str(PROFILE),
                   "--accept-losses", "-o", str(tmp_path / "carb.json"))
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning: ")]
    assert any("CADT.V2.VOCAB /project/" in line and "carb.json" in line for line in warnings)
    assert any("CADT.V2.SOURCE_MISSING /unit/" in line and "no serial numbers" in line for line in warnings)
    assert len(warnings) <= 51 and warnings[-1].startswith("warning: ") and "more (--json" in warnings[-1]
