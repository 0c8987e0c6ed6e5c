"""The Isometric adapter: projects, issuances, credit batches (kilogram serial ranges) and retirements,
round trips, format detection, and what CAD Trust v1 can and cannot hold of them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from adapters import default_catalog
from adapters.translate import detect_format
from standards import Medium, UnitStatus
from tests.adapters.registry_samples import FIXTURES, cadt_v1, flagged, parse, rules

NAMES = ["projects.csv", "issuances.csv", "credit-batches.csv", "retirements.csv"]


@pytest.mark.parametrize("name", NAMES)
def test_each_export_is_detected_as_isometric(name: str) -> None:
    assert detect_format((FIXTURES / "isometric" / name).read_bytes(), medium=Medium.CSV) == "isometric"


def test_projects_read_typed_ids_and_alpha3_countries() -> None:
    parsed = parse("isometric", "projects.csv")
    assert not parsed.findings
    project = parsed.document.projects[0]
    assert (project.project_id, project.country, project.status, project.methodology) == \
        ("prj_1K3VWSDS61S0QKV7", "IND", "validated", "biochar")
    assert project.developer == "Equilibrium" and project.extra["short_code"] == "TS26"


def test_credit_batches_are_kilogram_ranges_of_fractional_tonnes() -> None:
    parsed = parse("isometric", "credit-batches.csv")
    assert not parsed.findings
    unit = parsed.document.units[0]
    assert unit.serial == "ISO-1-VAULT-USA-01P4-2026-40170350-40182796"
    assert unit.quantity == Decimal("12.446") and unit.vintage == 2026
    assert unit.status is UnitStatus.RETIRED and unit.status_date == date(2026, 4, 9)
    assert (unit.owner, unit.beneficiary, unit.country) == ("Workday", "Workday", "USA")
    assert unit.link == "https://registry.isometric.com/issuance/iss_1KJFW4WNE1S0D5GA"


def test_a_serial_range_other_than_the_batch_size_is_refused() -> None:
    data = (FIXTURES / "isometric" / "credit-batches.csv").read_bytes().replace(b"-40182796,", b"-40182797,", 1)
    assert rules(parse("isometric", "credit-batches.csv", data).findings) == ["ISOMETRIC.SERIAL_QUANTITY"]


def test_tonnes_and_kilograms_must_agree() -> None:
    data = (FIXTURES / "isometric" / "issuances.csv").read_bytes().replace(b",5024.4,", b",5024.5,", 1)
    assert rules(parse("isometric", "issuances.csv", data).findings) == ["ISOMETRIC.KG_MISMATCH"]


def test_unknown_batch_status_and_untyped_ids_are_refused() -> None:
    data = (FIXTURES / "isometric" / "credit-batches.csv").read_bytes()
    data = data.replace(b",retired,", b",on_hold,", 1).replace(b"prj_1HHYZFVGW1S044ZY", b"1HHYZFVGW1S044ZY", 1)
    assert sorted(rules(parse("isometric", "credit-batches.csv", data).findings)) == \
        ["ISOMETRIC.ID_PREFIX", "ISOMETRIC.STATUS_UNKNOWN"]


def test_overlapping_batches_are_refused_adjacent_ones_are_not() -> None:
    raw = (FIXTURES / "isometric" / "credit-batches.csv").read_bytes()
    # 40217300-40226835 (9535 kg) starts the batch 40226835-...: adjacent with an exclusive end, not overlapping
    adjacent = raw.replace(b"-40227030-40237849,", b"-40226835-40237654,", 1)
    assert not rules(parse("isometric", "credit-batches.csv", adjacent).findings)
    overlapping = raw.replace(b"-40227030-40237849,", b"-40226834-40237653,", 1)
    assert rules(parse("isometric", "credit-batches.csv", overlapping).findings) == ["ISOMETRIC.SERIAL_OVERLAP"]


@pytest.mark.parametrize("name", NAMES)
def test_round_trip_gives_the_same_records(name: str) -> None:
    adapter = default_catalog().get("isometric")
    first = parse("isometric", name)
    written = adapter.serialize(first.document, medium=Medium.CSV)
    assert not written.losses
    again = adapter.parse(written.data, medium=Medium.CSV)
    assert not rules(again.findings) and again.document == first.document


def test_cadt_v1_takes_the_projects_and_refuses_fractional_units_with_a_finding() -> None:
    doc, findings = cadt_v1("isometric", *NAMES)
    assert flagged(findings, "projects") == set() and len(doc["projects"]) == 4
    project = doc["projects"][0]
    assert (project["registryOfOrigin"], project["projectStatus"], project["unitMetric"]) == \
        ("Isometric", "Registered", "tCO2e")
    assert project["sector"] == "Water supply; sewerage, waste management and remediation activities"
    listed = next(p for p in doc["projects"] if p["originProjectId"] == "prj_1KC8T0EGS1S0H36R")
    assert listed["projectStatus"] == "Listed"
    # every unit is flagged: Isometric credits are fractional tonnes and its serials count kilograms
    assert flagged(findings, "units") == set(range(len(doc["units"])))
    batch = next(u for u in doc["units"] if u.get("unitCount") == 12.446)
    assert batch["unitType"] == "Removal - technical" and batch["unitStatus"] == "Retired"
    assert batch["issuance"]["startDate"] == batch["issuance"]["endDate"] == "2026-01-22"
    assert any(f.rule == "CADT.V1.TYPE" and f.location.pointer.endswith("/unitCount") for f in findings)
    # ... and the linker says why: the quantity is not a whole number of tonnes, and carbonlink does not round
    reasons = [f for f in findings if f.rule == "CADT.V1.SOURCE_MISSING" and f.location.pointer.startswith("/units/")]
    assert flagged(reasons, "units") == set(range(len(doc["units"]))) - {
        i for i, u in enumerate(doc["units"]) if "unitBlockStart" in u}
    assert any("12.446 is not a whole number" in f.message and "does not round" in f.message for f in reasons)


def test_validate_names_isometric_for_its_projects_export() -> None:
    from tests.support.cli import run_cli

    done = run_cli("validate", str(FIXTURES / "isometric" / "projects.csv"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "detected format isometric" in done.stderr and "valid as isometric" in done.stdout
