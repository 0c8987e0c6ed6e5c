"""The undp-ncr AEF export read from the registry's own template, whose header spans three rows: the record
ID (A), cooperative approach (B) and first transfer definition (S) labels are merged down from row 8 over
the group rows, so they are not in the row of the other column labels (row 10)."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl

from adapters.undp_ncr import adapter
from standards.codec import Medium
from standards.tabular import read_csv_records

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "undp-ncr" / "aef-actions.csv"
TALL = (0, 1, 18)  # columns A, B, S


def _template(record_id: str) -> bytes:
    records = read_csv_records(FIXTURE.read_bytes())
    labels = list(records[0].cells)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Actions"
    sheet["A2"], sheet["A3"], sheet["B3"], sheet["A4"], sheet["B4"] = (
        "Table 1: Heading", "Party", "VUT", "Reported year", 2024)
    sheet["A7"] = "Table 2: Actions"
    sheet["C8"], sheet["T8"], sheet["C9"], sheet["T9"] = "ITMO", "Actions", "Unique identifier", "Action details"
    for position, label in enumerate(labels):
        sheet.cell(8 if position in TALL else 10, position + 1, label)
    for merge in ("A8:A10", "B8:B10", "S8:S10", "C8:N8", "T8:Z8", "C9:F9", "T9:Y9"):
        sheet.merge_cells(merge)
    for number, record in enumerate(records[1:], start=11):
        for position, value in enumerate(record.cells):
            sheet.cell(number, position + 1, record_id if position == 0 else value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_labels_merged_down_over_the_group_rows_are_read() -> None:
    result = adapter.parse(_template("A6-RECORD-1"), medium=Medium.XLSX)
    assert result.valid, [f.as_dict() for f in result.findings]
    first = result.document.actions[0]
    undp = first.extra["undp"]
    assert undp["article6RecordId"] == "A6-RECORD-1"  # column A
    assert undp["cooperativeApproach"] == "Article 6.2"  # column B
    assert undp["firstTransferDefinition"] == "Authorization"  # column S
    assert len(result.document.actions) == len(read_csv_records(FIXTURE.read_bytes())) - 1
