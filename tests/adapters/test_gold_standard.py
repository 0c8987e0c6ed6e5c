"""Gold Standard adapter: CSV exports and API JSON, round trips, losses, hostile input."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters import default_catalog
from adapters.gold_standard import ISSUANCES, RETIREMENTS, GoldStandardAdapter, adapter
from standards.codec import Medium
from standards.errors import InputError
from standards.findings import Finding
from standards.model import CanonicalDocument, Project, UnitBlock, UnitStatus
from tests.adapters.golden import assert_damage_is_coded, cadt_v2_records, check_golden, translate_or_findings

FIXTURES = Path(__file__).parent.parent / "fixtures" / "gold-standard"
CSV, JSON = Medium.CSV, Medium.JSON


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def rules(findings: list[Finding]) -> list[str]:
    return [f.rule for f in findings]


def issuance(**cells: str) -> list[str]:
    base = {"Vintage": "2024", "Credit Status": "Issued", "Quantity": "19149", "GSID": "11236",
            "Country": "Uganda", "Product Type": "VER", "Issuance Date": "2026-04-13",
            "Serial Number": "GS1-1-UG-GS11236-16-2024-30307-1-19149"}
    base.update(cells)
    return [base.get(c, "") for c in ISSUANCES.columns]


def export(*rows: list[str], columns: tuple[str, ...] = ISSUANCES.columns) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue().encode()


def test_registered_under_its_entry_point_name() -> None:
    assert isinstance(default_catalog().get("gold-standard"), GoldStandardAdapter)


def test_issuances_sample() -> None:
    result = adapter.parse(fixture("issuances.csv"), medium=CSV)
    assert result.valid and not result.findings
    units = result.document.units
    assert [(u.project_id, u.first_id, u.last_id, u.quantity) for u in units] == [
        ("GS11236", 1, 19149, 19149), ("GS7495", 608, 30350, 29743),
        ("GS1463", 1463953, 1467609, 3657), ("GS9012", 1, 5000, 5000)]
    assert units[0].issuance_date == date(2026, 4, 13)
    assert units[0].extra["Issuance Date"] == "2026-04-13T12:35:58.842275"  # the time is kept, not dropped
    assert units[2].unit_type == "CER" and units[2].country == "RWA"
    assert all(u.status is UnitStatus.ISSUED for u in units)


def test_retirements_sample() -> None:
    result = adapter.parse(fixture("retirements.csv"), medium=CSV)
    assert result.valid
    first, second = result.document.units
    assert first.status is UnitStatus.RETIRED and first.status_date == date(2026, 5, 2)
    assert (first.beneficiary, first.status_reason, first.quantity) == ("Acme Consulting GmbH", "Voluntary", 5354)
    assert second.extra["Aeroplane Operator Name"] == "Example Airways"


def test_projects_sample() -> None:
    projects = adapter.parse(fixture("projects.csv"), medium=CSV).document.projects
    assert [(p.project_id, p.status, p.country) for p in projects] == [
        ("GS11236", "GOLD_STANDARD_CERTIFIED_PROJECT", "UGA"), ("GS7495", "GOLD_STANDARD_CERTIFIED_PROJECT", "KEN"),
        ("GS12870", "LISTED", "PER")]


@pytest.mark.parametrize("name", ["issuances.csv", "retirements.csv", "projects.csv"])
def test_csv_samples_round_trip_byte_for_byte(name: str) -> None:
    data = fixture(name)
    out = adapter.serialize(adapter.parse(data, medium=CSV).document, medium=CSV)
    assert out.losses == [] and out.data == data


def test_api_json_sample_and_round_trip() -> None:
    result = adapter.parse(fixture("credits.json"), medium=JSON)
    assert result.valid and not result.findings
    issued, retired = result.document.units
    assert (issued.project_id, issued.country, issued.status) == ("GS11236", "UGA", UnitStatus.ISSUED)
    assert retired.status is UnitStatus.RETIRED and retired.quantity == 1200
    assert issued.extra["id"] == 418833  # the API's own id is not the GS number, kept apart
    out = adapter.serialize(result.document, medium=JSON)
    assert out.losses == []
    assert json.loads(out.data) == json.loads(fixture("credits.json"))


def test_issued_and_retired_blocks_go_to_their_own_files() -> None:
    doc = adapter.parse(fixture("issuances.csv"), medium=CSV).document
    doc.units += adapter.parse(fixture("retirements.csv"), medium=CSV).document.units
    out = adapter.serialize(doc, medium=CSV)
    assert sorted(out.files) == ["issuances.csv", "retirements.csv"]
    assert out.files["issuances.csv"] == fixture("issuances.csv")
    assert out.files["retirements.csv"] == fixture("retirements.csv")


def test_csv_to_json_to_csv_keeps_the_blocks() -> None:
    units = adapter.parse(fixture("retirements.csv"), medium=CSV).document.units
    as_json = adapter.serialize(CanonicalDocument(units=units), medium=JSON)
    lost = {loss.field: loss.records for loss in as_json.losses}
    # the API JSON has no retirement date, reason or beneficiary: reported, not dropped silently
    assert lost["status_date"] == lost["beneficiary"] == lost["status_reason"] == ("units[0]", "units[1]")
    back = adapter.parse(as_json.data, medium=JSON).document.units
    assert [(u.serial, u.quantity, u.vintage, u.status) for u in back] == [
        (u.serial, u.quantity, u.vintage, u.status) for u in units]


def test_cancellations_are_written_as_canceled_retirement_rows() -> None:
    unit = adapter.parse(export(issuance()), medium=CSV).document.units[0]
    cancelled = unit.model_copy(update={"status": UnitStatus.CANCELLED, "status_date": date(2026, 1, 1),
                                        "owner": "Acme"})
    out = adapter.serialize(CanonicalDocument(units=[cancelled], projects=[Project(project_id="VCS1")]),
                            medium=CSV)
    assert {loss.field: loss.records for loss in out.losses} == {
        "owner": ("units[0]",), "projects.project_id": ("projects[0]",)}
    assert sorted(out.files) == ["projects.csv", "retirements.csv"]  # in the retirements export, as "Canceled"
    assert b",Canceled," in out.files["retirements.csv"]


# --- hypothesis ------------------------------------------------------------------------------------------

text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=25)
COUNTRIES = [("UGA", "UG"), ("KEN", "KE"), ("IND", "IN"), ("RWA", "RW"), ("PER", "PE")]


@st.composite
def gs_units(draw: st.DrawFn) -> UnitBlock:
    alpha3, alpha2 = draw(st.sampled_from(COUNTRIES))
    gsid = draw(st.integers(1, 99999))
    vintage = draw(st.integers(2000, 2035))
    first = draw(st.integers(1, 10**7))
    qty = draw(st.integers(1, 10**6))
    cer = draw(st.booleans())
    if cer:
        serial = f"{alpha2}-5-{first}-2-2-0-{gsid} - {alpha2}-5-{first + qty - 1}-2-2-0-{gsid}"
    else:
        serial = f"GS1-1-{alpha2}-GS{gsid}-{draw(st.integers(1, 22))}-{vintage}-{draw(st.integers(1, 40000))}" \
                 f"-{first}-{first + qty - 1}"
    retired = draw(st.booleans())
    return UnitBlock(
        registry="gold-standard", serial=serial, first_id=first, last_id=first + qty - 1,
        quantity=Decimal(qty), vintage=vintage, unit_type="CER" if cer else "VER",
        status=UnitStatus.RETIRED if retired else UnitStatus.ISSUED,
        status_date=draw(st.dates(date(2010, 1, 1), date(2040, 1, 1))) if retired else None,
        status_reason=(draw(text) or None) if retired else None,
        beneficiary=(draw(text) or None) if retired else None,
        project_id=f"GS{gsid}", project_name=draw(text) or None, country=alpha3,
        issuance_date=draw(st.none() | st.dates(date(2010, 1, 1), date(2040, 1, 1))),
        link=f"https://registry.goldstandard.org/projects?q=gs{gsid}",
        extra={k: v for k, v in {"Label": draw(st.sampled_from(["", "Emission Reduction"])),
                                 "Note": draw(text) if retired else ""}.items() if v})


@given(st.lists(gs_units(), min_size=1, max_size=4))
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_canonical_gold_standard_csv_canonical_is_lossless(units: list[UnitBlock]) -> None:
    out = adapter.serialize(CanonicalDocument(units=units), medium=CSV)
    assert out.losses == []
    parts = [out.data] if not out.files else list(out.files.values())
    back = [u for part in parts for u in adapter.parse(part, medium=CSV).document.units]
    expected = [u for u in units if u.status is not UnitStatus.RETIRED] + [
        u for u in units if u.status is UnitStatus.RETIRED]
    assert [u.model_dump() for u in back] == [u.model_dump() for u in expected]


# --- hostile input ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("cells", "rule"), [
    ({"Quantity": "19148"}, "GOLD_STANDARD.SERIAL_QUANTITY"),
    ({"Serial Number": "GS1-1-UG-GS11236-16-2024-30307-1"}, "GOLD_STANDARD.SERIAL_INVALID"),
    ({"Serial Number": "19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1"},
     "GOLD_STANDARD.SERIAL_INVALID"),
    ({"Credit Status": "Pending"}, "GOLD_STANDARD.STATUS"),
    ({"GSID": "GS-X"}, "GOLD_STANDARD.GSID"),
    ({"Vintage": "24"}, "GOLD_STANDARD.VINTAGE_INVALID"),
    ({"Vintage": ""}, "GOLD_STANDARD.REQUIRED"),
    ({"Quantity": "1.2.3"}, "GOLD_STANDARD.QUANTITY_INVALID"),
    ({"Issuance Date": "13th April"}, "GOLD_STANDARD.DATE_INVALID"),
])
def test_bad_cells_give_coded_findings(cells: dict[str, str], rule: str) -> None:
    result = adapter.parse(export(issuance(**cells)), medium=CSV)
    assert [f.rule for f in result.findings if f.is_error] == [rule]
    assert result.document.units == []


def test_serial_disagreeing_with_columns_is_a_warning() -> None:
    result = adapter.parse(export(issuance(GSID="11237", Vintage="2023")), medium=CSV)
    assert rules(result.findings) == ["GOLD_STANDARD.SERIAL_MISMATCH"] * 2 and result.valid


def test_retirement_row_without_date_is_an_error() -> None:
    row = [{"Vintage": "2024", "Credit Status": "Retired", "Quantity": "5354", "GSID": "11236",
            "Serial Number": "GS1-1-UG-GS11236-16-2024-30256-110-5463"}.get(c, "") for c in RETIREMENTS.columns]
    result = adapter.parse(export(row, columns=RETIREMENTS.columns), medium=CSV)
    assert rules(result.findings) == ["GOLD_STANDARD.REQUIRED"]


def test_wrong_columns_and_truncation() -> None:
    assert rules(adapter.parse(b"a,b\r\n1,2\r\n", medium=CSV).findings) == ["GOLD_STANDARD.COLUMNS"]
    with pytest.raises(InputError) as info:
        adapter.parse(fixture("issuances.csv")[:-30], medium=CSV)  # cut inside a quoted cell
    assert info.value.code == "INPUT.CSV" and "line 5" in info.value.message


@pytest.mark.parametrize(("payload", "rule"), [
    (b'{"credits": 5}', "GOLD_STANDARD.JSON_SHAPE"),
    (b'[1, 2]', "GOLD_STANDARD.JSON_SHAPE"),
    (b'[{"foo": 1}]', "GOLD_STANDARD.JSON_SHAPE"),
    (b'[{"number_of_credits": 5, "serial_number": "GS1-1-UG-GS1-16-2024-1-1-4", "vintage": 2024,'
     b' "status": "ISSUED", "project": {"sustaincert_id": 1}}]', "GOLD_STANDARD.SERIAL_QUANTITY"),
    (b'[{"number_of_credits": true, "serial_number": "GS1-1-UG-GS1-16-2024-1-1-4", "vintage": 2024,'
     b' "status": "ISSUED"}]', "GOLD_STANDARD.QUANTITY_INVALID"),
    (b'[{"name": "x", "sustaincert_id": "abc"}]', "GOLD_STANDARD.GSID"),
])
def test_bad_api_json_gives_coded_findings_with_pointers(payload: bytes, rule: str) -> None:
    result = adapter.parse(payload, medium=JSON)
    assert rule in rules(result.findings) and not result.valid
    assert all(f.location.pointer.startswith("/") or f.location.pointer == "" for f in result.findings)


def test_broken_json_is_a_coded_input_error() -> None:
    with pytest.raises(InputError) as info:
        adapter.parse(b'[{"number_of_credits": 5,', medium=JSON)
    assert info.value.code == "INPUT.JSON"


def test_streaming_issuances() -> None:
    data = fixture("issuances.csv")
    streamed = list(adapter.iter_records(iter([data[:50], data[50:]]), medium=CSV))
    assert streamed == adapter.parse(data, medium=CSV).document.units


# --- golden translations (checked by hand; regenerate with CARBONLINK_UPDATE_GOLDEN=1) -------------------

GOLDEN = FIXTURES / "golden"


@pytest.mark.parametrize("target", ["aef", "cadt-v2"])
def test_golden_translation_through_translate(target: str) -> None:
    check_golden(GOLDEN / f"issuances.{target}.json",
                 translate_or_findings(fixture("issuances.csv"), adapter=adapter.name, target=target))


def test_golden_cadt_v2_unit_records() -> None:
    records = cadt_v2_records(fixture("issuances.csv"), adapter=adapter.name)
    check_golden(GOLDEN / "issuances.cadt-v2-records.json", records)


# --- fuzzing: damaged input is a result with findings or a coded InputError, never a traceback ----------

@given(st.data())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_damaged_exports_never_escape_as_tracebacks(data: st.DataObject) -> None:
    assert_damage_is_coded(adapter, fixture("issuances.csv"), data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12) | st.sampled_from(
        ["GS1-1-UG-GS11236-16-2024-30307-1-19149", "ISSUED", "RETIRED", "2026-04-13T12:35:58.842275"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(
        ["number_of_credits", "serial_number", "vintage", "status", "certified_date", "product", "project",
         "sustaincert_id", "name", "country", "country_code", "id"]), inner, max_size=6),
    max_leaves=20)


@given(json_values)
@settings(max_examples=200, deadline=None)
def test_arbitrary_api_json_never_escapes_as_a_traceback(value: object) -> None:
    result = adapter.parse(json.dumps(value).encode(), medium=JSON)
    assert all(f.rule.startswith("GOLD_STANDARD.") for f in result.findings)
