"""The CAD Trust v1 vocabulary files of Gold Standard and the APX registries (ACR, CAR, ART TREES): every
value they map to is in the node's picklists, and the registry exports translate through them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from standards.cadt.spec import DATA
from tests.support.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
GS_PROFILE = ROOT / "bench" / "cadt_operator_profile_gold_standard.yaml"
LISTS = json.loads((DATA / "picklists-v1-1.7.24.json").read_text(encoding="utf-8"))["lists"]
REGISTRY_FILES = ("gold-standard", "american-carbon-registry", "climate-action-reserve", "art-trees")


@pytest.mark.parametrize("stem", REGISTRY_FILES)
def test_every_mapped_value_is_in_the_node_picklists(stem: str) -> None:
    vocab = json.loads((DATA / "vocab" / f"{stem}.json").read_text(encoding="utf-8"))
    assert vocab["registry"] == stem and vocab["unitMetric"] in LISTS["unitMetric"]
    assert set(vocab["sector"].values()) <= set(LISTS["projectSector"])
    assert set(vocab["projectStatus"].values()) <= set(LISTS["projectStatusValues"])
    assert vocab["issuedProjectStatus"] in LISTS["projectStatusValues"]
    for table in ("unitTypeByMethodology", "unitTypeByProjectType"):
        assert set(vocab[table].values()) <= set(LISTS["unitType"])
    if stem != "art-trees":  # not in the node's registries list (not enforced for registryOfOrigin)
        assert vocab["registryOfOrigin"] in LISTS["registries"]


def test_gold_standard_units_translate_to_linked_cadt_v1_units(tmp_path: Path) -> None:
    out = tmp_path / "units.json"
    done = run_cli("translate", str(FIXTURES / "gold-standard" / "issuances.csv"), "--from", "gold-standard",
                   "--to", "cadt-v1", "--profile", str(GS_PROFILE), "--accept-losses", "-o", str(out))
    assert done.returncode == 0, done.stderr
    units = json.loads(out.read_text(encoding="utf-8"))["units"]
    assert len(units) == 4 and "(4 of 4 records written)" in done.stderr
    assert {u["unitType"] for u in units} <= set(LISTS["unitType"])
    # the unit rows name the project developer (``Project Developer``): the derived projects are complete,
    # so nothing is left out and every unit keeps its issuance link
    document = json.loads(out.read_text(encoding="utf-8"))
    developers = {p["projectId"]: p["projectDeveloper"] for p in document["projects"]}
    assert developers and all(developers.values()), developers
    assert "loss: projects.record" not in done.stderr and "loss: units.issuance" not in done.stderr
    issuance_ids = {i["id"] for p in document["projects"] for i in p.get("issuances", [])}
    assert all(u["issuanceId"] in issuance_ids for u in units)


def test_gold_standard_projects_take_cad_trust_statuses(tmp_path: Path) -> None:
    out = tmp_path / "projects.json"
    done = run_cli("translate", str(FIXTURES / "gold-standard" / "projects.csv"), "--from", "gold-standard",
                   "--to", "cadt-v1", "--profile", str(GS_PROFILE), "-o", str(out))
    assert done.returncode == 0, done.stderr
    projects = json.loads(out.read_text(encoding="utf-8"))["projects"]
    assert {p["projectStatus"] for p in projects} <= set(LISTS["projectStatusValues"])
    assert {p["registryOfOrigin"] for p in projects} == {"Gold Standard"}


@pytest.mark.parametrize("fixture", ["acr-retirements", "car-retirements", "art-retirements"])
def test_apx_retirements_are_refused_with_coded_findings_not_a_serial_error(fixture: str, tmp_path: Path) -> None:
    done = run_cli("translate", str(FIXTURES / "apx" / f"{fixture}.csv"), "--from", "apx", "--to", "cadt-v1",
                   "--profile", str(ROOT / "bench" / "cadt_operator_profile.yaml"), "-o", str(tmp_path / "u.json"))
    assert done.returncode == 1
    assert "SERIAL.UNKNOWN_SCHEME" not in done.stderr
    assert "CADT.V1.SOURCE_MISSING" in done.stdout
