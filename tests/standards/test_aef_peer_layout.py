"""AEF files as the UNDP registry line's AEF library writes them (github.com/xeptagondev/carbon-registry-undp,
``backend/services/libs/aef-v2/src/export/``): its full-report workbook template, its T1 CSV (header plus one
value row) and its single stacked CSV. Every value must be read at the right table, row and field."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from typing import Any

import openpyxl
import pytest

from standards.aef.cells import AefHeaderError
from standards.aef.codec import AEF
from standards.aef.csvio import read_csv, write_csv
from standards.aef.tables import ROW_TABLES, TABLES, AefTables
from standards.aef.xlsxio import AefXlsxHeaderError, read_xlsx
from standards.codec import Medium
from standards.findings import Severity
from tests.standards.aef_media_samples import sample_tables, zip_members

CARP_INSTRUCTION = "To be populated by CARP"
HEADER_ROWS = {"T2": 7, "T3": 8, "T4": 7, "T5": 10}
SPACER_AFTER = {"T2": 3, "T3": 5, "T4": 2}  # spacer column after this many fields (from column B)
BANDS = {"T2": ["Authorization ID", "Cooperative approach ID"], "T3": ["Action type", "Metric"],
         "T4": ["Cooperative approach ID", "First ID"]}


def _set(sheet: Any, row: int, column: int, value: object) -> None:
    if isinstance(value, datetime):
        value = value.replace(tzinfo=None)  # Excel has no time zones: a UTC wall clock
    cell = sheet.cell(row, column, value)
    if isinstance(value, str):
        cell.data_type = "s"  # text, even when it starts with '=' (a clerk's text cell, not a formula)


def _columns(table_id: str) -> list[int]:
    """The 1-based column of each field: from B, one spacer column after SPACER_AFTER fields."""
    spacer = SPACER_AFTER.get(table_id)
    return [2 + i + (1 if spacer is not None and i >= spacer else 0) for i in range(len(TABLES[table_id].fields))]


def peer_workbook(tables: AefTables, *, t1_sheet: str = "Table 1 Submission", across_t1: bool = False) -> bytes:
    """A filled full-report template as the peer's registries hand it over."""
    book = openpyxl.Workbook()
    index = book.active
    index.title = "Index"
    index["B2"] = "AEF full report"
    for row, table_id in enumerate(TABLES, start=4):  # an index listing the table sheets by their labels
        index.cell(row, 2, TABLES[table_id].sheet)
        index.cell(row, 3, ", ".join(f.label for f in TABLES[table_id].fields[:3]))
    summary = book.create_sheet("Summary information")
    summary["B2"], summary["B4"], summary["C4"] = "Summary information", "Party", "CHE"
    t1 = book.create_sheet(t1_sheet)
    t1["B2"] = "Table 1: Submission"
    submission = tables.submission or {}
    for i, spec in enumerate(TABLES["T1"].fields):
        value = submission.get(spec.cn)
        if spec.required == "CARP" and value is None:
            value = CARP_INSTRUCTION
        if across_t1:  # the older template: labels across row 5 plus a Status column, values in row 6
            _set(t1, 5, 2 + i, spec.label)
            _set(t1, 6, 2 + i, value)
        else:
            _set(t1, 4 + i, 2, spec.label)
            _set(t1, 4 + i, 3, value)
    if across_t1:
        _set(t1, 5, 2 + len(TABLES["T1"].fields), "Status")
        _set(t1, 6, 2 + len(TABLES["T1"].fields), "Draft")
    for table_id in ROW_TABLES:
        sheet = book.create_sheet(TABLES[table_id].sheet)
        sheet["B2"] = f"Table {table_id[1]}: {TABLES[table_id].key}"
        header = HEADER_ROWS[table_id]
        columns = _columns(table_id)
        for column, label in zip(columns, BANDS.get(table_id, []), strict=False):  # a banded row above
            _set(sheet, header - 1, column, label)
        for column, spec in zip(columns, TABLES[table_id].fields, strict=True):
            _set(sheet, header, column, spec.label)
        for r, row in enumerate(tables.rows[table_id], start=header + 1):
            for column, spec in zip(columns, TABLES[table_id].fields, strict=True):
                _set(sheet, r, column, row.get(spec.cn))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _assert_same(back: AefTables, tables: AefTables) -> None:
    assert back.submission == tables.submission
    for table_id in ROW_TABLES:
        assert back.rows[table_id] == tables.rows[table_id], table_id


def test_peer_template_reads_every_value_in_place() -> None:
    tables = sample_tables()
    back = read_xlsx(peer_workbook(tables))
    _assert_same(back, tables)
    # locations point at the peer's cells: T1 values in column C, T3 data from row 9, after the spacer
    assert back.location("T1", 0, "ReportedYear").cell == "C6"
    assert back.location("T2", 0, "AuthorizationID").cell == "B8"
    assert back.location("T3", 0, "ActionDateTime").cell == "B9"
    assert back.location("T3", 1, "Metric").cell == "O10"  # 13th field, one spacer before it
    assert back.location("T4", 0, "FirstID").cell == "G8"
    assert back.location("T5", 0, "AuthorizedEntityName").cell == "C11"


def test_carp_instruction_text_is_a_finding_not_a_failure() -> None:
    tables = sample_tables()
    back = read_xlsx(peer_workbook(tables))
    assert sorted(cn for _t, _i, cn, _text in back.instructions) == [
        "ReferenceToTerReport", "ResultOfConsistencyCheck", "ReviewStatusOfInitialReport"]
    report = AEF.validate(peer_workbook(tables), medium=Medium.XLSX)
    notes = [f for f in report.findings if f.rule == "AEF.CARP_FIELD.INSTRUCTION"]
    assert sorted(f.location.cell or "" for f in notes) == ["C12", "C8", "C9"]
    assert all(f.severity is Severity.INFO for f in notes)
    assert not [f for f in report.findings if f.rule == "AEF.CARP_FIELD.FILLED"]


def test_instruction_only_template_is_an_empty_submission() -> None:
    back = read_xlsx(peer_workbook(AefTables()))
    assert back.submission is None and back.instructions == []
    assert all(back.rows[t] == [] for t in ROW_TABLES)


@pytest.mark.parametrize("sheet", ["T1 Submission", "T1", "t1 submission (v2)"])
def test_t1_sheet_names_in_the_generated_style(sheet: str) -> None:
    tables = sample_tables()
    assert read_xlsx(peer_workbook(tables, t1_sheet=sheet)).submission == tables.submission


def test_older_template_lays_t1_across_with_a_status_column() -> None:
    tables = sample_tables()
    back = read_xlsx(peer_workbook(tables, across_t1=True))
    _assert_same(back, tables)
    assert back.location("T1", 0, "ReportedYear").cell == "D6"
    assert len(back.instructions) == 3


def test_value_under_the_spacer_column_is_refused() -> None:
    tables = sample_tables()
    book = openpyxl.load_workbook(io.BytesIO(peer_workbook(tables)))
    book["Table 3 Actions"].cell(9, 7, "stray")  # column G: the spacer after 5 fields from B
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(AefXlsxHeaderError) as caught:
        read_xlsx(out.getvalue())
    assert caught.value.code == "AEF.XLSX_UNNAMED_COLUMN" and "G9" in str(caught.value)


def test_incomplete_header_below_bands_names_what_is_missing() -> None:
    tables = sample_tables()
    book = openpyxl.load_workbook(io.BytesIO(peer_workbook(tables)))
    book["Table 4 Holdings"].cell(7, 2).value = None  # drop 'Cooperative approach ID' from the header row
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(AefXlsxHeaderError, match=r"row 7: .*missing column\(s\) 'Cooperative approach ID'"):
        read_xlsx(out.getvalue())


# ------------------------------------------------------------------------------------ CSV

def _csv(rows: list[list[str]]) -> bytes:
    def cell(text: str) -> str:
        return f'"{text.replace(chr(34), chr(34) * 2)}"' if any(c in text for c in ',"\r\n') else text
    return ("\ufeff" + "".join(",".join(cell(c) for c in row) + "\r\n" for row in rows)).encode("utf-8")


def _table_rows(tables: AefTables, table_id: str) -> list[list[str]]:
    """Header plus records as carbonlink writes them (the peer's column order is the same)."""
    data = write_csv(tables)[f"{table_id}_{TABLES[table_id].key}.csv"].decode("utf-8-sig")
    return [list(r) for r in csv.reader(io.StringIO(data, newline=""))]


def _t1_across(tables: AefTables) -> list[list[str]]:
    down = _table_rows(tables, "T1")
    return [[label for label, _v in down], [value for _l, value in down]]


def test_t1_csv_as_header_plus_one_value_row() -> None:
    tables = sample_tables()
    data = _csv(_t1_across(tables))
    back = read_csv(data)
    assert back.submission == tables.submission
    assert back.location("T1", 0, "ReportedYear").line == 2
    assert all(back.rows[t] == [] for t in ROW_TABLES)


def test_t1_csv_across_by_its_file_name_and_with_a_status_column() -> None:
    tables = sample_tables()
    header, values = _t1_across(tables)
    data = _csv([[*header, "Status"], [*values, "Submitted"]])
    assert read_csv(data).submission == tables.submission
    assert read_csv(zip_members({"T1_Submission.csv": data})).submission == tables.submission


def test_stacked_csv_of_all_tables() -> None:
    tables = sample_tables()
    titles = {"T1": "Table 1: Submission", "T2": "Table 2: Authorizations", "T3": "Table 3: Actions",
              "T4": "Table 4: Holdings", "T5": "Table 5: Authorized entities"}
    lines: list[list[str]] = []
    starts: dict[str, int] = {}
    for position, table_id in enumerate(TABLES):
        if position:
            lines.append([""])
        lines.append([titles[table_id]])
        lines.append([""])
        starts[table_id] = len(lines) + 1  # 1-based line of the header
        lines.extend(_t1_across(tables) if table_id == "T1" else _table_rows(tables, table_id))
    back = read_csv(_csv(lines))
    _assert_same(back, tables)
    assert back.location("T1", 0, "Party").line == starts["T1"] + 1
    assert back.location("T3", 1, "Metric").line == starts["T3"] + 2
    assert back.location("T5", 0).line == starts["T5"] + 1


def test_stacked_csv_with_an_empty_table_and_a_repeated_section() -> None:
    tables = sample_tables()
    tables.rows["T4"] = []
    lines = [["Table 4: Holdings"], [""], _table_rows(sample_tables(), "T4")[0],
             [""], ["Table 3: Actions"], [""], *_table_rows(tables, "T3")]
    back = read_csv(_csv(lines))
    assert back.rows["T4"] == [] and back.rows["T3"] == tables.rows["T3"]
    with pytest.raises(AefHeaderError, match="second section for T3"):
        read_csv(_csv([*lines, [""], ["Table 3: Actions"], [""], *_table_rows(tables, "T3")]))


def test_stacked_csv_values_keep_their_types() -> None:
    tables = sample_tables()
    lines = [["Table 3: Actions"], [""], *_table_rows(tables, "T3")]
    back = read_csv(_csv(lines))
    assert back.rows["T3"][0]["QuantityCO2"] == Decimal("1000.25")
    assert back.rows["T3"][0]["ActionDateTime"] == tables.rows["T3"][0]["ActionDateTime"]


def test_carp_instruction_in_a_csv_row_is_read_as_blank() -> None:
    tables = sample_tables()
    rows = _table_rows(tables, "T3")
    column = rows[0].index("Result of the consistency checks")
    rows[1][column] = "Populated by CARP"
    back = read_csv(_csv(rows))
    assert back.rows["T3"] == tables.rows["T3"]
    assert back.instructions == [("T3", 0, "ResultOfConsistencyChecks", "Populated by CARP")]
    assert back.location("T3", 0, "ResultOfConsistencyChecks").line == 2
