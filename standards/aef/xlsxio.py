"""AEF V2 as an XLSX workbook in the template layout.

Sheets ``Table 1 Submission`` ... ``Table 5 Auth. entities`` (found case-insensitively, or by
their ``Table N`` prefix), plus a ``Summary information`` sheet that is written for people and
ignored on reading. T1 is vertical (label in column A, value in column B); T2-T5 have one
header row of template labels (title rows above it are skipped) and one row per record.

Cells: dates are real Excel dates shown ``dd/mm/yyyy`` (T3 action dates with the time, in
UTC); integers and decimals are numbers when Excel holds them exactly (15 significant
digits), otherwise text, so nothing is rounded; text is always a string cell, never a formula.
Reading uses openpyxl's read-only mode and writing its write-only mode, so a 50,000-row
workbook round-trips in bounded memory.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl.utils import get_column_letter

from standards.aef.cells import (
    EXCEL_FIRST_SAFE_DATE,
    HEADER_INDEX,
    XLSX_DATE_FORMAT,
    XLSX_DATETIME_FORMAT,
    AefHeaderError,
    as_utc,
    check_row_keys,
    csv_value,
    describe_header_problems,
    excel_exact,
    header_key,
    is_blank_row,
    match_header,
    normalize_native,
)
from standards.aef.tables import NA, ROW_TABLES, TABLES, AefTables, FieldSpec, Row, RowOrigin
from standards.errors import MalformedInput
from standards.tabular import XlsxWriter, iter_sheet_rows, read_workbook

SUMMARY_SHEET = "Summary information"
#: How far down a sheet the header row is looked for.
HEADER_SEARCH_ROWS = 50
_TABLE_PREFIX = re.compile(r"^table\s*([1-5])(?![0-9])")


class AefXlsxHeaderError(AefHeaderError):
    code = "AEF.XLSX_HEADER"


def read_xlsx(data: bytes) -> AefTables:
    """Read the AEF tables present in a workbook; at least one AEF sheet must be there."""
    workbook = read_workbook(data, what="AEF workbook")
    try:
        sheets = _aef_sheets(workbook)
        if not sheets:
            expected = ", ".join(repr(TABLES[t].sheet) for t in TABLES)
            found = ", ".join(repr(s) for s in workbook.sheetnames) or "none"
            raise MalformedInput(f"AEF workbook has none of the AEF sheets {expected} (found {found})",
                                 code="AEF.XLSX_SHEETS")
        tables = AefTables()
        for table_id, sheet in sheets.items():
            if table_id == "T1":
                _read_submission(sheet, tables)
            else:
                _read_rows(table_id, sheet, tables)
        return tables
    finally:
        workbook.close()


def _aef_sheets(workbook: Any) -> dict[str, Any]:
    by_name = {header_key(TABLES[t].sheet): t for t in TABLES}
    found: dict[str, Any] = {}
    for sheet in workbook.worksheets:
        key = header_key(sheet.title)
        table_id = by_name.get(key)
        if table_id is None:
            prefix = _TABLE_PREFIX.match(key)
            table_id = f"T{prefix[1]}" if prefix else None
        if table_id is None:
            continue
        if table_id in found:
            raise MalformedInput(f"AEF workbook has two sheets for {table_id}: {found[table_id].title!r} and "
                                 f"{sheet.title!r}", code="AEF.XLSX_SHEETS")
        found[table_id] = sheet
    return {t: found[t] for t in TABLES if t in found}


def _read_submission(sheet: Any, tables: AefTables) -> None:
    index = HEADER_INDEX["T1"]
    specs = TABLES["T1"].by_cn
    values: dict[str, Any] = {}
    rows: dict[str, int] = {}
    repeated: list[str] = []
    for number, cells in iter_sheet_rows(sheet, what="AEF workbook"):
        if not cells or cells[0] is None:
            continue
        cn = index.get(header_key(cells[0]))
        if cn is None:
            continue  # titles, notes and blank rows around the labels
        if cn in rows:
            repeated.append(f"A{number} {str(cells[0]).strip()!r}")
            continue
        rows[cn] = number
        values[cn] = normalize_native(specs[cn], cells[1] if len(cells) > 1 else None)
    missing = [f.label for f in TABLES["T1"].fields if f.cn not in rows]
    if missing or repeated:
        parts = []
        if missing:
            parts.append("missing label(s) in column A: " + ", ".join(map(repr, missing)))
        if repeated:
            parts.append("repeated label(s) " + ", ".join(repeated))
        raise AefXlsxHeaderError(f"sheet {sheet.title!r}: T1 Submission has " + "; ".join(parts))
    if all(v is None for v in values.values()):
        return  # an empty template sheet: no submission
    tables.submission = {f.cn: values[f.cn] for f in TABLES["T1"].fields}
    tables.origins[("T1", 0)] = RowOrigin(sheet=sheet.title, row=min(rows.values()), columns=tuple(rows.items()))


def _read_rows(table_id: str, sheet: Any, tables: AefTables) -> None:
    rows_iter = iter_sheet_rows(sheet, what="AEF workbook")
    header_row, match = _find_header(table_id, sheet, rows_iter)
    if not match.ok:
        raise AefXlsxHeaderError(describe_header_problems(
            match, where=f"sheet {sheet.title!r} row {header_row}",
            column_name=lambda p: f"{get_column_letter(p + 1)}{header_row}"))
    specs = [(position, cn, TABLES[table_id].by_cn[cn]) for position, cn in match.columns]
    columns = tuple((cn, position + 1) for position, cn in match.columns)
    named = {position for position, _cn in match.columns}
    rows = tables.rows[table_id]
    title = sheet.title
    for number, cells in rows_iter:
        if is_blank_row(cells):
            continue
        width = len(cells)
        stray = next((p for p in range(width) if p not in named and not is_blank_row((cells[p],))), None)
        if stray is not None:
            raise AefXlsxHeaderError(f"sheet {title!r} cell {get_column_letter(stray + 1)}{number} has a value "
                                     "in a column without a header; name the column or empty it",
                                     code="AEF.XLSX_UNNAMED_COLUMN")
        row: Row = {cn: normalize_native(spec, cells[position]) if position < width else None
                    for position, cn, spec in specs}
        tables.origins[(table_id, len(rows))] = RowOrigin(sheet=title, row=number, columns=columns)
        rows.append(row)


def _find_header(table_id: str, sheet: Any, rows_iter: Iterator[tuple[int, tuple[Any, ...]]]) -> tuple[int, Any]:
    index = HEADER_INDEX[table_id]
    needed = min(3, len(TABLES[table_id].fields))
    for number, cells in rows_iter:
        known = sum(1 for c in cells if isinstance(c, str) and header_key(c) in index)
        if known >= needed:
            return number, match_header(table_id, cells)
        if number >= HEADER_SEARCH_ROWS:
            break
    raise AefXlsxHeaderError(f"sheet {sheet.title!r}: no header row of {table_id} {TABLES[table_id].key} "
                             f"(template labels) in the first {HEADER_SEARCH_ROWS} rows")


# ------------------------------------------------------------------------------------ writing


def write_xlsx(tables: AefTables, *, summary: bool = True) -> bytes:
    """The workbook in the template layout: all five table sheets, header rows always present."""
    writer = XlsxWriter()
    try:
        _write_sheets(writer, tables, summary)
    except BaseException:
        writer.discard()
        raise
    return writer.to_bytes()


def _write_sheets(writer: XlsxWriter, tables: AefTables, summary: bool) -> None:
    if summary:
        _write_summary(writer, tables)
    sheet = writer.add_sheet(TABLES["T1"].sheet, rows=len(TABLES["T1"].fields), columns=2)
    _widths(sheet, [55, 30])
    submission = tables.submission
    if submission is not None:
        check_row_keys("T1", 0, submission)
    for spec in TABLES["T1"].fields:
        value = None if submission is None else submission.get(spec.cn)
        writer.append(sheet, [writer.cell(sheet, spec.label, bold=True), _cell(writer, sheet, spec, value)])
    for table_id in ROW_TABLES:
        fields = TABLES[table_id].fields
        records = tables.rows.get(table_id) or []
        sheet = writer.add_sheet(TABLES[table_id].sheet, rows=1 + len(records), columns=len(fields))
        _widths(sheet, [22] * len(fields))
        writer.append(sheet, [writer.cell(sheet, f.label, bold=True) for f in fields])
        for index, row in enumerate(records):
            check_row_keys(table_id, index, row)
            writer.append(sheet, [_cell(writer, sheet, f, row.get(f.cn)) for f in fields])


def _widths(sheet: Any, widths: list[int]) -> None:
    for position, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(position)].width = width


def _write_summary(writer: XlsxWriter, tables: AefTables) -> None:
    sheet = writer.add_sheet(SUMMARY_SHEET)
    _widths(sheet, [40, 20])
    submission = tables.submission or {}
    writer.append(sheet, [writer.cell(sheet, "Summary information", bold=True)])
    writer.append(sheet, ["Party", _plain(submission.get("ParticipatingParty"))])
    writer.append(sheet, ["Reported year", _plain(submission.get("ReportedYear"))])
    writer.append(sheet, [])
    writer.append(sheet, [writer.cell(sheet, "Table", bold=True), writer.cell(sheet, "Records", bold=True)])
    for table_id in TABLES:
        writer.append(sheet, [TABLES[table_id].sheet, len(tables.table(table_id))])
    writer.append(sheet, [])
    writer.append(sheet, ["Written by carbonlink; the table sheets are the data, this sheet is not read."])


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int) and not isinstance(value, bool) else (
        None if value is None else str(value))


def _cell(writer: XlsxWriter, sheet: Any, spec: FieldSpec, value: Any) -> Any:
    """One value as a cell that reads back to the same raw value."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, int | Decimal):
        return value if excel_exact(value) else format(value, "f") if isinstance(value, Decimal) else str(value)
    if isinstance(value, datetime):
        utc = as_utc(value)
        if utc.microsecond or utc.date() < EXCEL_FIRST_SAFE_DATE:
            return csv_value(spec, utc)  # ISO text: Excel cannot hold it exactly
        return writer.cell(sheet, utc.replace(tzinfo=None), number_format=XLSX_DATETIME_FORMAT)
    if isinstance(value, date):
        if value < EXCEL_FIRST_SAFE_DATE:
            return csv_value(spec, value)
        return writer.cell(sheet, value, number_format=XLSX_DATE_FORMAT)
    return str(value)


__all__ = ["NA", "SUMMARY_SHEET", "AefXlsxHeaderError", "read_xlsx", "write_xlsx"]
