"""Table 1 (Submission) as registries lay it out: down a sheet or across one header row.

Down: each field's label in some column with its value in the next column (carbonlink's
workbook: A/B; the peer template of the UNDP registry line: B/C; CSV: ``label,value`` lines).
Across: a header row of the T1 labels and one value row below it (the T1 CSV of that line,
and its older workbook template, which adds a ``Status`` column that is not an AEF field).
CARP-populated cells holding a template's instruction text are read as blank and noted in
:attr:`AefTables.instructions` for the validator to report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import repeat
from typing import Any

from standards.aef.cells import HEADER_INDEX, AefHeaderError, carp_instruction, header_key
from standards.aef.tables import TABLES, AefTables, FieldSpec

#: Header cells of an across T1 that are no AEF field and are ignored (the older template's status).
ACROSS_EXTRA_HEADERS = frozenset({"status"})
#: How many T1 labels one row needs to count as an across header.
ACROSS_MIN_LABELS = 3

Parse = Callable[[FieldSpec, Any], Any]


def label_position(cells: Sequence[object]) -> int | None:
    """The 0-based position of the first T1 label in a row, or ``None``."""
    index = HEADER_INDEX["T1"]
    for position, cell in enumerate(cells):
        if isinstance(cell, str) and header_key(cell) in index:
            return position
    return None


def is_across_header(cells: Sequence[object]) -> bool:
    index = HEADER_INDEX["T1"]
    return sum(1 for c in cells if isinstance(c, str) and header_key(c) in index) >= ACROSS_MIN_LABELS


def across_columns(header: Sequence[object], where: str) -> list[tuple[int, str]]:
    """``(0-based position, CN)`` of every T1 field in an across header; the header must be complete."""
    index = HEADER_INDEX["T1"]
    columns: list[tuple[int, str]] = []
    unknown: list[str] = []
    repeated: list[str] = []
    for position, cell in enumerate(header):
        if cell is None or not str(cell).strip() or header_key(cell) in ACROSS_EXTRA_HEADERS:
            continue
        cn = index.get(header_key(cell))
        if cn is None:
            unknown.append(repr(str(cell).strip()))
        elif any(cn == seen for _p, seen in columns):
            repeated.append(repr(str(cell).strip()))
        else:
            columns.append((position, cn))
    found = {cn for _p, cn in columns}
    missing = [repr(f.label) for f in TABLES["T1"].fields if f.cn not in found]
    problems = [f"{what} {', '.join(items)}" for what, items in
                (("unknown column(s)", unknown), ("missing column(s)", missing), ("repeated column(s)", repeated))
                if items]
    if problems:
        raise AefHeaderError(f"{where}: the T1 Submission header has " + "; ".join(problems))
    return columns


def store_submission(tables: AefTables, values: dict[str, Any]) -> None:
    """Keep T1 (fields in table order), moving CARP instruction text to ``tables.instructions``."""
    submission = {}
    for spec in TABLES["T1"].fields:
        value = values.get(spec.cn)
        text = carp_instruction(spec, value)
        if text is not None:
            tables.instructions.append(("T1", 0, spec.cn, text))
            value = None
        submission[spec.cn] = value
    tables.submission = submission


def parse_values(cells: Sequence[object], columns: Sequence[tuple[int, str]], parse: Parse) -> dict[str, Any]:
    specs = TABLES["T1"].by_cn
    return {cn: parse(specs[cn], cells[p] if p < len(cells) else None) for p, cn in columns}


#: Each table's fields that CARP fills, in table order.
_CARP_FIELDS = {table_id: [field for field in table.fields if field.required == "CARP"]
                for table_id, table in TABLES.items()}


def lift_instructions(tables: AefTables) -> None:
    """Blank CARP instruction text in every table (noting it), for media read without templates' help."""
    for table_id, carp in _CARP_FIELDS.items():
        rows = tables.table(table_id)
        if not rows:  # a relayed message fills one table of five
            continue
        # the text cells of each CARP column, found a column at a time (usually none), then looked at
        found: list[tuple[int, int]] = []
        for order, spec in enumerate(carp):
            values = list(map(dict.get, rows, repeat(spec.cn)))
            if any(issubclass(kind, str) for kind in set(map(type, values))):
                found += [(index, order) for index, value in enumerate(values) if isinstance(value, str)]
        for index, order in sorted(found):
            spec, row = carp[order], rows[index]
            text = carp_instruction(spec, row.get(spec.cn))
            if text is not None:
                row[spec.cn] = None
                tables.instructions.append((table_id, index, spec.cn, text))
