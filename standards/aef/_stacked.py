"""The single stacked CSV of all AEF tables (the UNDP registry line's whole-submission export).

Each table follows a one-cell title line such as ``Table 3: Actions`` and a blank line, then
its header row and records; tables are separated by a blank line. The sections have different
widths, so each is parsed as a CSV of its own (line numbers stay those of the whole file).
"""

from __future__ import annotations

import re

from standards.aef.cells import AefHeaderError
from standards.errors import InputTooLarge
from standards.safeio import decode_text, max_input_bytes
from standards.tabular import CsvRecord, read_csv_records

_TITLE = re.compile(r'^\ufeff?"?\s*table\s*([1-5])(?![0-9])[^,;\t]*"?\s*[,;\t]*\s*$', re.IGNORECASE)


def stacked_sections(data: bytes, what: str) -> list[tuple[str, list[CsvRecord]]] | None:
    """``[(table id, records), ...]`` if ``data`` is a stacked CSV (its first line a table title)."""
    head = data[:64].removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n").lstrip(b'"').lower()
    if not head.startswith(b"table"):
        return None
    if len(data) > max_input_bytes():
        raise InputTooLarge(f"{what} is {len(data)} bytes, over the limit of {max_input_bytes()} bytes")
    lines = decode_text(data, what=what).splitlines(keepends=True)
    titles = [(number, _TITLE.match(line)) for number, line in enumerate(lines)]
    starts = [(number, f"T{match[1]}") for number, match in titles if match]
    if not starts or any(line.strip() for line in lines[:starts[0][0]]):
        return None
    sections: list[tuple[str, list[CsvRecord]]] = []
    seen: set[str] = set()
    for position, (number, table_id) in enumerate(starts):
        if table_id in seen:
            raise AefHeaderError(f"{what} line {number + 1}: a second section for {table_id}; "
                                 "keep one section per table", code="AEF.CSV_DUPLICATE_TABLE")
        seen.add(table_id)
        end = starts[position + 1][0] if position + 1 < len(starts) else len(lines)
        body = "".join(lines[number + 1:end])
        if not body.strip():
            raise AefHeaderError(f"{what} line {number + 1}: section {table_id} has no header row")
        records = read_csv_records(body.encode("utf-8"), what=f"{what} ({table_id} section)")
        sections.append((table_id, [r._replace(line=r.line + number + 1) for r in records]))
    return sections
