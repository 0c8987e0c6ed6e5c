"""AEF version 2 tables as data: field specifications and the native row container.

The five tables (T1 Submission ... T5 Authorized entities) and their fields are read from
``data/aef-v2-fields.json`` (labels, Common Nomenclature names, CAD Trust keys, types,
requiredness). :class:`AefTables` holds rows keyed by CN name exactly as a medium gave them,
plus where each row came from, so findings can point at a sheet and cell or a CSV line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from typing import Any

from openpyxl.utils import get_column_letter

from standards.findings import Location, json_pointer

NA = "NA"
DATA = resources.files("standards.aef") / "data"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    cn: str
    label: str
    cadt: str
    type: str
    required: str  # Y, N, COND or CARP
    canonical: str
    vocabulary: str | None = None

    @property
    def accepts_na(self) -> bool:
        return self.type.endswith("_or_na") or self.required == "COND"


@dataclass(frozen=True)
class TableSpec:
    id: str
    key: str
    sheet: str
    layout: str
    canonical: str
    fields: tuple[FieldSpec, ...]

    @cached_property
    def by_cn(self) -> dict[str, FieldSpec]:
        return {f.cn: f for f in self.fields}

    @cached_property
    def by_label(self) -> dict[str, FieldSpec]:
        return {f.label.casefold(): f for f in self.fields}

    @cached_property
    def by_cadt(self) -> dict[str, FieldSpec]:
        return {f.cadt: f for f in self.fields}

    def column_of(self, cn: str) -> int:
        """1-based column (row layout) or row (vertical layout) of a field in the template."""
        return next(i for i, f in enumerate(self.fields, start=1) if f.cn == cn)


def _load_tables() -> dict[str, TableSpec]:
    raw = json.loads((DATA / "aef-v2-fields.json").read_text(encoding="utf-8"))
    tables = {}
    for t in raw["tables"]:
        fields = tuple(FieldSpec(f["cn"], f["label"], f["cadt"], f["type"], f["required"], f["canonical"],
                                 f.get("vocabulary")) for f in t["fields"])
        tables[t["id"]] = TableSpec(t["id"], t["key"], t["sheet"], t["layout"], t["canonical"], fields)
    return tables


#: The five AEF V2 tables by id (``T1`` ... ``T5``), in template order.
TABLES: dict[str, TableSpec] = _load_tables()
TABLE_IDS = tuple(TABLES)
ROW_TABLES = ("T2", "T3", "T4", "T5")


@dataclass(frozen=True, slots=True)
class RowOrigin:
    """Where a row was read: a sheet and 1-based row (XLSX), or a file and line (CSV)."""

    sheet: str | None = None
    row: int | None = None
    line: int | None = None
    columns: tuple[tuple[str, int], ...] = ()  # (cn, 1-based column) as laid out in the source
    #: T1 laid out down a sheet: the 1-based column of its values (``columns`` then holds rows/lines).
    value_column: int = 2
    #: T1 laid out across (a header row and one value row): ``columns`` holds columns as for T2-T5.
    across: bool = False


Row = dict[str, Any]


@dataclass
class AefTables:
    """Native AEF V2 content: T1 as one mapping, T2-T5 as lists of rows keyed by CN name.

    Values are as the medium gave them, after only lossless normalisation: ``None`` for an
    empty cell, ``"NA"`` kept as written, numbers as int/Decimal, dates as date/datetime.
    """

    submission: Row | None = None
    rows: dict[str, list[Row]] = field(default_factory=lambda: {t: [] for t in ROW_TABLES})
    origins: dict[tuple[str, int], RowOrigin] = field(default_factory=dict)
    #: CARP-populated cells that held a template's instruction text, read as blank:
    #: ``(table id, row index, CN name, the text)``.
    instructions: list[tuple[str, int, str, str]] = field(default_factory=list)
    #: Values of the input that no field of these tables holds (e.g. a draft AEF holding's record ID):
    #: ``(table id, row index, the input's column label, the value)``, reported when validated.
    lost: list[tuple[str, int, str, str]] = field(default_factory=list)

    def table(self, table_id: str) -> list[Row]:
        if table_id == "T1":
            return [self.submission] if self.submission is not None else []
        return self.rows[table_id]

    def record_count(self) -> int:
        return sum(len(self.table(t)) for t in TABLE_IDS)

    def location(self, table_id: str, index: int, cn: str | None = None) -> Location:
        """Where a row (or one field of it) is: JSON Pointer always, sheet+cell or line if known."""
        spec = TABLES[table_id]
        pointer = json_pointer([spec.key] if table_id == "T1" else [spec.key, index])
        if cn is not None:
            pointer += json_pointer([cn])
        origin = self.origins.get((table_id, index))
        if origin is None:
            return Location(pointer=pointer)
        if origin.sheet is not None and origin.row is not None:
            cell = None
            if cn is not None:
                columns = dict(origin.columns)
                col = columns.get(cn)
                if spec.layout == "vertical" and not origin.across:
                    row = col if col is not None else origin.row
                    cell = f"{get_column_letter(origin.value_column)}{row}"
                elif col is not None:
                    cell = f"{get_column_letter(col)}{origin.row}"
            return Location(pointer=pointer, sheet=origin.sheet,
                            cell=cell or (None if spec.layout == "vertical" and not origin.across
                                          else f"A{origin.row}"))
        line = origin.line
        if cn is not None and spec.layout == "vertical" and not origin.across:  # T1 down a CSV: a line each
            line = dict(origin.columns).get(cn, line)
        return Location(pointer=pointer, line=line)
