"""APX adapter (ACR, CAR, ART TREES): every report layout, round trips, losses, hostile input."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters import default_catalog
from adapters.apx import ACR, ART, CAR, LAYOUTS, ApxAdapter, adapter, registry_of
from standards.codec import Medium
from standards.errors import InputError
from standards.findings import Finding
from standards.model import CanonicalDocument, Project, UnitBlock, UnitStatus
from tests.adapters.golden import assert_damage_is_coded, cadt_v2_records, check_golden, translate_or_findings

FIXTURES = Path(__file__).parent.parent / "fixtures" / "apx"
CSV = Medium.CSV
BY_NAME = {layout.file.name: layout for layout in LAYOUTS}


def fixture(name: str) -> bytes:
    return (FIXTURES / f"{name}.csv").read_bytes()


def rules(findings: list[Finding]) -> list[str]:
    return [f.rule for f in findings]


def export(layout_name: str, *rows: dict[str, str], header: list[str] | None = None) -> bytes:
    layout = BY_NAME[layout_name]
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header or layout.columns)
    for r in rows:
        writer.writerow([r.get(c, "") for c in layout.columns])
    return out.getvalue().encode()


def acr_retirement(**cells: str) -> dict[str, str]:
    base = {"Credit Serial Numbers": "ACR-FR-1129-2025-2917-30932 to 35143", "Vintage": "2025",
            "Quantity of Credits": "4212", "Status Effective (GMT)": "11/3/2025 7:10:41 PM",
            "Project ID": "ACR1129", "Project Site Country": "France"}
    base.update(cells)
    return base


def test_registered_under_its_entry_point_name() -> None:
    assert isinstance(default_catalog().get("apx"), ApxAdapter)


def test_every_layout_is_told_apart_by_its_header() -> None:
    for layout in LAYOUTS:
        findings: list[Finding] = []
        mapper = adapter.detect(list(layout.columns), findings)
        assert mapper is not None and mapper.file.name == layout.file.name, layout.file.name
        assert not findings


FIXTURE_NAMES = ["acr-retirements", "acr-cancellations", "acr-issuances", "car-retirements", "car-issuances",
                 "art-retirements", "art-projects"]


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_samples_parse_cleanly_and_round_trip_byte_for_byte(name: str) -> None:
    data = fixture(name)
    result = adapter.parse(data, medium=CSV)
    assert result.valid and not result.findings
    out = adapter.serialize(result.document, medium=CSV)
    assert out.losses == [] and out.data == data


def test_acr_retirement_mapping() -> None:
    first, second = adapter.parse(fixture("acr-retirements"), medium=CSV).document.units
    assert (first.registry, first.status, first.project_id) == (ACR, UnitStatus.RETIRED, "ACR1129")
    assert (first.first_id, first.last_id, first.quantity) == (30932, 35143, Decimal(4212))
    assert first.status_date == date(2025, 11, 3) and first.issuance_date == date(2025, 9, 15)
    assert first.extra["Status Effective (GMT)"] == "11/3/2025 7:10:41 PM"  # month-first with time, kept
    assert (first.account, first.beneficiary, first.country) == ("Example Climate Partners LLC",
                                                                 "Example Foods SA", "FRA")
    assert second.quantity == 85847 and second.country == "USA"


def test_acr_cancellations_with_the_double_space_header() -> None:
    unit = adapter.parse(fixture("acr-cancellations"), medium=CSV).document.units[0]
    assert unit.status is UnitStatus.CANCELLED and unit.status_date == date(2025, 4, 22)
    assert unit.status_reason == "Convert to ARB offset credits"
    assert b"Status Effective  (GMT)" in fixture("acr-cancellations")


def test_issuance_reports_have_no_serials() -> None:
    acr = adapter.parse(fixture("acr-issuances"), medium=CSV).document.units[0]
    assert acr.serial is None and acr.quantity == 85847 and acr.status is UnitStatus.ISSUED
    car = adapter.parse(fixture("car-issuances"), medium=CSV).document.units[0]
    assert (car.registry, car.corresponding_adjustment, car.issuance_date) == (CAR, "No", date(2025, 9, 18))


def test_car_serials_with_roc_and_grouped_quantity() -> None:
    units = adapter.parse(fixture("car-retirements"), medium=CSV).document.units
    assert [(u.first_id, u.last_id, u.quantity) for u in units] == [(1, 5000, 5000), (1, 260294, 260294)]
    assert units[1].extra["Quantity of Offset Credits"] == "260,294"


def test_art_and_fcpf_units_on_the_art_registry() -> None:
    art, fcpf = adapter.parse(fixture("art-retirements"), medium=CSV).document.units
    assert (art.registry, art.country, art.quantity) == (ART, "GUY", 1000)
    assert fcpf.serial is not None and fcpf.serial.startswith("FCPF-") and fcpf.country == "CIV"
    project = adapter.parse(fixture("art-projects"), medium=CSV).document.projects[0]
    assert (project.project_id, project.developer, project.country) == ("ART102", "Government of Guyana", "GUY")


def test_mixed_document_is_written_as_one_file_per_report() -> None:
    doc = CanonicalDocument()
    for name in FIXTURE_NAMES:
        parsed = adapter.parse(fixture(name), medium=CSV).document
        doc.units += parsed.units
        doc.projects += parsed.projects
    out = adapter.serialize(doc, medium=CSV)
    assert out.losses == []
    assert sorted(out.files) == sorted(f"{n}.csv" for n in FIXTURE_NAMES)
    for name in FIXTURE_NAMES:
        assert out.files[f"{name}.csv"] == fixture(name)


def test_losses_name_fields_and_records() -> None:
    units = adapter.parse(fixture("car-retirements"), medium=CSV).document.units
    changed = units[0].model_copy(update={"beneficiary": "Someone", "itmo_reference": "CA0001-X", "owner": "O"})
    issued = adapter.parse(fixture("acr-issuances"), medium=CSV).document.units[0].model_copy(
        update={"serial": "ACR-US-1185-2025-3078-1 to 85847", "first_id": 1, "last_id": 85847,
                "status_date": date(2025, 1, 1)})
    stray = UnitBlock(project_id="VCS1340", quantity=Decimal(5))
    doc = CanonicalDocument(units=[changed, issued, stray], projects=[Project(project_id="GS1")])
    lost = {loss.field: loss.records for loss in adapter.serialize(doc, medium=CSV).losses}
    assert lost == {
        "beneficiary": ("units[0]",), "itmo_reference": ("units[0]",), "owner": ("units[0]",),
        "serial": ("units[1]",), "first_id": ("units[1]",), "last_id": ("units[1]",),
        "status_date": ("units[1]",), "units": ("units[2]",), "projects": ("projects[0]",),
    }


def test_registry_is_inferred_from_project_or_serial_prefix() -> None:
    assert registry_of(UnitBlock(project_id="CAR12")) == CAR
    assert registry_of(UnitBlock(serial="FCPF-CI-130-2023-20-1 to 46404")) == ART
    assert registry_of(UnitBlock(project_id="VCS1")) is None


# --- hypothesis ------------------------------------------------------------------------------------------

text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20)


@st.composite
def apx_units(draw: st.DrawFn) -> UnitBlock:
    registry = draw(st.sampled_from([ACR, CAR, ART]))
    status = draw(st.sampled_from([UnitStatus.ISSUED, UnitStatus.RETIRED, UnitStatus.CANCELLED]))
    number = draw(st.integers(1, 9999))
    vintage = draw(st.integers(2000, 2035))
    first = draw(st.integers(1, 10**7))
    qty = draw(st.integers(1, 10**6))
    serial = None
    if status is not UnitStatus.ISSUED:
        rng = f"{first} to {first + qty - 1}"
        serial = {ACR: f"ACR-US-{number}-{vintage}-77-{rng}", CAR: f"CAR-1-US-{number}-4-12-CA-{vintage}-9-{rng}",
                  ART: f"ART-US-{number}-{vintage}-3-{rng}"}[registry]
    prefix = {ACR: "ACR", CAR: "CAR", ART: "ART"}[registry]
    on_behalf = registry != CAR and status is UnitStatus.RETIRED
    return UnitBlock(
        registry=registry, serial=serial, first_id=first if serial else None,
        last_id=first + qty - 1 if serial else None, quantity=Decimal(qty), vintage=vintage, status=status,
        status_date=draw(st.dates(date(2010, 1, 1), date(2040, 1, 1))) if serial else None,
        status_reason=(draw(text) or None) if serial else None,
        account=(draw(text) or None) if serial and not (registry == CAR and status is UnitStatus.CANCELLED) else None,
        beneficiary=(draw(text) or None) if on_behalf else None,
        project_id=f"{prefix}{number}", project_name=draw(text) or None, country="USA",
        issuance_date=draw(st.dates(date(2010, 1, 1), date(2040, 1, 1)))
        if registry != CAR or status is UnitStatus.ISSUED else None,
        corresponding_adjustment=draw(st.sampled_from([None, "No", "Yes"]))
        if registry == CAR and status is not UnitStatus.CANCELLED else None)


@given(st.lists(apx_units(), min_size=1, max_size=6))
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_canonical_apx_canonical_is_lossless(units: list[UnitBlock]) -> None:
    out = adapter.serialize(CanonicalDocument(units=units), medium=CSV)
    assert out.losses == []
    parts = list(out.files.values()) if out.files else [out.data]
    back = [u for part in parts for u in adapter.parse(part, medium=CSV).document.units]
    key = lambda u: u.model_dump_json()  # noqa: E731
    assert sorted(back, key=key) == sorted(units, key=key)


# --- hostile input ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("cells", "rule"), [
    ({"Quantity of Credits": "4211"}, "APX.SERIAL_QUANTITY"),
    ({"Credit Serial Numbers": "CAR-1-US-1335-31-983-KS-2025-9205-1 to 4212"}, "APX.SERIAL_INVALID"),
    ({"Credit Serial Numbers": "ACR-FR-1129-2025-2917-35143 to 30932"}, "APX.SERIAL_INVALID"),
    ({"Credit Serial Numbers": ""}, "APX.REQUIRED"),
    ({"Project ID": "1129"}, "APX.PROJECT_ID"),
    ({"Project ID": "CAR1129"}, "APX.PROJECT_ID"),
    ({"Vintage": "MMXXV"}, "APX.VINTAGE_INVALID"),
    ({"Quantity of Credits": "four"}, "APX.QUANTITY_INVALID"),
    ({"Status Effective (GMT)": "31/12/2025"}, "APX.DATE_INVALID"),
])
def test_bad_cells_give_coded_findings(cells: dict[str, str], rule: str) -> None:
    result = adapter.parse(export("acr-retirements", acr_retirement(**cells)), medium=CSV)
    errors = [f for f in result.findings if f.is_error]
    assert [f.rule for f in errors] == [rule]
    assert errors[0].location.line == 2
    assert result.document.units == []


def test_reversed_range_is_reported_as_a_bad_range_not_a_crash() -> None:
    result = adapter.parse(export("acr-retirements", acr_retirement(
        **{"Credit Serial Numbers": "ACR-FR-1129-2025-2917-35143 to 30932"})), medium=CSV)
    assert "runs backwards" in result.findings[0].message


def test_serial_disagreeing_with_columns_is_a_warning() -> None:
    result = adapter.parse(export("acr-retirements", acr_retirement(**{"Project ID": "ACR1130",
                                                                         "Vintage": "2024"})), medium=CSV)
    assert rules(result.findings) == ["APX.SERIAL_MISMATCH", "APX.SERIAL_MISMATCH"] and result.valid


def test_zero_padded_project_ids_match_their_serials() -> None:
    row = acr_retirement(**{"Project ID": "ACR01129"})
    assert adapter.parse(export("acr-retirements", row), medium=CSV).findings == []


def test_a_missing_required_column_is_a_structure_finding() -> None:
    layout = BY_NAME["acr-retirements"]
    columns = [c for c in layout.columns if c != "Quantity of Credits"]
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerow([acr_retirement().get(c, "") for c in columns])
    result = adapter.parse(out.getvalue().encode(), medium=CSV)
    assert rules(result.findings) == ["APX.COLUMNS"] and result.document.units == []
    assert "'Quantity of Credits'" in result.findings[0].message


def test_a_truncated_report_is_a_coded_input_error() -> None:
    with pytest.raises(InputError) as info:
        adapter.parse(fixture("acr-retirements")[:-200], medium=CSV)
    assert info.value.code.startswith("INPUT.CSV")


def test_mixed_encoding_is_a_coded_input_error() -> None:
    data = fixture("art-retirements").replace("Côte".encode(), "Côte".encode("latin-1"))
    with pytest.raises(InputError) as info:
        adapter.parse(data, medium=CSV)
    assert info.value.code == "INPUT.ENCODING"


def test_streaming_matches_parse() -> None:
    data = fixture("acr-retirements")
    assert list(adapter.iter_records(iter([data[:33], data[33:]]), medium=CSV)) == \
        adapter.parse(data, medium=CSV).document.units


# --- golden translations (checked by hand; regenerate with CARBONLINK_UPDATE_GOLDEN=1) -------------------

GOLDEN = FIXTURES / "golden"


@pytest.mark.parametrize("target", ["aef", "cadt-v2"])
def test_golden_translation_through_translate(target: str) -> None:
    check_golden(GOLDEN / f"acr-retirements.{target}.json",
                 translate_or_findings(fixture("acr-retirements"), adapter=adapter.name, target=target))


def test_golden_cadt_v2_unit_records() -> None:
    records = cadt_v2_records(fixture("acr-retirements"), adapter=adapter.name)
    check_golden(GOLDEN / "acr-retirements.cadt-v2-records.json", records)


# --- fuzzing: damaged input is a result with findings or a coded InputError, never a traceback ----------

@given(st.data())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_damaged_exports_never_escape_as_tracebacks(data: st.DataObject) -> None:
    assert_damage_is_coded(adapter, fixture("acr-retirements"), data)


def test_a_trailing_header_less_column_is_ignored_when_empty_and_kept_when_not() -> None:
    layout = BY_NAME["acr-retirements"]
    header = ",".join(f'"{c}"' if "," in c else c for c in layout.columns) + ","
    row = export("acr-retirements", acr_retirement()).split(b"\r\n")[1].decode()
    empty = adapter.parse(f"{header}\r\n{row},\r\n".encode(), medium=CSV).document.units[0]
    assert not any(key.startswith("(column") for key in empty.extra)
    filled = adapter.parse(f"{header}\r\n{row},stray\r\n".encode(), medium=CSV).document.units[0]
    assert filled.extra[f"(column {len(layout.columns) + 1})"] == "stray"
    lost = adapter.serialize(CanonicalDocument(units=[filled]), medium=CSV).losses
    assert [loss.field for loss in lost] == [f"extra.(column {len(layout.columns) + 1})"]
