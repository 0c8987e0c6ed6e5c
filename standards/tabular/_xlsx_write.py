"""Writing XLSX workbooks whose text cells can never become formulas."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import IllegalCharacterError

from standards.errors import TranslationError


class UnwritableCell(TranslationError):
    """A value cannot be written to the target spreadsheet (e.g. a control character in XLSX)."""

    code = "OUTPUT.UNWRITABLE_CELL"



class XlsxWriter:
    """A write-only workbook whose text cells can never become formulas.

    ``add_sheet`` returns the sheet to fill with :meth:`append`; ``to_bytes`` saves.
    Values: str (always a string cell), int, Decimal, date/datetime (give a number format),
    None (empty), or a ready :class:`openpyxl.cell.WriteOnlyCell`.
    """

    def __init__(self) -> None:
        self.workbook = openpyxl.Workbook(write_only=True)
        self._rows: dict[str, int] = {}

    def add_sheet(self, title: str, *, rows: int | None = None, columns: int | None = None) -> Any:
        """A new sheet. Give its final size (``rows`` x ``columns``) when known: the sheet then
        declares its ``<dimension>``, which spares read-only readers a full pass over the sheet
        to discover that it has none."""
        sheet = self.workbook.create_sheet(title=title)
        self._rows[title] = 0
        if rows and columns:
            ref = f"A1:{get_column_letter(columns)}{rows}"
            # openpyxl's sheet writer asks for ``calculate_dimension`` when it starts the sheet
            sheet.calculate_dimension = lambda: ref
        return sheet

    def cell(self, sheet: Any, value: Any, *, number_format: str | None = None, bold: bool = False) -> Any:
        """A styled or protected cell; strings are forced to string type."""
        try:
            cell = WriteOnlyCell(sheet, value=value)
        except IllegalCharacterError as exc:
            raise UnwritableCell(f"sheet {sheet.title!r} row {self._rows[sheet.title] + 1}: text contains a "
                                 "control character that XLSX cannot store") from exc
        if isinstance(value, str):
            cell.data_type = "s"
        if number_format is not None:
            cell.number_format = number_format
        if bold:
            cell.font = _bold_font()
        return cell

    def append(self, sheet: Any, values: Sequence[Any]) -> None:
        row: list[Any] = []
        number = self._rows[sheet.title] + 1
        for position, value in enumerate(values, start=1):
            if isinstance(value, str):
                if ILLEGAL_CHARACTERS_RE.search(value):
                    raise UnwritableCell(f"sheet {sheet.title!r} row {number} column {position}: text contains a "
                                         "control character that XLSX cannot store")
                if value.startswith("=") or value in ERROR_CODES:
                    value = self.cell(sheet, value)
            row.append(value)
        self._rows[sheet.title] = number
        sheet.append(row)

    def to_bytes(self) -> bytes:
        out = io.BytesIO()
        self.workbook.save(out)
        return out.getvalue()

    def discard(self) -> None:
        """Finish every sheet's stream after a failure, so nothing half-written is left behind."""
        for sheet in self.workbook.worksheets:
            try:
                if not sheet.closed:
                    sheet.close()
            except Exception:  # the sheet is being thrown away; its own error is the one reported
                continue


_BOLD: Any = None


def _bold_font() -> Any:
    global _BOLD
    if _BOLD is None:
        from openpyxl.styles import Font

        _BOLD = Font(bold=True)
    return _BOLD
