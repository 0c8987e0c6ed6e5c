"""Isometric to CAD Trust v2: the v2 project_type list has no carbon-removal type, so a project's type comes
from the operator profile's ``project.projectTypeV2`` (noted as a profile value), and without it the finding
names that key; what hangs on the projects is written and linked; kilogram quantities stay coded losses, never
rounded or rescaled into blocks; every id is derived from natural keys, the same on every run."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from standards import CanonicalDocument, Medium
from standards.cadt.codec import CadtV2Codec
from standards.cadt.linking import stable_id
from standards.cadt.operator import OperatorProfileError, load_operator_profile, operator_profile_from
from standards.cadt.picklists import bundled
from tests.adapters.registry_samples import FIXTURES, PROFILE, parse, rules
from tests.support.cli import run_cli

NAMES = ["projects.csv", "issuances.csv", "credit-batches.csv", "retirements.csv"]
EXPORTS = [str(FIXTURES / "isometric" / name) for name in NAMES]
AFOLU = "Agriculture, forestry and other land use (AFOLU)"
KEY = "project.projectTypeV2"
#: The kilogram quantities of the sample's credit batches and first retirement, in tonnes as the export writes them.
FRACTIONAL = ("12.446", "10.819", "9.535", "5.388", "38.188")


def _profile(tmp_path: Path, types: dict[str, str] | None) -> Path:
    """The bench profile with ``project.projectTypeV2`` replaced by ``types`` (None: without the key)."""
    raw = yaml.safe_load(PROFILE.read_text(encoding="utf-8"))
    raw["project"].pop("projectTypeV2", None)
    if types is not None:
        raw["project"]["projectTypeV2"] = types
    path = tmp_path / "operator.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def _translate(tmp_path: Path, *exports: str, profile: Path = PROFILE, accept: bool = True,
               name: str = "iso.json") -> tuple[int, dict[str, Any], Path]:
    out = tmp_path / name
    args = [*exports, "--from", "isometric", "--to", "cadt-v2", "--profile", str(profile), "-o", str(out), "--json"]
    done = run_cli("translate", *args, *(["--accept-losses"] if accept else []))
    return done.returncode, json.loads(done.stdout), out


def test_with_the_profile_key_the_projects_and_what_hangs_on_them_are_written_and_linked(tmp_path: Path) -> None:
    code, summary, out = _translate(tmp_path, *EXPORTS)
    assert code == 0, summary.get("message", summary)
    doc = json.loads(out.read_bytes())
    assert {p["projectId"] for p in doc["project"]} == {"prj_1K3VWSDS61S0QKV7", "prj_1HZSSWBQM1S08H83",
                                                       "prj_1HHYZFVGW1S044ZY", "prj_1KC8T0EGS1S0H36R"}
    assert all(p["projectType"] == [AFOLU] for p in doc["project"])
    # the output says where the type came from: the profile key, the export's value and the operator's choice
    noted = [f for f in summary["findings"] if f["rule"] == "CADT.V2.PROFILE_VALUE" and KEY in f["message"]]
    assert len(noted) == 1 and "4 record(s)" in noted[0]["message"]
    assert "'biomass_carbon_removal_and_storage'" in noted[0]["message"] and AFOLU in noted[0]["message"]
    # every record hangs on a project of the document; the issuance on records of its own project
    projects = {p["cadTrustProjectId"] for p in doc["project"]}
    for resource in ("location", "stakeholder", "project-methodology", "verification"):
        assert doc[resource] and all(r["cadTrustProjectId"] in projects for r in doc[resource]), resource
    owner = {r[pk]: r["cadTrustProjectId"] for resource, pk in (
        ("location", "cadTrustLocationId"), ("project-methodology", "cadTrustProjectMethodologyId"),
        ("verification", "cadTrustVerificationId")) for r in doc[resource]}
    assert doc["issuance"]
    for issuance in doc["issuance"]:
        linked = {owner[issuance[k]] for k in ("cadTrustLocationId", "cadTrustProjectMethodologyId",
                                               "cadTrustVerificationId")}
        assert len(linked) == 1 and linked <= projects
    methodologies = {m["cadTrustMethodologyId"] for m in doc["methodology"]}
    assert all(pm["cadTrustMethodologyId"] in methodologies for pm in doc["project-methodology"])
    # carbonlink's own v2 validator (data dictionary v2.0.2) finds nothing wrong with what was written
    checked = CadtV2Codec().validate(out.read_bytes(), medium=Medium.JSON)
    assert not [f for f in checked.findings if f.is_error], checked.findings
    # no unit is written (every one is a fraction of a tonne or names no serial), and each is counted as lost
    assert not doc.get("unit")
    assert summary["records_written"] == 4 and summary["records_lost"] == summary["records"] - 4


def test_units_lost_without_accept_losses_refuse_the_whole_translation(tmp_path: Path) -> None:
    code, summary, out = _translate(tmp_path, *EXPORTS, accept=False)
    assert code == 1 and not out.exists()
    assert any(f["rule"] == "CADT.V2.SOURCE_MISSING" for f in summary["findings"])


def test_fractional_quantities_are_reported_not_rounded(tmp_path: Path) -> None:
    code, summary, out = _translate(tmp_path, *EXPORTS)
    assert code == 0
    text = out.read_text(encoding="utf-8")
    assert "unitCount" not in text and "unitStartBlock" not in text
    reasons = [f["message"] for f in summary["findings"]
               if f["rule"] == "CADT.V2.SOURCE_MISSING" and (f["pointer"] or "").endswith("/unitStartBlock")]
    for quantity in FRACTIONAL:
        said = [m for m in reasons if f"its quantity {quantity} is not a whole number of units" in m]
        assert len(said) == 1 and "does not round" in said[0], quantity


def test_a_whole_tonne_batch_over_a_kilogram_range_is_no_block_either(tmp_path: Path) -> None:
    """12 t exactly, over kilograms 50000000-50012000: the quantity is whole, but the serial numbers kilograms;
    dividing them by 1000 would be a numbering Isometric does not publish, so the batch stays a coded loss."""
    rows = list(csv.DictReader(io.StringIO((FIXTURES / "isometric" / "credit-batches.csv").read_text("utf-8"))))
    row = {**rows[0], "id": "ctb_1KJFW4WNE1S0PC1W", "serial_number": "ISO-1-VAULT-USA-01P4-2026-50000000-50012000",
           "size.credits": "12.0", "size.credit_kgs": "12000", "carbon_removal_data.net_carbon_removed_kg": "12000"}
    batches = tmp_path / "credit-batches.csv"
    with batches.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerow(row)
    code, summary, out = _translate(tmp_path, EXPORTS[0], str(batches))
    assert code == 0
    assert not json.loads(out.read_bytes()).get("unit")
    reason = [f["message"] for f in summary["findings"] if f["rule"] == "CADT.V2.SOURCE_MISSING"
              and (f["pointer"] or "") == "/unit/0/unitStartBlock"]
    assert len(reason) == 1 and "numbers kilograms" in reason[0] and "does not rescale" in reason[0]


def test_ids_are_derived_from_natural_keys_and_the_same_on_every_run(tmp_path: Path) -> None:
    _, _, first = _translate(tmp_path, *EXPORTS, name="a.json")
    _, _, second = _translate(tmp_path, *EXPORTS, name="b.json")
    assert first.read_bytes() == second.read_bytes()
    doc = json.loads(first.read_bytes())
    for project in doc["project"]:
        assert project["cadTrustProjectId"] == stable_id("isometric", "project", project["projectId"])
    charm = stable_id("isometric", "project", "prj_1HZSSWBQM1S08H83")
    location = next(r for r in doc["location"] if r["cadTrustProjectId"] == charm)
    assert location["cadTrustLocationId"] == stable_id("isometric", "location", "prj_1HZSSWBQM1S08H83",
                                                       location["locationCountry"])
    # the operator's choice of type changes the type, never an id
    _, _, other = _translate(tmp_path, *EXPORTS, profile=_profile(tmp_path, {
        "biomass_carbon_removal_and_storage": "Waste"}), name="c.json")
    again = json.loads(other.read_bytes())
    assert all(p["projectType"] == ["Waste"] for p in again["project"])
    ids = {r: sorted(json.dumps(x, sort_keys=True) for x in doc[r]) for r in doc if r != "project"}
    assert ids == {r: sorted(json.dumps(x, sort_keys=True) for x in again[r]) for r in again if r != "project"}
    assert [p["cadTrustProjectId"] for p in doc["project"]] == [p["cadTrustProjectId"] for p in again["project"]]


def test_without_the_profile_key_each_project_is_a_finding_naming_it(tmp_path: Path) -> None:
    code, summary, out = _translate(tmp_path, *EXPORTS, profile=_profile(tmp_path, None))
    assert code == 1 and not out.exists() and "TRANSLATION.EMPTY" in summary["message"]
    no_type = [f for f in summary["findings"]
               if f["rule"] == "CADT.V2.VOCAB" and (f["pointer"] or "").endswith("/projectType")]
    assert len(no_type) == 4
    assert all(KEY in f["message"] and "isometric.json" in f["message"] for f in no_type)
    assert not any(f["rule"] == "CADT.V2.PROFILE_VALUE" and KEY in f["message"] for f in summary["findings"])


def test_the_methodology_is_read_before_the_pathway_and_the_vocabulary_before_the_profile(tmp_path: Path) -> None:
    projects = (FIXTURES / "isometric" / "projects.csv").read_text(encoding="utf-8")
    # the Charm project as if its pathway were reforestation, which the vocabulary maps (type Reforestation)
    changed = projects.replace("biomass_carbon_removal_and_storage,bio-oil-geological-storage",
                               "reforestation,bio-oil-geological-storage")
    assert changed != projects
    path = tmp_path / "projects.csv"
    path.write_text(changed, encoding="utf-8")
    profile = _profile(tmp_path, {"biochar": "Agriculture", "biomass_carbon_removal_and_storage": AFOLU,
                                  "reforestation": "Wind"})
    code, _, out = _translate(tmp_path, str(path), profile=profile)
    assert code == 0
    types = {p["projectId"]: p["projectType"] for p in json.loads(out.read_bytes())["project"]}
    assert types == {"prj_1K3VWSDS61S0QKV7": ["Agriculture"], "prj_1KC8T0EGS1S0H36R": ["Agriculture"],
                     "prj_1HHYZFVGW1S044ZY": [AFOLU], "prj_1HZSSWBQM1S08H83": ["Reforestation"]}


def test_a_profile_type_outside_the_v2_list_is_never_written(tmp_path: Path) -> None:
    document = CanonicalDocument()
    parsed = parse("isometric", "projects.csv")
    assert not rules(parsed.findings)
    document.projects.extend(parsed.document.projects)
    operator = replace(load_operator_profile(PROFILE),
                       maps={"project": {"projectTypeV2": {"biochar": "Carbon removal"}}})
    result = CadtV2Codec(operator=operator).serialize(document, medium=Medium.JSON)
    doc = json.loads(result.data)
    listed = set(bundled("v2").values("project_type") or ())
    assert all(set(p.get("projectType", [])) <= listed for p in doc["project"])
    refused = [f for f in result.findings if f.rule == "CADT.V2.VOCAB" and "'Carbon removal'" in f.message]
    assert len(refused) == 2 and all(KEY in f.message and "not in the v2 project_type list" in f.message
                                     for f in refused)


@pytest.mark.parametrize("value", ["Agriculture", {}, {"biochar": ""}, {"biochar": ["Agriculture"]}])
def test_a_malformed_project_type_map_is_refused_when_the_profile_is_read(value: object) -> None:
    with pytest.raises(OperatorProfileError, match="projectTypeV2"):
        operator_profile_from({"project": {"projectTypeV2": value}}, "operator profile test.yaml")


def test_the_map_is_read_as_the_vocabulary_is_exact_then_case_insensitive() -> None:
    profile = operator_profile_from({"project": {"projectTypeV2": {" Biochar ": "Agriculture"}}}, "p")
    assert profile.mapped("project", "projectTypeV2", "biochar") == "Agriculture"
    assert profile.mapped("project", "projectTypeV2", " BIOCHAR") == "Agriculture"
    assert profile.mapped("project", "projectTypeV2", "bio-oil") is None
    assert profile.mapped("project", "projectTypeV2", None) is None
    assert profile.value("project", "projectTypeV2") is None
