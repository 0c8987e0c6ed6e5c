"""The AEF workbook in the peer layout: the full-report template of the UNDP registry line.

That template (``aef_full_Report_template.xlsx`` in ``backend/services/libs/aef-v2/src/export/``
of github.com/xeptagondev/carbon-registry-undp) has an ``Index`` sheet, a ``Summary
information`` sheet and the five table sheets; column A is an empty margin and every table
starts in column B under a title in row 2. T1 has its labels in B4:B12 and values in C4:C12;
the T2, T3, T4 and T5 header rows are rows 7, 8, 7 and 10, with the records right below.
T2, T3 and T4 carry one unlabelled spacer column; the template does not say where, so
carbonlink puts it after the field named in :data:`SPACER_AFTER` (readers find columns by
their labels, so its place does not matter to them). Cells are written as in carbonlink's
own layout: numbers as numbers, dates as Excel dates.
"""

from __future__ import annotations

from typing import Any

from standards.aef._xlsx_write import cell_value, set_widths, write_summary
from standards.aef.cells import check_row_keys
from standards.aef.tables import ROW_TABLES, TABLES, AefTables, FieldSpec
from standards.tabular import XlsxWriter

INDEX_SHEET = "Index"
#: The 1-based row of each table's header (T1: of its first label).
HEADER_ROWS = {"T1": 4, "T2": 7, "T3": 8, "T4": 7, "T5": 10}
#: The field after which the unlabelled spacer column sits.
SPACER_AFTER = {"T2": "AuthorizationVersion", "T3": "LastID", "T4": "LastID"}
TITLE_ROW = 2
TITLES = {"T1": "Table 1: Submission", "T2": "Table 2: Authorizations", "T3": "Table 3: Actions",
          "T4": "Table 4: Holdings", "T5": "Table 5: Authorized entities"}


def peer_columns(table_id: str) -> list[FieldSpec | None]:
    """The columns from B on: the table's fields in order, ``None`` for the spacer."""
    columns: list[FieldSpec | None] = []
    for spec in TABLES[table_id].fields:
        columns.append(spec)
        if SPACER_AFTER.get(table_id) == spec.cn:
            columns.append(None)
    return columns


def write_peer_sheets(writer: XlsxWriter, tables: AefTables) -> None:
    _write_index(writer)
    write_summary(writer, tables)
    _write_submission(writer, tables)
    for table_id in ROW_TABLES:
        _write_rows(writer, tables, table_id)


def _write_heading(writer: XlsxWriter, sheet: Any, table_id: str) -> None:
    """Rows 1 up to the header row: the margin row, the title, blank rows."""
    for number in range(1, HEADER_ROWS[table_id]):
        writer.append(sheet, [None, writer.cell(sheet, TITLES[table_id], bold=True)] if number == TITLE_ROW else [])


def _write_index(writer: XlsxWriter) -> None:
    sheet = writer.add_sheet(INDEX_SHEET)
    set_widths(sheet, [3, 30, 60])
    writer.append(sheet, [])
    writer.append(sheet, [None, writer.cell(sheet, "AEF V2 full report", bold=True)])
    writer.append(sheet, [])
    writer.append(sheet, [None, writer.cell(sheet, "Sheet", bold=True), writer.cell(sheet, "Table", bold=True)])
    for table_id in TABLES:
        writer.append(sheet, [None, TABLES[table_id].sheet, TITLES[table_id]])


def _write_submission(writer: XlsxWriter, tables: AefTables) -> None:
    fields = TABLES["T1"].fields
    sheet = writer.add_sheet(TABLES["T1"].sheet, rows=HEADER_ROWS["T1"] - 1 + len(fields), columns=3)
    set_widths(sheet, [3, 55, 30])
    submission = tables.submission
    if submission is not None:
        check_row_keys("T1", 0, submission)
    _write_heading(writer, sheet, "T1")
    for spec in fields:
        value = None if submission is None else submission.get(spec.cn)
        writer.append(sheet, [None, writer.cell(sheet, spec.label, bold=True),
                              cell_value(writer, sheet, spec, value)])


def _write_rows(writer: XlsxWriter, tables: AefTables, table_id: str) -> None:
    columns = peer_columns(table_id)
    records = tables.rows.get(table_id) or []
    sheet = writer.add_sheet(TABLES[table_id].sheet, rows=HEADER_ROWS[table_id] + len(records),
                             columns=1 + len(columns))
    set_widths(sheet, [3] + [4 if spec is None else 22 for spec in columns])
    _write_heading(writer, sheet, table_id)
    writer.append(sheet, [None] + [None if spec is None else writer.cell(sheet, spec.label, bold=True)
                                   for spec in columns])
    for index, row in enumerate(records):
        check_row_keys(table_id, index, row)
        writer.append(sheet, [None] + [None if spec is None else cell_value(writer, sheet, spec, row.get(spec.cn))
                                       for spec in columns])
