"""CAD Trust v1 documents from a Verra export: linked, deterministic ids, vocabulary, operator profile."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters import default_catalog
from bench.verra_sample import write
from standards.cadt.codec import CadtV1Codec
from standards.cadt.linking import stable_id
from standards.cadt.operator import OperatorProfileError, load_operator_profile, operator_profile_from
from standards.cadt.picklists import bundled
from standards.cadt.spec import load_spec
from standards.codec import Medium
from standards.model import CanonicalDocument
from tests.support.cli import run_cli

PROFILE = {
    "project": {"coveredByNDC": "Unknown", "projectStatusDate": "2026-12-01"},
    "unit": {"correspondingAdjustmentDeclaration": "Unknown", "correspondingAdjustmentStatus": "Not Started",
             "countryJurisdictionOfOwner": "United States of America"},
    "issuance": {"verificationApproach": "Verified under the VCS Program", "verificationReportDate": "issuance date"},
}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write(tmp_path_factory.mktemp("verra"))


def _document(*paths: Path) -> CanonicalDocument:
    doc = CanonicalDocument()
    for path in paths:
        parsed = default_catalog().get("verra").parse(path.read_bytes(), medium=Medium.CSV)
        assert parsed.valid
        doc.projects.extend(parsed.document.projects)
        doc.units.extend(parsed.document.units)
    return doc


def _write(doc: CanonicalDocument, profile: dict[str, Any] | None = PROFILE) -> tuple[dict[str, Any], list[Any]]:
    operator = None if profile is None else operator_profile_from(profile, "test profile", bundled("v1"))
    codec = CadtV1Codec(picklists=bundled("v1"), operator=operator)
    result = codec.serialize(doc, medium=Medium.JSON)
    return json.loads(result.data), result.findings + codec.validate(result.data, medium=Medium.JSON).findings


def test_transactions_only_export_gives_linked_projects_and_issuances(sample: tuple[Path, Path]) -> None:
    transactions, _projects = sample
    doc = _document(transactions)
    native, findings = _write(doc)
    assert len(native["projects"]) == len({u.project_id for u in doc.units})
    issuances = {i["id"]: (p["warehouseProjectId"], i) for p in native["projects"] for i in p.get("issuances", [])}
    linked = [u for u in native["units"] if "issuance" in u]
    flagged = {f.location.pointer.split("/")[2] for f in findings
               if f.is_error and f.location.pointer.startswith("/units/")}
    assert len(linked) == len(native["units"]) == 200
    for unit in linked:
        project_id, issuance = issuances[unit["issuanceId"]]
        assert unit["issuance"] == issuance and issuance["warehouseProjectId"] == project_id
    # what the export cannot give is a coded finding, never a made-up value
    rules = {f.rule for f in findings if f.is_error}
    assert rules == {"CADT.V1.SOURCE_MISSING", "CADT.V1.VOCAB", "CADT.V1.REQUIRED"}
    assert all("projectDeveloper" in f.location.pointer for f in findings if f.rule == "CADT.V1.SOURCE_MISSING")
    assert 0 < len(flagged) < 200


def test_ids_are_deterministic_uuid5_of_registry_and_natural_key(sample: tuple[Path, Path]) -> None:
    transactions, projects = sample
    first, _ = _write(_document(transactions))
    again, _ = _write(_document(transactions))
    assert first == again
    project = first["projects"][0]
    assert project["warehouseProjectId"] == stable_id("verra", "project", project["projectId"])
    unit = first["units"][0]
    assert unit["warehouseUnitId"] == stable_id(
        "verra", "unit", _document(transactions).units[0].serial or "")
    # the project export and the transactions export of the same project give the same project id
    both, _ = _write(_document(projects, transactions))
    by_id = {p["projectId"]: p["warehouseProjectId"] for p in both["projects"]}
    assert all(by_id[p["projectId"]] == p["warehouseProjectId"] for p in first["projects"])
    ids = [p["warehouseProjectId"] for p in both["projects"]] + [u["warehouseUnitId"] for u in both["units"]]
    assert len(set(ids)) == len(ids)


def test_no_value_outside_an_enforced_picklist(sample: tuple[Path, Path]) -> None:
    native, _ = _write(_document(*sample))
    picklists = bundled("v1")
    spec = load_spec("v1")
    for resource, entity in (("projects", "project"), ("units", "unit")):
        for record in native[resource]:
            for f in spec.entities[entity].fields:
                allowed = picklists.values(f.picklist) if f.picklist and f.enforced else None
                if allowed is not None and f.name in record:
                    assert record[f.name] in allowed, (resource, f.name, record[f.name])


def test_projects_and_transactions_together_leave_only_vocabulary_gaps(sample: tuple[Path, Path]) -> None:
    native, findings = _write(_document(*sample))
    assert len(native["projects"]) == 50
    errors = [f for f in findings if f.is_error and f.rule != "CADT.V1.REQUIRED"]
    assert {f.rule for f in errors} == {"CADT.V1.VOCAB"}
    assert all("standards/cadt/data/vocab/" in f.message for f in errors)
    notes = [f.message for f in findings if f.rule == "CADT.V1.PROFILE_VALUE"]
    assert any("unit.correspondingAdjustmentDeclaration = 'Unknown'" in n for n in notes)
    statuses = {p["projectStatus"] for p in native["projects"]}
    assert statuses <= set(bundled("v1").values("projectStatusValues") or ())


def test_without_a_profile_each_missing_value_names_its_profile_key(sample: tuple[Path, Path]) -> None:
    _native, findings = _write(_document(*sample), profile=None)
    named = {f.message.split("set ")[1].split(" ")[0] for f in findings if f.rule == "CADT.V1.PROFILE_MISSING"}
    assert named >= {"unit.correspondingAdjustmentDeclaration", "unit.correspondingAdjustmentStatus",
                     "project.coveredByNDC", "issuance.verificationApproach", "issuance.verificationReportDate"}


def test_operator_profile_files(tmp_path: Path) -> None:
    yaml_file = tmp_path / "profile.yaml"
    yaml_file.write_text("unit:\n  correspondingAdjustmentStatus: Pending\nproject:\n  projectStatusDate: 2026-01-31\n",
                         encoding="utf-8")
    loaded = load_operator_profile(yaml_file, bundled("v1"))
    assert loaded.value("unit", "correspondingAdjustmentStatus") == "Pending"
    assert loaded.value("project", "projectStatusDate") == "2026-01-31"
    json_file = tmp_path / "profile.json"
    json_file.write_text(json.dumps(PROFILE), encoding="utf-8")
    assert load_operator_profile(json_file).value("issuance", "verificationReportDate") == "issuance date"
    for bad, words in (({"units": {}}, "unknown section"), ({"unit": {"unitType": "x"}}, "not a field"),
                       ({"unit": {"correspondingAdjustmentStatus": "Done"}}, "picklist"),
                       ({"project": {"projectStatusDate": "soon"}}, "not a date")):
        with pytest.raises(OperatorProfileError, match=words):
            operator_profile_from(bad, "bad profile", bundled("v1"))


def test_cli_translate_with_profile(tmp_path: Path, sample: tuple[Path, Path]) -> None:
    profile = tmp_path / "operator.json"
    profile.write_text(json.dumps(PROFILE), encoding="utf-8")
    refused = run_cli("translate", str(sample[0]), "--from", "verra", "--to", "cadt-v1", "--profile", str(profile),
                      "-o", str(tmp_path / "out.json"))
    assert refused.returncode == 1 and "CADT.V1.SOURCE_MISSING" in refused.stdout + refused.stderr
    assert not (tmp_path / "out.json").exists()
    wrong_target = run_cli("translate", str(sample[0]), "--from", "verra", "--to", "canonical", "--profile",
                           str(profile))
    assert wrong_target.returncode == 2 and "--profile applies to CAD Trust output" in wrong_target.stderr


def test_accepting_losses_writes_every_record_without_a_finding(tmp_path: Path, sample: tuple[Path, Path]) -> None:
    operator = operator_profile_from(PROFILE, "test profile", bundled("v1"))
    codec = CadtV1Codec(picklists=bundled("v1"), operator=operator, accept_losses=True)
    result = codec.serialize(_document(*sample), medium=Medium.JSON)
    native = json.loads(result.data)
    assert codec.validate(result.data, medium=Medium.JSON).valid
    # the owner country comes from the profile, so only the 20 units of VM0042 projects (no unit type) are left out
    assert len(native["projects"]) == 50 and len(native["units"]) == 180
    assert all("issuance" in unit for unit in native["units"])
    lost = {loss.field: loss for loss in result.losses}
    assert len(lost["units.record"].records) == 20 and "CADT.V1.VOCAB" in lost["units.record"].reason
    assert not any(f.is_error for f in result.findings)
    # the command line: a transactions export alone loses its projects (no developer) and says so
    profile = tmp_path / "operator.json"
    profile.write_text(json.dumps(PROFILE), encoding="utf-8")
    out = tmp_path / "units.json"
    done = run_cli("translate", str(sample[0]), "--from", "verra", "--to", "cadt-v1", "--profile", str(profile),
                   "--accept-losses", "-o", str(out))
    assert done.returncode == 0, done.stderr
    written = json.loads(out.read_text(encoding="utf-8"))
    assert len(written["units"]) == 180 and written["projects"] == []
    assert "(180 of 200 records written, 20 lost)" in done.stderr and "loss: projects.record" in done.stderr


def test_owner_country_comes_from_the_profile_never_from_the_host_country(sample: tuple[Path, Path]) -> None:
    doc = _document(*sample)
    native, _ = _write(doc)
    assert {u["countryJurisdictionOfOwner"] for u in native["units"]} == {"United States of America"}
    without = {**PROFILE, "unit": {k: v for k, v in PROFILE["unit"].items() if k != "countryJurisdictionOfOwner"}}
    native, findings = _write(doc, without)
    missing = [f for f in findings if f.rule == "CADT.V1.PROFILE_MISSING" and "countryJurisdictionOfOwner" in f.message]
    assert len(missing) == len(doc.units) and "unit.countryJurisdictionOfOwner" in missing[0].message
    assert not any("countryJurisdictionOfOwner" in u for u in native["units"])


def test_an_owner_country_the_source_gives_is_kept(sample: tuple[Path, Path]) -> None:
    doc = _document(sample[0])
    doc.units[0].extra["countryJurisdictionOfOwner"] = "GHA"
    native, _ = _write(doc)
    assert native["units"][0]["countryJurisdictionOfOwner"] == "Ghana"
    assert native["units"][1]["countryJurisdictionOfOwner"] == "United States of America"
