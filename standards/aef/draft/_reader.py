"""Reading the draft's sheets or CSV files: finding the header row and the heading, row by row."""

from __future__ import annotations

from typing import Any

from standards.aef.cells import draft_header_key, header_key, is_blank_row, normalize_native
from standards.aef.draft._columns import (
    ACTIONS_COLUMNS,
    BY_HEADER,
    HEADER_SEARCH_ROWS,
    HEADING,
    HOLDINGS_COLUMNS,
    LABEL,
    DraftHeaderError,
)
from standards.aef.draft._rows import ReadState, Source, convert_row, party_code
from standards.aef.tables import TABLES, AefTables, Row
from standards.codec import Medium
from standards.errors import MalformedInput
from standards.tabular import is_zip, iter_sheet_rows, read_csv_records, read_workbook, unpack_csv_archive


def read_draft(data: bytes, medium: Medium, *, authorization_version: int | None = None) -> AefTables:
    """Read a draft AEF (V1) workbook or CSV (or zip of CSVs) into AEF V2 tables.

    ``authorization_version`` fills T2 ``AuthorizationVersion``, which V1 does not carry
    (default: left empty for validation to report).
    """
    state = ReadState()
    if medium is Medium.XLSX:
        workbook = read_workbook(data, what="draft AEF workbook")
        try:
            for sheet in workbook.worksheets:
                _read_source(Source(sheet.title, iter_sheet_rows(sheet, what="draft AEF workbook"), True),
                             state, authorization_version)
        finally:
            workbook.close()
    elif medium is Medium.CSV:
        files = unpack_csv_archive(data) if is_zip(data) else [("CSV file", data)]
        for name, content in files:
            records = read_csv_records(content, what=name)
            rows = ((r.line, tuple(r.cells)) for r in records)
            _read_source(Source(name, rows, False), state, authorization_version)
    else:
        raise MalformedInput(f"the draft AEF is read from XLSX or CSV, not {medium.value}",
                             code="AEF.DRAFT_MEDIUM")
    if state.data_sources == 0:
        raise DraftHeaderError("no Actions or Holdings table of the draft AEF found: no row has the headers "
                               "'First unique identifier' and 'Last unique identifier' "
                               f"in its first {HEADER_SEARCH_ROWS} rows")
    if state.heading:
        submission: Row = {f.cn: None for f in TABLES["T1"].fields}
        for cn, (value, _place) in state.heading.items():
            submission[cn] = value
        state.tables.submission = submission
    return state.tables


def _read_source(source: Source, state: ReadState, authorization_version: int | None) -> None:
    columns: dict[int, str] | None = None
    for number, cells in source.rows:
        if columns is None:
            columns = _header(cells, source, number)
            if columns is None:
                _heading(cells, source, number, state)
                if number >= HEADER_SEARCH_ROWS:
                    return
            else:
                state.data_sources += 1
            continue
        if is_blank_row(cells):
            continue
        stray = next((p for p in range(len(cells)) if p not in columns and not is_blank_row((cells[p],))), None)
        if stray is not None:
            raise DraftHeaderError(f"{source.place(number, stray)} has a value in a column without a header; "
                                   "name the column or empty it")
        values = {key: cells[position] if position < len(cells) else None for position, key in columns.items()}
        position_of = {key: position + 1 for position, key in columns.items()}
        convert_row(values, position_of, source, number, state, authorization_version)


def _header(cells: tuple[Any, ...], source: Source, number: int) -> dict[int, str] | None:
    keys = [draft_header_key(c) if isinstance(c, str) else "" for c in cells]
    if "first unique identifier" not in keys or "last unique identifier" not in keys:
        return None
    columns: dict[int, str] = {}
    unknown: list[str] = []
    for position, key in enumerate(keys):
        if not key:
            continue
        column = BY_HEADER.get(key)
        if column is None or column in columns.values():
            unknown.append(f"{source.place(number, position)} {str(cells[position]).strip()!r}")
        else:
            columns[position] = column
    expected = ACTIONS_COLUMNS if "action_type" in columns.values() or "action_date" in columns.values() \
        else HOLDINGS_COLUMNS
    missing = [LABEL[k] for k in expected if k not in columns.values()]
    if unknown or missing:
        parts = []
        if unknown:
            parts.append("unknown or repeated column(s) " + ", ".join(unknown))
        if missing:
            parts.append("missing column(s) " + ", ".join(map(repr, missing)))
        kind = "Actions" if expected is ACTIONS_COLUMNS else "Holdings"
        raise DraftHeaderError(f"{source.place(number)}: draft AEF {kind} header has " + "; ".join(parts))
    return columns


def _heading(cells: tuple[Any, ...], source: Source, number: int, state: ReadState) -> None:
    """Pick up ``Party`` / ``Reported year`` followed (on the same row) by their value."""
    for position, cell in enumerate(cells):
        if not isinstance(cell, str):
            continue
        cn = HEADING.get(header_key(cell).rstrip(":").strip())
        if cn is None:
            continue
        value = next((v for v in cells[position + 1:] if v is not None and str(v).strip()), None)
        if value is None:
            continue
        spec = TABLES["T1"].by_cn[cn]
        parsed = party_code(value) if cn == "ParticipatingParty" else normalize_native(spec, value)
        place = source.place(number, position + 1)
        previous = state.heading.get(cn)
        if previous is not None and previous[0] != parsed:
            raise MalformedInput(f"draft AEF heading {spec.label!r} is {previous[0]!r} at {previous[1]} but "
                                 f"{parsed!r} at {place}", code="AEF.DRAFT_HEADING")
        state.heading[cn] = (parsed, place)
