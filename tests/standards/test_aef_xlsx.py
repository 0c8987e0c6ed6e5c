"""AEF V2 XLSX medium: template layout, exact round trips, tolerant headers, locations."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings

from standards.aef.tables import TABLES, AefTables
from standards.aef.xlsxio import SUMMARY_SHEET, AefXlsxHeaderError, read_xlsx, write_xlsx
from standards.errors import MalformedInput
from standards.tabular import UnwritableCell
from tests.standards.aef_media_samples import blank, rezip, sample_tables, tables_strategy


def _sheet_xml(data: bytes, title: str) -> str:
    """The XML of the sheet called ``title`` in a workbook written by write_xlsx (sheets in order)."""
    order = [SUMMARY_SHEET] + [TABLES[t].sheet for t in TABLES]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(f"xl/worksheets/sheet{order.index(title) + 1}.xml").decode()


def _workbook(sheets: dict[str, list[list[object]]]) -> bytes:
    """A workbook made with plain openpyxl, as a registry clerk's tool would."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_round_trip_of_every_table() -> None:
    tables = sample_tables()
    back = read_xlsx(write_xlsx(tables))
    assert back.submission == tables.submission
    assert back.rows == tables.rows


def test_template_sheets_and_layout() -> None:
    data = write_xlsx(sample_tables())
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == [SUMMARY_SHEET, "Table 1 Submission", "Table 2 Authorizations", "Table 3 Actions",
                               "Table 4 Holdings", "Table 5 Auth. entities"]
    t1 = book["Table 1 Submission"]
    assert [t1.cell(r, 1).value for r in (1, 3)] == ["Party", "Reported year"]
    assert t1["B3"].value == 2024 and t1["B3"].data_type == "n"
    assert t1["B4"].number_format == "DD/MM/YYYY" and t1["B4"].value == datetime(2025, 4, 1)
    t3 = book["Table 3 Actions"]
    assert [c.value for c in t3[1]][:3] == ["Action date", "Action type", "Action subtype"]
    assert t3["A2"].number_format == "DD/MM/YYYY HH:MM:SS" and t3["A2"].value == datetime(2024, 3, 15, 10, 30)
    assert t3["P2"].data_type == "n" and t3["P2"].value == 1000.25
    assert t3["J2"].value == "NA" and t3["J2"].data_type == "s"
    summary = book[SUMMARY_SHEET]
    assert summary["B2"].value == "CHE" and summary["B3"].value == 2024


def test_formula_text_is_a_string_cell_never_a_formula() -> None:
    data = write_xlsx(sample_tables())
    xml = _sheet_xml(data, "Table 3 Actions")
    assert "<f>" not in xml and "<f " not in xml
    assert '<c r="AA2" t="inlineStr"><is><t>=HYPERLINK("http://x")</t></is></c>' in xml
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book["Table 3 Actions"]["AA2"].data_type == "s"


def test_numbers_excel_cannot_hold_exactly_are_written_as_text() -> None:
    tables = AefTables()
    tables.rows["T4"].append(blank("T4") | {"FirstID": 10**18 + 1, "LastID": 999_999_999_999_999,
                                            "QuantityCO2": Decimal("1234567890123456.78")})
    data = write_xlsx(tables)
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Table 4 Holdings"]
    assert sheet["E2"].data_type == "s" and sheet["F2"].data_type == "n" and sheet["M2"].data_type == "s"
    assert read_xlsx(data).rows["T4"] == tables.rows["T4"]


def test_sub_second_times_and_early_dates_stay_exact() -> None:
    tables = AefTables()
    tables.rows["T3"].append(blank("T3") | {"ActionDateTime": datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)})
    tables.rows["T5"].append(blank("T5") | {"DateOfAuthorization": date(1899, 12, 31), "AuthorizedEntityName": "A"})
    back = read_xlsx(write_xlsx(tables))
    assert back.rows == tables.rows


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables_strategy(max_rows=3))
def test_round_trip_of_generated_tables(tables: AefTables) -> None:
    back = read_xlsx(write_xlsx(tables))
    assert back.submission == tables.submission
    assert back.rows == tables.rows


def test_locations_are_sheet_and_cell() -> None:
    back = read_xlsx(write_xlsx(sample_tables()))
    assert back.location("T3", 1, "QuantityCO2").render() == "Table 3 Actions!P3"
    assert back.location("T1", 0, "ReportedYear").render() == "Table 1 Submission!B3"
    assert back.location("T5", 0).render() == "Table 5 Auth. entities!A2"


def test_title_rows_above_the_header_and_cn_headers_in_another_case() -> None:
    fields = TABLES["T5"].fields
    data = _workbook({
        "TABLE 5  auth. ENTITIES": [
            ["Table 5: Authorized entities"], [], ["Reporting Party: Switzerland"],
            [f.cn.lower() for f in fields],
            ["02/05/2023", "Klima AG", "CHE", "X1", "CA0001"],
            [],
            [datetime(2023, 6, 1), "Second", "GHA", 12345, "CA0002", None, None, "note"],
        ]})
    back = read_xlsx(data)
    rows = back.rows["T5"]
    assert [r["DateOfAuthorization"] for r in rows] == [date(2023, 5, 2), date(2023, 6, 1)]
    assert rows[1]["AuthorizedEntityID"] == "12345"  # a number typed into a text column: its text
    assert back.location("T5", 0, "AuthorizedEntityName").render() == "TABLE 5  auth. ENTITIES!B5"
    assert back.location("T5", 1, "AdditionalExplanatoryInformation").render() == "TABLE 5  auth. ENTITIES!H7"


def test_sheets_found_by_table_prefix_and_other_sheets_ignored() -> None:
    fields = TABLES["T4"].fields
    data = _workbook({"Read me": [["hello"]], "Table 4 - Holdings (31 Dec)": [
        [f.label for f in fields], ["CA0001", "AUTH-1", "GHA", "CHE01", 1, 10, "NA", "NA", "NA", "GHG", None,
                                    "NA", 10.5, "NA", "Emission reductions", 2023.0]]})
    row = read_xlsx(data).rows["T4"][0]
    assert row["QuantityCO2"] == Decimal("10.5") and isinstance(row["QuantityCO2"], Decimal)
    assert row["Vintage"] == 2023 and isinstance(row["Vintage"], int)


def test_float_cells_become_exact_decimals() -> None:
    fields = TABLES["T4"].fields
    data = _workbook({"Table 4 Holdings": [[f.label for f in fields],
                                           *([None] * 12 + [v] + [None] * 3 for v in (0.1, 1234.56, 1e-7))]})
    quantities = [r["QuantityCO2"] for r in read_xlsx(data).rows["T4"]]
    assert quantities == [Decimal("0.1"), Decimal("1234.56"), Decimal("1E-7")]  # not 0.1000000000000000055...
    assert all(isinstance(q, Decimal) for q in quantities)


def test_header_problems_name_the_cells() -> None:
    labels = [f.label for f in TABLES["T5"].fields]
    labels[2] = "Country"
    with pytest.raises(AefXlsxHeaderError) as caught:
        read_xlsx(_workbook({"Table 5 Auth. entities": [labels]}))
    assert caught.value.code == "AEF.XLSX_HEADER"
    assert "C1 'Country'" in caught.value.message and "'Country of incorporation'" in caught.value.message


def test_sheet_without_a_header_row_is_refused() -> None:
    with pytest.raises(AefXlsxHeaderError, match="no header row"):
        read_xlsx(_workbook({"Table 2 Authorizations": [["just a title"], [1, 2, 3]]}))


def test_workbook_without_aef_sheets_is_refused() -> None:
    with pytest.raises(MalformedInput) as caught:
        read_xlsx(_workbook({"Sheet1": [["a", "b"]]}))
    assert caught.value.code == "AEF.XLSX_SHEETS" and "'Sheet1'" in caught.value.message


def test_two_sheets_for_one_table_are_refused() -> None:
    header = [f.label for f in TABLES["T5"].fields]
    with pytest.raises(MalformedInput, match="two sheets for T5"):
        read_xlsx(_workbook({"Table 5 Auth. entities": [header], "Table 5 (copy)": [header]}))


def test_t1_missing_label_is_named() -> None:
    rows = [[f.label, None] for f in TABLES["T1"].fields if f.cn != "ReportedYear"]
    with pytest.raises(AefXlsxHeaderError, match=r"missing label.*'Reported year'"):
        read_xlsx(_workbook({"Table 1 Submission": rows}))


def test_empty_template_reads_as_empty_tables() -> None:
    back = read_xlsx(write_xlsx(AefTables()))
    assert back.submission is None and back.record_count() == 0


def test_wrong_sheet_dimension_does_not_truncate_the_read() -> None:
    data = write_xlsx(sample_tables())
    name = "xl/worksheets/sheet4.xml"  # Table 3 Actions
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read(name).decode()
    xml = re.sub(r"<dimension ref=\"[^\"]*\"/>", '<dimension ref="A1"/>', xml)
    if "<dimension" not in xml:
        xml = xml.replace("<sheetViews>", '<dimension ref="A1"/><sheetViews>', 1)
    back = read_xlsx(rezip(data, replace={name: xml.encode()}))
    assert len(back.rows["T3"]) == 3


def test_control_characters_cannot_be_written() -> None:
    tables = AefTables()
    tables.rows["T5"].append(blank("T5") | {"AuthorizedEntityName": "bell\x07"})
    with pytest.raises(UnwritableCell) as caught:
        write_xlsx(tables)
    assert caught.value.code == "OUTPUT.UNWRITABLE_CELL" and "Table 5 Auth. entities" in caught.value.message


def test_table_sheets_declare_their_dimension() -> None:
    data = write_xlsx(sample_tables())
    assert '<dimension ref="A1:AA4"/>' in _sheet_xml(data, "Table 3 Actions")  # header + 3 rows, 27 columns
    assert '<dimension ref="A1:B9"/>' in _sheet_xml(data, "Table 1 Submission")
    assert '<dimension ref="A1:H1"/>' in _sheet_xml(write_xlsx(AefTables()), "Table 5 Auth. entities")


def test_value_beyond_the_header_is_refused_not_dropped() -> None:
    labels = [f.label for f in TABLES["T5"].fields]
    with pytest.raises(AefXlsxHeaderError) as caught:
        read_xlsx(_workbook({"Table 5 Auth. entities": [labels, ["02/05/2023", "N", "CHE", "X", "CA0001", None,
                                                                  None, None, None, "stray"]]}))
    assert caught.value.code == "AEF.XLSX_UNNAMED_COLUMN" and "J2" in caught.value.message
