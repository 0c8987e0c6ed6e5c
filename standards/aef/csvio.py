"""AEF V2 as CSV: one file per table, or a zip of them (a folder packed by the CLI).

Layout (see docs/aef-media.md):

* T2-T5: one header row of template labels (CN names are accepted too, case-insensitively),
  then one record per line. The header must name every column of its table exactly once.
* T1: two columns, ``label,value``, one line per field, no header row; read also as a header
  row of T1 labels plus one value row (the layout of the UNDP registry line's AEF library).
* One stacked file of all tables is read too: each table under a title line ``Table N: ...``
  (blank lines around it), then its header row and records, T1 as header plus value row.
* Dates ``dd/mm/yyyy``; T3 ``ActionDateTime`` written ``yyyy-mm-ddThh:mm:ssZ`` (UTC) and read
  from either form; decimals written in plain notation, exactly as held.
* Written as UTF-8 with a BOM and CRLF line ends; text cells that a spreadsheet would take
  for a formula get one leading apostrophe, which the reader removes again.

The table of a single file is found from its name (``T3_Actions.csv``) or its header row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePath

from standards.aef._stacked import stacked_sections
from standards.aef._submission import (
    across_columns,
    is_across_header,
    lift_instructions,
    parse_values,
    store_submission,
)
from standards.aef.cells import (
    HEADER_INDEX,
    AefHeaderError,
    check_row_keys,
    csv_value,
    describe_header_problems,
    header_key,
    match_header,
    parse_text,
    unnamed_positions,
)
from standards.aef.tables import ROW_TABLES, TABLES, AefTables, FieldSpec, Row, RowOrigin
from standards.errors import InvalidValue, MalformedInput
from standards.tabular import CsvRecord, is_zip, read_csv_records, unpack_csv_archive, write_csv_bytes

_NAME_HINT = re.compile(r"^t([1-5])(?![0-9])", re.IGNORECASE)


def file_name(table_id: str) -> str:
    """The file name a table is written to, e.g. ``T3_Actions.csv``."""
    return f"{table_id}_{TABLES[table_id].key}.csv"


def read_csv(data: bytes) -> AefTables:
    """Read one AEF table from a CSV file, or several from a zip of CSV files."""
    tables = AefTables()
    if is_zip(data):
        seen: dict[str, str] = {}
        for name, content in unpack_csv_archive(data):
            table_id = _read_one(content, name, tables)
            if table_id in seen:
                raise MalformedInput(f"{seen[table_id]} and {name} both hold {table_id} "
                                     f"{TABLES[table_id].key}; keep one file per table",
                                     code="AEF.CSV_DUPLICATE_TABLE")
            seen[table_id] = name
    else:
        _read_one(data, None, tables)
    lift_instructions(tables)
    return tables


def _read_one(data: bytes, name: str | None, tables: AefTables) -> str:
    what = f"CSV file {name}" if name else "CSV file"
    sections = stacked_sections(data, what)
    if sections is not None:
        for table_id, records in sections:
            _read_records(records, table_id, tables, what)
        return "stacked"
    records = read_csv_records(data, what=what)
    return _read_records(records, _table_from_name(name), tables, what)


def _read_records(records: Sequence[CsvRecord], hint: str | None, tables: AefTables, what: str) -> str:
    first = records[0]
    if hint == "T1" or (hint is None and _looks_vertical(first)):
        if is_across_header(first.cells):
            _read_submission_across(records, tables, what)
        else:
            _read_submission(records, tables, what)
        return "T1"
    if hint is None and is_across_header(first.cells):
        _read_submission_across(records, tables, what)
        return "T1"
    table_id = hint or _detect_table(first, what)
    match = match_header(table_id, first.cells)
    if not match.ok:
        raise AefHeaderError(describe_header_problems(match, where=f"{what} line {first.line}",
                                                      column_name=lambda p: f"column {p + 1}"))
    specs = TABLES[table_id].by_cn
    columns = tuple((cn, position + 1) for position, cn in match.columns)
    unnamed = unnamed_positions(match, len(first.cells))
    rows = tables.rows[table_id]
    for record in records[1:]:
        if all(not c.strip() for c in record.cells):
            continue
        stray = next((p for p in unnamed if record.cells[p].strip()), None)
        if stray is not None:
            raise AefHeaderError(f"{what} line {record.line} has a value in column {stray + 1}, which has no "
                                 "header; name the column or empty it", code="AEF.CSV_UNNAMED_COLUMN")
        row: Row = {cn: parse_text(specs[cn], record.cells[position]) for position, cn in match.columns}
        tables.origins[(table_id, len(rows))] = RowOrigin(line=record.line, columns=columns)
        rows.append(row)
    return table_id


def _read_submission_across(records: Sequence[CsvRecord], tables: AefTables, what: str) -> None:
    """T1 as a header row plus one value row."""
    columns = across_columns(records[0].cells, where=f"{what} line {records[0].line}")
    filled = [r for r in records[1:] if any(c.strip() for c in r.cells)]
    if not filled:
        return
    if len(filled) > 1:
        raise AefHeaderError(f"{what}: T1 Submission holds one submission, but lines {filled[0].line} and "
                             f"{filled[1].line} below its header both have values")
    store_submission(tables, parse_values(filled[0].cells, columns, _parse_cell))
    tables.origins[("T1", 0)] = RowOrigin(line=filled[0].line, across=True,
                                          columns=tuple((cn, p + 1) for p, cn in columns))


def _parse_cell(spec: FieldSpec, cell: object) -> object:
    return parse_text(spec, cell) if isinstance(cell, str) else None


def _table_from_name(name: str | None) -> str | None:
    if name is None:
        return None
    match = _NAME_HINT.match(PurePath(name).name)
    return f"T{match[1]}" if match else None


def _looks_vertical(first: CsvRecord) -> bool:
    """T1's label,value layout (spreadsheet exports may pad it with empty columns)."""
    return (len(first.cells) >= 2 and header_key(first.cells[0]) in HEADER_INDEX["T1"]
            and not any(c.strip() for c in first.cells[2:]))


def _detect_table(first: CsvRecord, what: str) -> str:
    """The row table whose header the first line matches best (most known columns, fewest missing)."""
    scored = []
    for table_id in ROW_TABLES:
        match = match_header(table_id, first.cells)
        scored.append((len(match.columns), -len(match.missing), table_id))
    scored.sort(reverse=True)
    best, runner_up = scored[0], scored[1]
    if best[0] == 0:
        raise AefHeaderError(f"{what} line {first.line}: the header row names no column of any AEF table "
                             "(expected template labels such as 'Action date' or CN names)")
    if best[:2] == runner_up[:2]:
        raise AefHeaderError(f"{what} line {first.line}: the header fits {best[2]} and {runner_up[2]} "
                             f"equally; name the file {best[2]}_....csv or {runner_up[2]}_....csv")
    return best[2]


def _read_submission(records: Sequence[CsvRecord], tables: AefTables, what: str) -> None:
    index = HEADER_INDEX["T1"]
    specs = TABLES["T1"].by_cn
    submission: Row = {}
    lines: dict[str, int] = {}
    unknown: list[str] = []
    repeated: list[str] = []
    for record in records:
        if len(record.cells) < 2 or any(c.strip() for c in record.cells[2:]):
            raise AefHeaderError(f"{what} line {record.line}: T1 Submission has two columns (label, value), "
                                 f"not {len(record.cells)}")
        label, value = record.cells[:2]
        if not label.strip() and not value.strip():
            continue
        cn = index.get(header_key(label))
        if cn is None:
            unknown.append(f"line {record.line} {label.strip()!r}")
        elif cn in lines:
            repeated.append(f"line {record.line} {label.strip()!r}")
        else:
            lines[cn] = record.line
            submission[cn] = parse_text(specs[cn], value)
    missing = [f.label for f in TABLES["T1"].fields if f.cn not in lines]
    if unknown or missing or repeated:
        parts = []
        if unknown:
            parts.append("unknown label(s) " + ", ".join(unknown))
        if missing:
            parts.append("missing label(s) " + ", ".join(map(repr, missing)))
        if repeated:
            parts.append("repeated label(s) " + ", ".join(repeated))
        raise AefHeaderError(f"{what}: T1 Submission has " + "; ".join(parts))
    store_submission(tables, submission)
    tables.origins[("T1", 0)] = RowOrigin(line=min(lines.values()), columns=tuple(lines.items()))


def write_csv(tables: AefTables, *, headers: str = "label") -> dict[str, bytes]:
    """One CSV per non-empty table: ``{"T1_Submission.csv": b"...", "T3_Actions.csv": ...}``.

    ``headers`` is ``label`` (template labels, the default) or ``cn`` (Common Nomenclature).
    """
    if headers not in ("label", "cn"):
        raise InvalidValue("headers must be 'label' or 'cn'", code="AEF.CSV_HEADERS")
    out: dict[str, bytes] = {}
    if tables.submission is not None:
        check_row_keys("T1", 0, tables.submission)
        rows = [[f.label if headers == "label" else f.cn, csv_value(f, tables.submission.get(f.cn))]
                for f in TABLES["T1"].fields]
        out[file_name("T1")] = write_csv_bytes(rows)
    for table_id in ROW_TABLES:
        records = tables.rows.get(table_id) or []
        if not records:
            continue
        fields = TABLES[table_id].fields
        for index, row in enumerate(records):
            check_row_keys(table_id, index, row)
        header = [f.label if headers == "label" else f.cn for f in fields]
        body = ([csv_value(f, row.get(f.cn)) for f in fields] for row in records)
        out[file_name(table_id)] = write_csv_bytes([header, *body])
    return out
