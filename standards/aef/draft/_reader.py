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
from standards.aef.draft._vocabulary import VocabularyMap
from standards.aef.tables import TABLES, AefTables, Row
from standards.codec import Medium
from standards.errors import MalformedInput
from standards.tabular import is_zip, iter_sheet_rows, read_csv_records, read_workbook, unpack_csv_archive


def read_draft(data: bytes, medium: Medium, *, authorization_version: int | None = None,
               vocabulary: VocabularyMap | None = None) -> AefTables:
    """Read a draft AEF (V1) workbook or CSV (or zip of CSVs) into AEF V2 tables.

    ``authorization_version`` fills T2 ``AuthorizationVersion``, which V1 does not carry
    (default: left empty for validation to report); ``vocabulary`` maps a registry's own labels
    (e.g. UNDP sector labels) to Common Nomenclature values.
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
    if vocabulary is not None:
        for table_id in ("T2", "T3", "T4"):
            for row in state.tables.rows[table_id]:
                for cn in vocabulary.to_standard.keys() & row.keys():
                    row[cn] = vocabulary.read(cn, row[cn])
    if state.heading:
        submission: Row = {f.cn: None for f in TABLES["T1"].fields}
        for cn, (value, _place) in state.heading.items():
            submission[cn] = value
        state.tables.submission = submission
    return state.tables


def _read_source(source: Source, state: ReadState, authorization_version: int | None) -> None:
    columns: dict[int, str] | None = None
    above: list[tuple[Any, ...]] = []  # the rows above the header row (a label merged down from them)
    for number, cells in source.rows:
        if columns is None:
            columns = _header(_with_merged_labels(cells, above), source, number)
            above = [cells, *above[:_HEADER_DEPTH - 1]]
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


#: How many rows a header may span: the UNDP templates merge three columns (record ID, cooperative
#: approach, first transfer definition) down over two group rows to the row of the leaf labels.
_HEADER_DEPTH = 3


def _with_merged_labels(cells: tuple[Any, ...], above: list[tuple[Any, ...]]) -> tuple[Any, ...]:
    """A candidate header row with each blank cell filled by the column label right above it (a
    vertically merged header cell keeps its text in its top cell); group labels such as ``ITMO`` are
    not column labels and are not taken."""
    keys = [draft_header_key(c) if isinstance(c, str) else "" for c in cells]
    if not above or "first unique identifier" not in keys:
        return cells
    filled = list(cells) + [None] * (max(map(len, above)) - len(cells))
    for position, cell in enumerate(filled):
        if isinstance(cell, str) and cell.strip():
            continue
        for row in above:
            label = row[position] if position < len(row) else None
            if isinstance(label, str) and draft_header_key(label) in BY_HEADER:
                filled[position] = label
                break
            if label is not None and str(label).strip():
                break  # another label (a group) is in the way: the column has no merged label
    return tuple(filled)


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
