"""AEF V2 as an XLSX workbook, in carbonlink's layout or the peer template's.

Sheets ``Table 1 Submission`` ... ``Table 5 Auth. entities`` are found case-insensitively or by
their ``Table N`` / ``TN`` prefix (``T1 Submission``); other sheets (``Index``, ``Summary
information``) are ignored on reading. Headers are found by their labels in the first
:data:`HEADER_SEARCH_ROWS` rows, in any column: title and banded rows above them, a margin
column and unlabelled spacer columns (which must stay empty) are passed over. T1 is read down
a sheet (each label with its value in the next column, anywhere) or across (a header row and
one value row, with the older template's ``Status`` column ignored). CARP instruction text in
CARP-populated cells is read as blank and reported by the validator.

Written either in carbonlink's layout (T1 labels in column A, values in B; T2-T5 header in
row 1 from column A) or, with ``layout="peer"``, in the peer template's (:mod:`._xlsx_peer`).

Cells: dates are real Excel dates shown ``dd/mm/yyyy`` (T3 action dates with the time, in
UTC); integers and decimals are numbers when Excel holds them exactly (15 significant
digits), otherwise text, so nothing is rounded; text is always a string cell, never a formula.
Reading uses openpyxl's read-only mode and writing its write-only mode, so a 50,000-row
workbook round-trips in bounded memory.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import chain
from typing import Any

from openpyxl.utils import get_column_letter

from standards.aef._submission import (
    across_columns,
    is_across_header,
    label_position,
    parse_values,
    store_submission,
)
from standards.aef._xlsx_peer import write_peer_sheets
from standards.aef._xlsx_write import SUMMARY_SHEET
from standards.aef._xlsx_write import cell_value as _cell
from standards.aef._xlsx_write import set_widths as _widths
from standards.aef._xlsx_write import write_summary as _write_summary
from standards.aef.cells import (
    HEADER_INDEX,
    AefHeaderError,
    HeaderMatch,
    carp_instruction,
    check_row_keys,
    describe_header_problems,
    header_key,
    is_blank_row,
    match_header,
    normalize_native,
)
from standards.aef.tables import NA, ROW_TABLES, TABLES, AefTables, FieldSpec, Row, RowOrigin
from standards.errors import InvalidValue, MalformedInput
from standards.tabular import XlsxWriter, iter_sheet_rows, read_workbook

#: Workbook layouts :func:`write_xlsx` writes (both are read).
XLSX_LAYOUTS = ("carbonlink", "peer")
#: How far down a sheet the header row is looked for.
HEADER_SEARCH_ROWS = 50
_TABLE_PREFIX = re.compile(r"^(?:table\s*|t)([1-5])(?![0-9])")


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
    rows = list(iter_sheet_rows(sheet, what="AEF workbook"))  # T1 is a handful of rows
    for position, (number, cells) in enumerate(rows):
        if is_across_header(cells):
            _read_submission_across(sheet, tables, number, cells, rows[position + 1:])
            return
    _read_submission_down(sheet, tables, rows)


def _read_submission_down(sheet: Any, tables: AefTables, rows: list[tuple[int, tuple[Any, ...]]]) -> None:
    index = HEADER_INDEX["T1"]
    specs = TABLES["T1"].by_cn
    values: dict[str, Any] = {}
    found: dict[str, int] = {}
    value_columns: list[int] = []
    repeated: list[str] = []
    for number, cells in rows:
        position = label_position(cells)
        if position is None:
            continue  # titles, notes and blank rows around the labels
        cn = index[header_key(cells[position])]
        if cn in found:
            repeated.append(f"{get_column_letter(position + 1)}{number} {str(cells[position]).strip()!r}")
            continue
        found[cn] = number
        value_columns.append(position + 2)
        values[cn] = normalize_native(specs[cn], cells[position + 1] if position + 1 < len(cells) else None)
    missing = [f.label for f in TABLES["T1"].fields if f.cn not in found]
    if missing or repeated:
        parts = []
        if missing:
            parts.append("missing label(s) " + ", ".join(map(repr, missing)))
        if repeated:
            parts.append("repeated label(s) " + ", ".join(repeated))
        raise AefXlsxHeaderError(f"sheet {sheet.title!r}: T1 Submission has " + "; ".join(parts))
    if all(v is None or carp_instruction(specs[cn], v) for cn, v in values.items()):
        return  # an empty template sheet (perhaps with CARP's instructions): no submission
    store_submission(tables, values)
    tables.origins[("T1", 0)] = RowOrigin(sheet=sheet.title, row=min(found.values()), columns=tuple(found.items()),
                                          value_column=min(value_columns))


def _read_submission_across(sheet: Any, tables: AefTables, header_row: int, header: tuple[Any, ...],
                            rest: list[tuple[int, tuple[Any, ...]]]) -> None:
    title = sheet.title
    columns = across_columns(header, where=f"sheet {title!r} row {header_row}")
    filled = [(number, cells) for number, cells in rest if not is_blank_row(cells)]
    if not filled:
        return
    if len(filled) > 1:
        raise AefXlsxHeaderError(f"sheet {title!r}: T1 Submission holds one submission, but rows "
                                 f"{filled[0][0]} and {filled[1][0]} below its header both have values")
    number, cells = filled[0]
    store_submission(tables, parse_values(cells, columns, normalize_native))
    tables.origins[("T1", 0)] = RowOrigin(sheet=title, row=number, across=True,
                                          columns=tuple((cn, p + 1) for p, cn in columns))


def _read_rows(table_id: str, sheet: Any, tables: AefTables) -> None:
    rows_iter = iter_sheet_rows(sheet, what="AEF workbook")
    header_row, match, ahead = _find_header(table_id, sheet, rows_iter)
    if not match.ok:
        raise AefXlsxHeaderError(describe_header_problems(
            match, where=f"sheet {sheet.title!r} row {header_row}",
            column_name=lambda p: f"{get_column_letter(p + 1)}{header_row}"))
    specs = [(position, cn, TABLES[table_id].by_cn[cn]) for position, cn in match.columns]
    carp = [spec for _p, _cn, spec in specs if spec.required == "CARP"]
    columns = tuple((cn, position + 1) for position, cn in match.columns)
    named = {position for position, _cn in match.columns}
    rows = tables.rows[table_id]
    title = sheet.title
    for number, cells in chain(ahead, rows_iter):
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
        if carp and not _keep_instructions(table_id, len(rows), row, carp, tables):
            continue
        tables.origins[(table_id, len(rows))] = RowOrigin(sheet=title, row=number, columns=columns)
        rows.append(row)


def _keep_instructions(table_id: str, index: int, row: Row, carp: list[FieldSpec], tables: AefTables) -> bool:
    """Blank CARP instruction text in a row (noting it); ``False`` if nothing else is in the row."""
    found = [(spec.cn, text) for spec in carp if (text := carp_instruction(spec, row[spec.cn])) is not None]
    if not found:
        return True
    for cn, _text in found:
        row[cn] = None
    if all(v is None for v in row.values()):
        return False  # a template row that holds only the instruction
    tables.instructions.extend((table_id, index, cn, text) for cn, text in found)
    return True


def _find_header(table_id: str, sheet: Any, rows_iter: Iterator[tuple[int, tuple[Any, ...]]]
                 ) -> tuple[int, HeaderMatch, list[tuple[int, tuple[Any, ...]]]]:
    """The header row, found by its labels in any column of the first rows.

    The first row naming every column wins (banded rows above it that repeat a few labels are
    passed over); failing that, the row naming most columns, so its problems can be reported.
    Returns the rows read past the header, which are data.
    """
    index = HEADER_INDEX[table_id]
    needed = min(3, len(TABLES[table_id].fields))
    seen: list[tuple[int, tuple[Any, ...]]] = []
    best: tuple[int, int] | None = None  # (known labels, position in seen)
    for number, cells in rows_iter:
        seen.append((number, cells))
        known = sum(1 for c in cells if isinstance(c, str) and header_key(c) in index)
        if known >= needed:
            match = match_header(table_id, cells)
            if match.ok:
                return number, match, seen[len(seen):]
            if best is None or known > best[0]:
                best = (known, len(seen) - 1)
        if number >= HEADER_SEARCH_ROWS:
            break
    if best is None:
        raise AefXlsxHeaderError(f"sheet {sheet.title!r}: no header row of {table_id} {TABLES[table_id].key} "
                                 f"(template labels) in the first {HEADER_SEARCH_ROWS} rows")
    number, cells = seen[best[1]]
    return number, match_header(table_id, cells), seen[best[1] + 1:]


# ------------------------------------------------------------------------------------ writing


def write_xlsx(tables: AefTables, *, summary: bool = True, layout: str = "carbonlink") -> bytes:
    """The workbook with all five table sheets, header rows always present.

    ``layout`` is ``carbonlink`` (headers in row 1 from column A, T1 labels in A and values in B)
    or ``peer`` (the full-report template of the UNDP registry line's AEF library: an Index
    sheet, headers lower down, a column-A margin and spacer columns; see :mod:`._xlsx_peer`).
    """
    if layout not in XLSX_LAYOUTS:
        raise InvalidValue(f"unknown AEF workbook layout {layout!r} (one of {', '.join(XLSX_LAYOUTS)})")
    writer = XlsxWriter()
    try:
        if layout == "peer":
            write_peer_sheets(writer, tables)
        else:
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


__all__ = ["NA", "SUMMARY_SHEET", "XLSX_LAYOUTS", "AefXlsxHeaderError", "read_xlsx", "write_xlsx"]
