"""CAD Trust v2 documents from the APX registries' exports (ACR, CAR, ART TREES), and ``--accept-losses`` for
``cadt-v2``: linked documents whose values are in the v2.0.2 picklists, with deterministic ids; a value with no
mapping is a coded finding naming the record and the vocabulary file; accepting losses leaves the flagged records
out with everything linked to them, never a link to nothing."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from standards.cadt.picklists import bundled
from standards.cadt.vocab import registry_vocabulary
from tests.support.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]
APX = ROOT / "tests" / "fixtures" / "apx"
PROFILE = ROOT / "bench" / "cadt_operator_profile_apx.yaml"
LISTS = bundled("v2").lists
REGISTRIES = {"acr": "american-carbon-registry", "car": "climate-action-reserve", "art": "art-trees"}


def _exports(prefix: str) -> list[str]:
    return sorted(str(p) for p in APX.glob(f"{prefix}-*.csv"))


def _translate(tmp_path: Path, files: list[str], *options: str) -> tuple[Any, dict[str, Any] | None, Path]:
    out = tmp_path / "v2.json"
    done = run_cli("translate", *files, "--from", "apx", "--to", "cadt-v2", "--profile", str(PROFILE),
                   "-o", str(out), "--json", *options)
    return done, (json.loads(out.read_bytes()) if out.exists() else None), out


def _assert_linked(doc: dict[str, Any]) -> None:
    """Every link of the document names a record it holds."""
    ids = {resource: {str(r[key]) for r in doc.get(resource, [])} for resource, key in (
        ("project", "cadTrustProjectId"), ("issuance", "cadTrustIssuanceId"),
        ("verification", "cadTrustVerificationId"), ("location", "cadTrustLocationId"),
        ("project-methodology", "cadTrustProjectMethodologyId"), ("methodology", "cadTrustMethodologyId"))}
    for unit in doc.get("unit", []):
        assert unit["cadTrustIssuanceId"] in ids["issuance"]
    for issuance in doc.get("issuance", []):
        assert issuance["cadTrustVerificationId"] in ids["verification"]
        assert issuance["cadTrustLocationId"] in ids["location"]
        assert issuance["cadTrustProjectMethodologyId"] in ids["project-methodology"]
    for resource in ("verification", "location", "project-methodology", "stakeholder"):
        for record in doc.get(resource, []):
            assert record["cadTrustProjectId"] in ids["project"], (resource, record)
    for link in doc.get("project-methodology", []):
        assert link["cadTrustMethodologyId"] in ids["methodology"]


def _assert_in_picklists(doc: dict[str, Any]) -> None:
    for project in doc["project"]:
        assert set(project["projectSector"]) <= set(LISTS["project_sector"])
        assert set(project["projectType"]) <= set(LISTS["project_type"])
        assert project["projectStatus"] in LISTS["project_status"]
        assert project["projectUnitMetric"] == "tCO2e"
    for unit in doc.get("unit", []):
        assert unit["unitType"] in LISTS["unit_type"] and unit["unitStatus"] in LISTS["unit_status"]


@pytest.mark.parametrize("prefix", sorted(REGISTRIES))
def test_apx_exports_become_linked_v2_documents(tmp_path: Path, prefix: str) -> None:
    done, doc, _ = _translate(tmp_path, _exports(prefix), "--accept-losses")
    assert done.returncode == 0, done.stdout + done.stderr
    assert doc is not None and doc["project"], doc
    _assert_linked(doc)
    _assert_in_picklists(doc)
    summary = json.loads(done.stdout)
    assert summary["records_written"] >= 1
    assert summary["records_written"] + summary["records_lost"] == summary["records"]
    # every project or unit left out names the rules that flagged it, and each rule is one of the coded findings
    flagged = {f["rule"] for f in summary["findings"] if f["severity"] == "warning"}
    for loss in summary["losses"]:
        if loss["field"] in ("projects.record", "units.record") and loss["reason"].startswith("not written: CADT"):
            named = loss["reason"].removeprefix("not written: ").split(" (")[0].split(", ")
            assert set(named) <= flagged, (loss, flagged)


def test_the_same_exports_give_the_same_ids(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = _translate(tmp_path / "a", _exports("acr"), "--accept-losses")[1]
    again = _translate(tmp_path / "b", list(reversed(_exports("acr"))), "--accept-losses")[1]
    assert first is not None and again is not None
    for resource in ("project", "issuance", "unit", "verification"):
        key = f"cadTrust{resource.capitalize()}Id"
        assert {r[key] for r in first[resource]} == {r[key] for r in again[resource]}


def test_issuance_report_rows_are_issuances_not_units(tmp_path: Path) -> None:
    """An ACR issuances-report row names no serial block: it is written as its project's issuance (the quantity,
    which a v2 issuance has no field for, is a loss), not as a unit."""
    done, doc, _ = _translate(tmp_path, [str(APX / "acr-projects.csv"), str(APX / "acr-issuances.csv")],
                              "--accept-losses")
    assert done.returncode == 0, done.stdout + done.stderr
    assert doc is not None and "unit" not in doc and doc["issuance"]
    losses = {loss["field"]: loss for loss in json.loads(done.stdout)["losses"]}
    assert "CAD Trust v2" in losses["unit.quantity"]["reason"]
    _assert_linked(doc)


@pytest.mark.parametrize(("prefix", "column"), [("acr", "Project Type"), ("car", "Project Type"),
                                                ("art", "Program Type")])
def test_an_unmapped_value_names_the_record_and_the_vocabulary_file(tmp_path: Path, prefix: str,
                                                                    column: str) -> None:
    files = []
    for name in _exports(prefix):
        with open(name, encoding="utf-8-sig", newline="") as source:
            rows = list(csv.DictReader(source))
        path = tmp_path / Path(name).name
        with path.open("w", encoding="utf-8", newline="") as target:
            writer = csv.DictWriter(target, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows({**row, column: "Invented Project Kind"} if column in row else row for row in rows)
        files.append(str(path))
    done, doc, out = _translate(tmp_path, files)
    assert done.returncode == 1 and doc is None and not out.exists()
    vocab = registry_vocabulary(REGISTRIES[prefix])
    assert vocab is not None
    vocab_findings = [f for f in json.loads(done.stdout)["findings"] if f["rule"] == "CADT.V2.VOCAB"]
    assert vocab_findings, done.stdout
    for finding in vocab_findings:
        assert vocab.where in finding["message"]
        # the record: its place in the document, or the issuance-report row it came from
        assert str(finding["location"]).startswith(("/project/", "/unit/")) \
            or finding["message"].startswith("issuance report row ")
    assert any("Invented Project Kind" in f["message"] for f in vocab_findings)


def test_accept_losses_leaves_flagged_records_out_for_cadt_v2(tmp_path: Path) -> None:
    """Without --accept-losses a v2 translation with flagged records writes nothing and exits 1; with it, the
    flagged records (and what hangs on them) are left out, listed as losses, and the summary counts them."""
    files = _exports("acr")
    refused, doc, out = _translate(tmp_path, files)
    assert refused.returncode == 1 and doc is None and not out.exists()
    refused_errors = {(f["rule"], f["location"]) for f in json.loads(refused.stdout)["findings"]
                      if f["severity"] == "error"}
    assert refused_errors
    done, doc, _ = _translate(tmp_path, files, "--accept-losses")
    assert done.returncode == 0 and doc is not None
    summary = json.loads(done.stdout)
    lost = {loss["field"]: loss["records"] for loss in summary["losses"] if loss["field"].endswith(".record")}
    assert lost and summary["records_lost"] == sum(len(ids) for ids in lost.values())
    written_projects = {p["projectId"] for p in doc["project"]}
    assert not written_projects & set(lost.get("projects.record", []))
    written_units = {u["unitSerialId"] for u in doc.get("unit", [])}
    assert not written_units & set(lost.get("units.record", []))
    assert not any(f["severity"] == "error" for f in summary["findings"])
    _assert_linked(doc)
    # the records that were refused are the ones left out: every refused pointer names a record not written
    assert summary["records_written"] == summary["records"] - summary["records_lost"]


def test_accept_losses_for_cadt_v2_without_a_profile(tmp_path: Path) -> None:
    """--accept-losses applies to cadt-v2 without --profile too (before, the v2 codec was configured only with a
    profile, so the option did nothing): here every record needs a profile value, so each is left out with the key
    to set, and a translation that carries nothing says so (exit 1, nothing written)."""
    out = tmp_path / "v2.json"
    done = run_cli("translate", *_exports("art"), "--from", "apx", "--to", "cadt-v2", "--accept-losses", "-o",
                   str(out), "--json")
    assert done.returncode == 1 and not out.exists()
    message = json.loads(done.stdout)["message"]
    assert message.startswith("TRANSLATION.EMPTY") and "CADT.V2.PROFILE_MISSING" in message
    without = run_cli("translate", *_exports("art"), "--from", "apx", "--to", "cadt-v2", "-o", str(out), "--json")
    assert without.returncode == 1 and "failed its own validation" in json.loads(without.stdout)["message"]
