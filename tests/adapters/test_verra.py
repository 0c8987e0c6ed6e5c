"""Verra adapter: real-layout exports, exact round trips, loss reports, streaming, hostile input."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters import default_catalog
from adapters.protocol import RegistryAdapter, StreamingAdapter
from adapters.verra import PROJECTS, TRANSACTIONS, VerraAdapter, adapter
from standards.codec import Medium
from standards.errors import InputError, UnknownFormat, UnsupportedEncoding, ValidationFailed
from standards.findings import Finding
from standards.model import Action, ActionType, CanonicalDocument, UnitBlock, UnitStatus
from standards.serials import build_serial, default_catalogue
from tests.adapters.golden import assert_damage_is_coded, cadt_v2_records, check_golden, translate_or_findings
from tests.support.edge import EdgeEnvironment

FIXTURES = Path(__file__).parent.parent / "fixtures" / "verra"
CSV = Medium.CSV
HEADER = ",".join(TRANSACTIONS.columns)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def rules(findings: list[Finding]) -> list[str]:
    return [f.rule for f in findings]


def row(**cells: str) -> list[str]:
    base = {
        "Issuance Date": "2026-04-03", "Vintage Start": "2020-01-01", "Vintage End": "2020-12-31",
        "ID": "1340", "Name": "Bale Mountains Eco-region REDD+ project", "Country/Area": "Ethiopia",
        "Quantity Issued": "425",
        "Serial Number": "19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1",
    }
    base.update({k.replace("_", " "): v for k, v in cells.items()})
    return [base.get(c, "") for c in TRANSACTIONS.columns]


def export(*rows: list[str], header: str = HEADER) -> bytes:
    out = io.StringIO(newline="")
    import csv

    writer = csv.writer(out, lineterminator="\r\n")
    for r in rows:
        writer.writerow(r)
    return (header + "\r\n" + out.getvalue()).encode("utf-8")


# --- contract and registration -------------------------------------------------------------------------

def test_adapter_is_registered_through_its_entry_point() -> None:
    loaded = default_catalog().get("verra")
    assert isinstance(loaded, VerraAdapter)
    assert isinstance(loaded, RegistryAdapter) and isinstance(loaded, StreamingAdapter)
    assert loaded.version.count(".") == 2 and loaded.media == (Medium.CSV,)


def test_unsupported_medium_is_a_coded_unknown_format() -> None:
    with pytest.raises(UnknownFormat):
        adapter.parse(b"{}", medium=Medium.JSON)


# --- the realistic sample ------------------------------------------------------------------------------

def test_transactions_sample_maps_to_unit_blocks() -> None:
    result = adapter.parse(fixture("transactions.csv"), medium=CSV)
    assert result.valid
    assert rules(result.findings) == ["VERRA.RETIREMENT_OR_CANCELLATION"]
    units = result.document.units
    assert len(units) == 7
    first = units[0]
    assert (first.first_id, first.last_id, first.quantity) == (941467007, 941467431, Decimal(425))
    assert (first.project_id, first.country, first.vintage, first.unit_type) == ("VCS1340", "ETH", 2020, "VCU")
    assert first.status is UnitStatus.RETIRED and first.status_date == date(2026, 4, 10)
    assert first.issuance_date == date(2026, 4, 3)
    assert first.extra["Additional Certifications"] == "CCB-No Distinction"
    assert first.link == "https://registry.verra.org/app/projectDetail/VCS/1340"
    held = units[1]
    assert held.status is UnitStatus.ISSUED and held.status_date is None and held.quantity == 1000
    legacy = units[3]  # 12-token serial without VCS, day-first dates
    assert legacy.first_id == legacy.last_id == 449402275
    assert (legacy.vintage, legacy.issuance_date, legacy.status_date) == (2014, date(2014, 5, 10),
                                                                           date(2016, 3, 15))
    no_scope = units[4]
    assert no_scope.quantity == 235604 and no_scope.project_id == "VCS3352" and no_scope.country == "USA"
    article6 = units[5]
    assert "Article 6 Authorized – NDC Use" in article6.extra["Additional Certifications"]
    assert article6.beneficiary == "Example Airways Ltd" and article6.status_reason == "Compliance"
    assert units[6].country == "BOL"


def test_projects_sample_maps_to_projects() -> None:
    result = adapter.parse(fixture("projects.csv"), medium=CSV)
    assert result.valid and not result.findings
    projects = result.document.projects
    assert [p.project_id for p in projects] == ["VCS1340", "VCS4821", "VCS2250"]
    assert projects[0].developer == "Oromia Forest and Wildlife Enterprise"
    assert projects[1].status == "Under validation" and projects[1].country == "IDN"
    assert projects[2].extra["Crediting Period End Date"] == "2060-12-31"


@pytest.mark.parametrize("name", ["transactions.csv", "projects.csv"])
def test_sample_round_trips_byte_for_byte(name: str) -> None:
    data = fixture(name)
    result = adapter.parse(data, medium=CSV)
    out = adapter.serialize(result.document, medium=CSV)
    assert out.losses == []
    assert out.data == data


def test_headers_with_doubled_spaces_and_other_case_are_recognised() -> None:
    header = HEADER.replace("Quantity Issued", "Quantity  Issued ").replace("Serial Number", "serial number")
    result = adapter.parse(export(row(), header=header), medium=CSV)
    assert result.valid and result.document.units[0].quantity == 425


def test_unknown_columns_are_kept_in_extra_and_reported_as_losses_elsewhere() -> None:
    header = HEADER + ",Holding Account"
    result = adapter.parse(export([*row(), "ACME-001"], header=header), medium=CSV)
    unit = result.document.units[0]
    assert unit.extra["Holding Account"] == "ACME-001"
    out = adapter.serialize(result.document, medium=CSV)
    assert [(loss.field, loss.records) for loss in out.losses] == [("extra.Holding Account", ("units[0]",))]


def test_both_exports_in_one_document_give_two_files() -> None:
    doc = adapter.parse(fixture("transactions.csv"), medium=CSV).document
    doc.projects = adapter.parse(fixture("projects.csv"), medium=CSV).document.projects
    out = adapter.serialize(doc, medium=CSV)
    assert sorted(out.files) == ["projects.csv", "transactions.csv"]
    assert out.files["projects.csv"] == fixture("projects.csv")
    assert out.data == fixture("transactions.csv")


# --- streaming ------------------------------------------------------------------------------------------

def chunks(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i:i + size]


@pytest.mark.parametrize("size", [1, 7, 64, 1 << 16])
def test_streaming_gives_the_same_records_as_parse(size: int) -> None:
    data = fixture("transactions.csv")
    expected = adapter.parse(data, medium=CSV).document.units
    findings: list[Finding] = []
    streamed = list(adapter.iter_records(chunks(data, size), medium=CSV, findings=findings))
    assert streamed == expected
    assert not [f for f in findings if f.is_error]


def test_streaming_from_a_file_object(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(fixture("transactions.csv"))
    with path.open("rb") as handle:
        assert len(list(adapter.iter_records(handle, medium=CSV))) == 7


def test_streaming_without_a_findings_list_raises_on_the_first_bad_row() -> None:
    data = export(row(), row(Quantity_Issued="424"), row())
    got: list[object] = []
    with pytest.raises(ValidationFailed) as info:
        for record in adapter.iter_records(iter([data]), medium=CSV):
            got.append(record)
    assert len(got) == 1
    assert rules(info.value.findings) == ["VERRA.SERIAL_QUANTITY"]
    assert info.value.findings[0].location.line == 3


def test_streaming_with_a_findings_list_skips_bad_rows_and_reports_them() -> None:
    data = export(row(), row(Serial_Number="not-a-serial"), row())
    findings: list[Finding] = []
    got = list(adapter.iter_records(iter([data]), medium=CSV, findings=findings))
    assert len(got) == 2
    assert [(f.rule, f.location.line) for f in findings] == [("VERRA.SERIAL_INVALID", 3)]


# --- losses ----------------------------------------------------------------------------------------------

def test_fields_verra_cannot_hold_are_reported_with_record_ids() -> None:
    base = adapter.parse(export(row(), row(Serial_Number="19385-941467432-941467856-VCS-VCU-1507-VER-ET-14-1340"
                                             "-01012020-31122020-1")), medium=CSV).document
    units = [u.model_copy() for u in base.units]
    units[0] = units[0].model_copy(update={"owner": "Acme", "status": UnitStatus.CANCELLED,
                                           "status_date": date(2026, 1, 1)})
    units[1] = units[1].model_copy(update={"status": UnitStatus.HELD, "status_date": date(2026, 2, 2),
                                           "itmo_reference": "CA0004-VU-CH-356-1-3000-2023", "vintage": 2019})
    doc = CanonicalDocument(units=units, actions=[Action(action_type=ActionType.TRANSFER,
                                                         date="2026-01-01T00:00:00Z")])
    out = adapter.serialize(doc, medium=CSV)
    lost = {loss.field: loss.records for loss in out.losses}
    assert lost == {
        "owner": ("units[0]",),
        "status": ("units[0]", "units[1]"),
        "status_date": ("units[1]",),
        "itmo_reference": ("units[1]",),
        "vintage": ("units[1]",),
        "actions": ("actions[0]",),
    }
    reparsed = adapter.parse(out.data, medium=CSV).document.units
    assert reparsed[0].status is UnitStatus.RETIRED  # a cancellation is written as a retirement row


def test_a_block_without_a_serial_loses_its_range() -> None:
    unit = UnitBlock(registry="verra", first_id=1, last_id=10, quantity=Decimal(10), project_id="VCS1")
    out = adapter.serialize(CanonicalDocument(units=[unit]), medium=CSV)
    assert {loss.field for loss in out.losses} == {"first_id", "last_id"}


# --- hypothesis round trip ------------------------------------------------------------------------------

COUNTRIES = [("ETH", "ET", "Ethiopia"), ("PER", "PE", "Peru"), ("IDN", "ID", "Indonesia"),
             ("USA", "US", "United States"), ("BOL", "BO", "Bolivia, Plurinational State of")]
text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=30)


@st.composite
def verra_units(draw: st.DrawFn) -> UnitBlock:
    layout = draw(st.sampled_from(default_catalogue().layouts("verra")))
    alpha3, alpha2, _name = draw(st.sampled_from(COUNTRIES))
    number = draw(st.integers(min_value=1, max_value=99999))
    vintage = draw(st.integers(min_value=2000, max_value=2030))
    first = draw(st.integers(min_value=1, max_value=10**10))
    qty = draw(st.integers(min_value=1, max_value=10**6))
    parts = {"batch": draw(st.integers(1, 99999)), "first": first, "last": first + qty - 1, "program": "VCS",
             "unit_type": "VCU", "code": draw(st.integers(1, 2000)), "system": "VER", "country": alpha2,
             "scope": draw(st.integers(1, 16)), "project": number, "vintage_start": f"0101{vintage}",
             "vintage_end": f"3112{vintage}", "certified": draw(st.sampled_from(["0", "1"]))}
    serial = build_serial(layout, parts)
    retired = draw(st.booleans())
    extra = {k: v for k, v in {
        "Methodology": draw(st.sampled_from(["", "VM0015", "ACM0002"])),
        "Additional Certifications": draw(st.sampled_from(["", "CCB-Gold", "Article 6 Authorized – NDC Use"])),
        "Retirement Details": draw(text) if retired else "",
    }.items() if v}
    return UnitBlock(
        registry="verra", serial=str(serial), first_id=serial.first, last_id=serial.last,
        quantity=Decimal(qty), vintage=vintage, unit_type="VCU",
        status=UnitStatus.RETIRED if retired else UnitStatus.ISSUED,
        status_date=draw(st.dates(date(2000, 1, 1), date(2040, 12, 31))) if retired else None,
        status_reason=(draw(text) or None) if retired else None,
        beneficiary=(draw(text) or None) if retired else None,
        project_id=f"VCS{number}", project_name=draw(text) or None, country=alpha3,
        issuance_date=draw(st.none() | st.dates(date(2000, 1, 1), date(2040, 12, 31))),
        link=f"https://registry.verra.org/app/projectDetail/VCS/{number}", extra=extra)


@given(st.lists(verra_units(), min_size=1, max_size=5))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_canonical_verra_native_canonical_is_lossless(units: list[UnitBlock]) -> None:
    doc = CanonicalDocument(units=units)
    out = adapter.serialize(doc, medium=CSV)
    assert out.losses == []
    back = adapter.parse(out.data, medium=CSV)
    assert not [f for f in back.findings if f.is_error and f.rule != "VERRA.SERIAL_OVERLAP"]
    assert [u.model_dump() for u in back.document.units] == [u.model_dump() for u in units]
    assert adapter.serialize(back.document, medium=CSV).data == out.data


# --- hostile input ---------------------------------------------------------------------------------------

def test_quantity_disagreeing_with_the_serial_range() -> None:
    result = adapter.parse(export(row(Quantity_Issued="426")), medium=CSV)
    assert not result.valid
    finding = result.findings[0]
    assert finding.rule == "VERRA.SERIAL_QUANTITY"
    assert finding.location.line == 2 and finding.location.pointer == "/2/Serial Number"
    assert "425" in finding.message and "426" in finding.message
    assert result.document.units == []


@pytest.mark.parametrize(("cells", "rule"), [
    ({"Serial_Number": "19385-941467007-VCS-VCU"}, "VERRA.SERIAL_INVALID"),
    ({"Serial_Number": "ACR-US-192-2010-203-1-425"}, "VERRA.SERIAL_INVALID"),
    ({"Serial_Number": ""}, "VERRA.REQUIRED"),
    ({"Quantity_Issued": "4 25"}, "VERRA.QUANTITY_INVALID"),
    ({"Quantity_Issued": "-425"}, "VERRA.QUANTITY_INVALID"),
    ({"Quantity_Issued": ""}, "VERRA.REQUIRED"),
    ({"ID": "VCS-ABC"}, "VERRA.PROJECT_ID"),
    ({"ID": ""}, "VERRA.REQUIRED"),
    ({"Issuance Date": "2026-13-45"}, "VERRA.DATE_INVALID"),
    ({"Retirement/Cancellation Date": "yesterday"}, "VERRA.DATE_INVALID"),
])
def test_bad_cells_give_coded_errors_at_the_cell(cells: dict[str, str], rule: str) -> None:
    result = adapter.parse(export(row(**cells)), medium=CSV)
    errors = [f for f in result.findings if f.is_error]
    assert [f.rule for f in errors] == [rule]
    assert errors[0].location.line == 2
    assert result.document.units == []


def test_warnings_for_unknown_country_and_serial_disagreements() -> None:
    other = "19385-941467432-941467856-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1"
    result = adapter.parse(export(row(**{"Country/Area": "Atlantis"}), row(ID="1341", Serial_Number=other)),
                           medium=CSV)
    found = [(f.rule, f.location.line) for f in result.findings]
    assert found == [("VERRA.COUNTRY_UNKNOWN", 2), ("VERRA.SERIAL_MISMATCH", 3)]
    assert result.valid  # warnings only
    assert result.document.units[0].extra["Country/Area"] == "Atlantis"
    assert result.document.units[0].country is None


def test_overlapping_blocks_are_an_error() -> None:
    overlapping = "19385-941467400-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1"
    result = adapter.parse(export(row(), row(Serial_Number=overlapping, Quantity_Issued="32")), medium=CSV)
    assert rules(result.findings) == ["VERRA.SERIAL_OVERLAP"]
    assert result.findings[0].location.pointer == "/units/1/serial"


def test_wrong_columns_are_a_structure_finding() -> None:
    result = adapter.parse(b"Date,Amount,Serial\r\n2026-01-01,5,x\r\n", medium=CSV)
    assert rules(result.findings) == ["VERRA.COLUMNS"]
    assert result.document.is_empty()
    missing = adapter.parse(export(row(), header=HEADER.replace(",Serial Number", ",Serial")), medium=CSV)
    assert rules(missing.findings) == ["VERRA.COLUMNS"]
    assert "'Serial Number'" in missing.findings[0].message


def test_header_only_file_is_a_warning() -> None:
    result = adapter.parse((HEADER + "\r\n").encode(), medium=CSV)
    assert rules(result.findings) == ["VERRA.EMPTY"] and result.valid


@pytest.mark.parametrize(("data", "code"), [
    (b"", "INPUT.CSV"),
    (fixture("transactions.csv")[:-40], "INPUT.CSV_RAGGED"),  # truncated mid-row
    (fixture("transactions.csv") + b'2026-01-01,"unterminated', "INPUT.CSV"),
    (fixture("transactions.csv").replace(b"Bolivia", "Bol\xedvia".encode("latin-1")), "INPUT.ENCODING"),
])
def test_unreadable_input_is_a_coded_input_error(data: bytes, code: str) -> None:
    with pytest.raises(InputError) as info:
        adapter.parse(data, medium=CSV)
    assert info.value.code == code


def test_mixed_encoding_while_streaming_is_a_coded_error() -> None:
    data = fixture("transactions.csv").replace(b"Bolivia", "Bol\xedvia".encode("latin-1"))
    with pytest.raises(UnsupportedEncoding):
        list(adapter.iter_records(chunks(data, 100), medium=CSV, findings=[]))


def test_utf16_with_bom_and_semicolons_are_read() -> None:
    text = fixture("transactions.csv").decode("utf-8")
    result = adapter.parse(text.encode("utf-16"), medium=CSV)
    assert len(result.document.units) == 7
    import csv

    rows = list(csv.reader(io.StringIO(text)))
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    assert adapter.parse(out.getvalue().encode(), medium=CSV).document.units == result.document.units


def test_formula_like_text_is_escaped_on_write_and_restored_on_read() -> None:
    doc = adapter.parse(export(row()), medium=CSV).document
    doc.units[0] = doc.units[0].model_copy(update={"project_name": "=HYPERLINK(\"http://x\")"})
    out = adapter.serialize(doc, medium=CSV)
    assert b"'=HYPERLINK" in out.data
    assert adapter.parse(out.data, medium=CSV).document.units[0].project_name == "=HYPERLINK(\"http://x\")"


def test_projects_layout_is_told_apart_by_its_columns() -> None:
    result = adapter.parse((",".join(PROJECTS.columns) + "\r\n1,P,,,,,Registered,,,,,,\r\n").encode(),
                           medium=CSV)
    assert [p.project_id for p in result.document.projects] == ["VCS1"]


def test_streams_may_exceed_the_whole_file_limit_but_not_their_own(edge_env: EdgeEnvironment) -> None:
    data = fixture("transactions.csv")
    edge_env.setenv("CARBONLINK_MAX_INPUT_BYTES", "100")
    with pytest.raises(InputError) as info:
        adapter.parse(data, medium=CSV)
    assert info.value.code == "INPUT.TOO_LARGE"
    assert len(list(adapter.iter_records(chunks(data, 256), medium=CSV))) == 7
    with pytest.raises(InputError) as capped:
        list(adapter.iter_records(chunks(data, 256), medium=CSV, limit=1000))
    assert capped.value.code == "INPUT.TOO_LARGE"


# --- golden translations (checked by hand; regenerate with CARBONLINK_UPDATE_GOLDEN=1) -------------------

GOLDEN = FIXTURES / "golden"


@pytest.mark.parametrize("target", ["aef", "cadt-v2"])
def test_golden_translation_through_translate(target: str) -> None:
    check_golden(GOLDEN / f"transactions.{target}.json",
                 translate_or_findings(fixture("transactions.csv"), adapter=adapter.name, target=target))


def test_golden_cadt_v2_unit_records() -> None:
    records = cadt_v2_records(fixture("transactions.csv"), adapter=adapter.name)
    check_golden(GOLDEN / "transactions.cadt-v2-records.json", records)


# --- fuzzing: damaged input is a result with findings or a coded InputError, never a traceback ----------

@given(st.data())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_damaged_exports_never_escape_as_tracebacks(data: st.DataObject) -> None:
    assert_damage_is_coded(adapter, fixture("transactions.csv"), data)
