"""Reading a sheet: the header resolved against the mapping, then each row to a canonical record."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from openpyxl.utils import get_column_letter
from pydantic import BaseModel, ValidationError

from adapters.spreadsheet._cells import _CellConverter
from adapters.spreadsheet._common import (
    _FAIL,
    _as_text,
    _clean,
    _FindingSink,
    _has_path,
    _norm,
    _set_path,
    _Spot,
    _Where,
)
from adapters.spreadsheet._rules import (
    COLUMN_ABSENT,
    COLUMN_MISSING,
    COLUMN_UNMAPPED,
    COLUMN_UNNAMED,
    FIELD_INVALID,
    HEADER_DUPLICATE,
    HEADER_MISSING,
    NO_RECORDS,
    QUANTITY_RANGE,
    RANGE_ORDER,
    REQUIRED_EMPTY,
    SERIAL_PATTERN,
)
from adapters.spreadsheet_mapping import (
    CompiledColumn,
    CompiledMapping,
)
from standards import (
    Finding,
    Severity,
)


class _RowReader(_CellConverter):
    """Turns the header row and then each data row into canonical records and findings."""

    def __init__(self, mapping: CompiledMapping, where: _Where, sink: _FindingSink) -> None:
        super().__init__(mapping, where, sink)
        self.positions: list[tuple[CompiledColumn, int]] = []
        self.plan: list[tuple[CompiledColumn, int, bool]] = []
        self.kept: list[tuple[str, int]] = []
        self.unnamed: set[int] = set()
        self.warned_unnamed: set[int] = set()
        self.width = 0
        self.records = 0

    # -- header

    def header(self, position: int, cells: Sequence[Any]) -> bool:
        """Resolve mapped columns against the header; False when the file cannot be read with this mapping."""
        spec = self.mapping.spec
        exact = spec.header_match == "exact"
        texts = ["" if c is None else _as_text(c) for c in cells]
        keys = [t if exact else _norm(t) for t in texts]
        self.width = len(cells)
        if not any(k.strip() for k in keys):
            self.sink.add(HEADER_MISSING.finding(
                f"row {spec.header_row} should hold the column headers but is empty", self.where.at(position, None)))
            return False
        where_is: dict[str, list[int]] = {}
        for i, key in enumerate(keys):
            if key.strip():
                where_is.setdefault(key, []).append(i)
            else:
                self.unnamed.add(i)
        ok = True
        mapped: set[int] = set()
        for col in self.mapping.columns:
            key = col.header if exact else _norm(col.header)
            found = where_is.get(key, [])
            if len(found) > 1:
                letters = ", ".join(get_column_letter(i + 1) for i in found)
                self.sink.add(HEADER_DUPLICATE.finding(
                    f"the header {col.header!r} appears in columns {letters}; the mapping cannot tell which to "
                    "read", self.where.at(position, found[1])))
                mapped.update(found)
                ok = False
            elif not found:
                rule = COLUMN_MISSING if col.spec.required else COLUMN_ABSENT
                self.sink.add(rule.finding(
                    f"the column {col.header!r} ({col.info.path}) is not in the header row"
                    + ("; it is required" if col.spec.required else "; its field stays empty"),
                    self.where.at(position, None)))
                ok = ok and not col.spec.required
            else:
                self.positions.append((col, found[0]))
                plain = col.info.kind == "text" and not col.read_values and col.pattern is None
                self.plan.append((col, found[0], plain))
                mapped.add(found[0])
        for found in where_is.values():
            if found[0] in mapped:
                continue
            header = texts[found[0]].strip()
            if spec.unmapped_columns == "error":
                self.sink.add(COLUMN_UNMAPPED.finding(
                    f"the column {header!r} is not in the mapping {self.mapping.name!r}, which allows no others",
                    self.where.at(position, found[0]), severity=Severity.ERROR))
                ok = False
            elif spec.unmapped_columns == "ignore":
                self.sink.add(COLUMN_UNMAPPED.finding(
                    f"the column {header!r} is not in the mapping; its values are not read",
                    self.where.at(position, found[0])))
            elif len(found) > 1:
                self.sink.add(HEADER_DUPLICATE.finding(
                    f"the header {header!r} appears more than once; each copy must have its own name",
                    self.where.at(position, found[1])))
                ok = False
            else:
                self.kept.append((header, found[0]))
        return ok

    # -- rows

    def row(self, position: int, cells: Sequence[Any]) -> BaseModel | None:
        index = self.records
        data: dict[str, Any] = {}
        failed = not self._mapped_cells(position, cells, index, data)
        for path, value in self.mapping.defaults.items():
            if not _has_path(data, path):
                _set_path(data, path, value)
        if self.kept:
            self._keep_unmapped(cells, data)
        if self.unnamed and self.unnamed != self.warned_unnamed:
            self._warn_unnamed(position, cells)
        if failed:
            return None
        record = self._validated(data, position, index)
        if record is None or not self._check_ranges(record, position, index):
            return None
        self.records += 1
        return record

    def _mapped_cells(self, position: int, cells: Sequence[Any], index: int, data: dict[str, Any]) -> bool:
        """Put the row's mapped cells into ``data``; False when one of them gave an error."""
        ok = True
        width = len(cells)
        for col, at, plain in self.plan:
            raw = cells[at] if at < width else None
            if type(raw) is str:
                raw = raw.strip() or None
            if raw is None:
                if col.spec.required:
                    self.sink.add(REQUIRED_EMPTY.finding(f"the column {col.header!r} must not be empty",
                                                         self._loc(_Spot(position, at, index, col.info.path))))
                    ok = False
                continue
            if plain and type(raw) is str:  # a text field without value map or pattern: the common case
                value: Any = raw
            else:
                spot = _Spot(position, at, index, col.info.path)
                value = self._convert_cell(col, raw, spot)
                if value is _FAIL:
                    ok = False
                    continue
                if col.pattern is not None and not self._split(col, value, data, index, spot):
                    ok = False
            _set_path(data, col.info.path, value)
        return ok

    def _keep_unmapped(self, cells: Sequence[Any], data: dict[str, Any]) -> None:
        """The cells of unmapped columns that are kept, in ``extra`` (dates as text)."""
        width = len(cells)
        extra = data.setdefault("extra", {})
        for header, at in self.kept:
            raw = _clean(cells[at]) if at < width else None
            if raw is not None:
                extra[header] = _as_text(raw) if isinstance(raw, datetime | date) else raw

    def _validated(self, data: dict[str, Any], position: int, index: int) -> BaseModel | None:
        """The canonical record, or None with a finding per field the model refuses."""
        try:
            return self.mapping.record_class.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                path = ".".join(str(p) for p in err["loc"])
                column = self._column_of(path)
                where = self.where.at(position, column[1] if column else None, self._pointer(index, path))
                named = f"the column {column[0].header!r}" if column else f"the field {path}"
                self.sink.add(FIELD_INVALID.finding(f"{named}: {err['msg']}", where))
            return None

    def _warn_unnamed(self, position: int, cells: Sequence[Any]) -> None:
        for at in sorted(self.unnamed - self.warned_unnamed):
            if at < len(cells) and _clean(cells[at]) is not None:
                self.warned_unnamed.add(at)
                self.sink.add(COLUMN_UNNAMED.finding(
                    f"column {get_column_letter(at + 1)} has values but no header; give it a header to keep them",
                    self.where.at(position, at)))

    def _column_of(self, path: str) -> tuple[CompiledColumn, int] | None:
        for col, at in self.positions:
            if col.info.path == path or any(g is not None and g.path == path for g in col.groups.values()):
                return col, at
        return None

    def _split(self, col: CompiledColumn, value: Any, data: dict[str, Any], index: int, loc: _Spot) -> bool:
        assert col.pattern is not None
        match = col.pattern.fullmatch(str(value))
        if match is None:
            self.sink.add(SERIAL_PATTERN.finding(
                f"the column {col.header!r} has {value!r}, which does not match the pattern "
                f"{col.pattern.pattern!r} of the mapping", self._loc(loc)))
            return False
        ok = True
        for name, info in col.groups.items():
            text = match.group(name)
            if info is None or text is None:
                continue
            part = self.convert(info, text, loc, col)
            if part is _FAIL:
                ok = False
            else:
                _set_path(data, info.path, part)
        return ok

    def _check_ranges(self, record: BaseModel, position: int, index: int) -> bool:
        ok = True
        blocks: list[tuple[str, str, str, Any]] = []
        if self.mapping.spec.record == "unit_block":
            blocks.append(("first_id", "last_id", "quantity", record))
        else:
            if hasattr(record, "first_id"):
                blocks.append(("first_id", "last_id", "quantity", record))
            units = getattr(record, "units", None)
            if units is not None:
                blocks.append(("units.first_id", "units.last_id", "units.quantity", units))
        for first_path, last_path, qty_path, holder in blocks:
            first = getattr(holder, first_path.rsplit(".", 1)[-1])
            last = getattr(holder, last_path.rsplit(".", 1)[-1])
            quantity = getattr(holder, qty_path.rsplit(".", 1)[-1])
            if first is None or last is None:
                continue
            if last < first:
                column = self._column_of(last_path)
                loc = self.where.at(position, column[1] if column else None, self._pointer(index, last_path))
                self.sink.add(RANGE_ORDER.finding(f"the last serial {last} is below the first serial {first}", loc))
                ok = False
                continue
            if quantity is not None and quantity != last - first + 1:
                column = self._column_of(qty_path)
                qloc = self.where.at(position, column[1] if column else None, self._pointer(index, qty_path))
                self.sink.add(QUANTITY_RANGE.finding(
                    f"the quantity {quantity} differs from the {last - first + 1} serials {first} to {last}", qloc))
                ok = False
        return ok


def _read_rows(mapping: CompiledMapping, rows: Iterable[tuple[int, int, Sequence[Any]]], where: _Where,
               findings: list[Finding]) -> Iterator[BaseModel]:
    """Records from ``(ordinal, position, cells)`` rows; ordinal counts rows for ``header_row``."""
    sink = _FindingSink(findings)
    reader = _RowReader(mapping, where, sink)
    header_row = mapping.spec.header_row
    seen_header = False
    last_position = 0
    for ordinal, position, cells in rows:
        last_position = position
        if ordinal < header_row:
            continue
        if ordinal == header_row:
            seen_header = True
            if not reader.header(position, cells):
                return
            continue
        if all(_clean(c) is None for c in cells):
            continue
        record = reader.row(position, cells)
        if record is not None:
            yield record
        if sink.full:
            return
    if not seen_header:
        sink.add(HEADER_MISSING.finding(
            f"the file ends before row {header_row}, where the mapping {mapping.name!r} expects the headers",
            where.at(max(last_position, 1), None)))
    elif reader.records == 0 and not any(f.is_error for f in findings):
        sink.add(NO_RECORDS.finding("the sheet has a header row but no data rows", where.at(last_position, None)))
