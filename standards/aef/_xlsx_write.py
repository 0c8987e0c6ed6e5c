"""Cells and the summary sheet shared by both AEF workbook layouts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl.utils import get_column_letter

from standards.aef.cells import (
    EXCEL_FIRST_SAFE_DATE,
    XLSX_DATE_FORMAT,
    XLSX_DATETIME_FORMAT,
    as_utc,
    csv_value,
    excel_exact,
)
from standards.aef.tables import TABLES, AefTables, FieldSpec
from standards.tabular import XlsxWriter

SUMMARY_SHEET = "Summary information"


def set_widths(sheet: Any, widths: list[int]) -> None:
    for position, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(position)].width = width


def write_summary(writer: XlsxWriter, tables: AefTables) -> None:
    sheet = writer.add_sheet(SUMMARY_SHEET)
    set_widths(sheet, [40, 20])
    submission = tables.submission or {}
    writer.append(sheet, [writer.cell(sheet, "Summary information", bold=True)])
    writer.append(sheet, ["Party", plain_value(submission.get("ParticipatingParty"))])
    writer.append(sheet, ["Reported year", plain_value(submission.get("ReportedYear"))])
    writer.append(sheet, [])
    writer.append(sheet, [writer.cell(sheet, "Table", bold=True), writer.cell(sheet, "Records", bold=True)])
    for table_id in TABLES:
        writer.append(sheet, [TABLES[table_id].sheet, len(tables.table(table_id))])
    writer.append(sheet, [])
    writer.append(sheet, ["Written by carbonlink; the table sheets are the data, this sheet is not read."])


def plain_value(value: Any) -> Any:
    return value if isinstance(value, str | int) and not isinstance(value, bool) else (
        None if value is None else str(value))


def cell_value(writer: XlsxWriter, sheet: Any, spec: FieldSpec, value: Any) -> Any:
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
