"""The formula-injection escape for CSV cells, and the CSV writer that applies it."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

#: First characters that make a spreadsheet program treat a CSV cell as a formula.
FORMULA_TRIGGERS = "=+-@\t\r"
_NEEDS_ESCAPE = re.compile(r"'*[=+\-@\t\r]")
_ESCAPED = re.compile(r"'+[=+\-@\t\r]")


def escape_formula(text: str) -> str:
    """Prefix an apostrophe when a spreadsheet would read ``text`` as a formula (see module doc)."""
    return "'" + text if _NEEDS_ESCAPE.match(text) else text


def unescape_formula(text: str) -> str:
    """Undo :func:`escape_formula`: drop exactly one leading apostrophe before a trigger."""
    return text[1:] if _ESCAPED.match(text) else text


CsvCell = str | int | Decimal | None


def format_csv_cell(value: Any) -> str:
    """Text for one CSV cell: text escaped against formulas, numbers bare, None empty."""
    if value is None:
        return ""
    if isinstance(value, str):
        return escape_formula(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    if isinstance(value, datetime | date):
        return escape_formula(value.isoformat())
    return escape_formula(str(value))


def write_csv_bytes(rows: Iterable[Sequence[Any]], *, delimiter: str = ",", bom: bool = True) -> bytes:
    """Write rows as UTF-8 CSV (with a BOM so spreadsheet programs see UTF-8), CRLF line ends."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow([format_csv_cell(v) for v in row])
    text = out.getvalue()
    return (codecs.BOM_UTF8 if bom else b"") + text.encode("utf-8")
