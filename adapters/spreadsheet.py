"""The spreadsheet adapter: a registry kept in Excel or CSV, read and written through a mapping.

The layout is not coded here; a declarative mapping (``adapters/spreadsheet_mapping.py``, guide
in ``docs/adapters/spreadsheet.md``) says which column holds which canonical field, how values,
dates, numbers and serial numbers are written. Choose the mapping with
``CARBONLINK_SPREADSHEET_MAPPING`` (a file path or a built-in name) or pass it directly::

    SpreadsheetAdapter("credit-block-ledger").parse(data, medium=Medium.CSV)

Every row becomes one canonical record (action, holding, unit block or project). Problems in a
cell become coded findings that point at the CSV line or the sheet cell; a file that cannot be
read at all raises a coded :class:`~standards.errors.InputError`. ``serialize`` writes the
mapped columns back and reports, as losses, every canonical value no column can hold.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel
from pydantic import BaseModel, ValidationError

from adapters._streams import as_binary_stream, byte_chunks
from adapters.protocol import ByteStream
from adapters.spreadsheet_mapping import (
    CompiledColumn,
    CompiledMapping,
    FieldInfo,
    MappingError,
    SpreadsheetMapping,
    load_mapping,
    mapping_from_env,
)
from standards import (
    CanonicalDocument,
    Finding,
    FormatCodec,
    InputTooLarge,
    Layer,
    Location,
    Loss,
    MalformedInput,
    Medium,
    MessageKind,
    ParseResult,
    RuleCatalogue,
    SerializeResult,
    Severity,
    UnknownParty,
    UnsupportedEncoding,
    json_pointer,
    max_input_bytes,
    party_name,
    to_alpha2,
    to_alpha3,
)
from standards.tabular import (
    UnwritableCell,
    XlsxWriter,
    iter_csv_records,
    iter_sheet_rows,
    read_csv_records,
    read_workbook,
    write_csv_bytes,
)

MappingRef = str | Path | SpreadsheetMapping | CompiledMapping | dict[str, Any]
#: Reading stops (with an error finding) after this many findings.
MAX_FINDINGS = 1000
#: Excel keeps 15 significant digits; longer integers and decimals are written as text cells.
EXCEL_DIGITS = 15

_DOC = "docs/adapters/spreadsheet.md"
RULES = RuleCatalogue("spreadsheet")
_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO
HEADER_MISSING = RULES.add("SPREADSHEET.HEADER_MISSING", severity=_E, layer=Layer.STRUCTURE,
                           title="The header row is missing or empty", reference=f"{_DOC} §header_row")
SHEET_MISSING = RULES.add("SPREADSHEET.SHEET_MISSING", severity=_E, layer=Layer.STRUCTURE,
                          title="The workbook has no sheet of the mapped name", reference=f"{_DOC} §sheet")
COLUMN_MISSING = RULES.add("SPREADSHEET.COLUMN_MISSING", severity=_E, layer=Layer.STRUCTURE,
                           title="A required mapped column is not in the header",
                           reference=f"{_DOC} §columns.required")
COLUMN_ABSENT = RULES.add("SPREADSHEET.COLUMN_ABSENT", severity=_W, layer=Layer.STRUCTURE,
                          title="An optional mapped column is not in the header", reference=f"{_DOC} §columns")
HEADER_DUPLICATE = RULES.add("SPREADSHEET.HEADER_DUPLICATE", severity=_E, layer=Layer.STRUCTURE,
                             title="Two columns have the same header", reference=f"{_DOC} §header_match")
COLUMN_UNMAPPED = RULES.add("SPREADSHEET.COLUMN_UNMAPPED", severity=_I, layer=Layer.STRUCTURE,
                            title="A column the mapping does not name", reference=f"{_DOC} §unmapped_columns")
COLUMN_UNNAMED = RULES.add("SPREADSHEET.COLUMN_UNNAMED", severity=_W, layer=Layer.STRUCTURE,
                           title="Values in a column without a header were not read",
                           reference=f"{_DOC} §columns")
NO_RECORDS = RULES.add("SPREADSHEET.NO_RECORDS", severity=_W, layer=Layer.STRUCTURE,
                       title="The sheet has a header but no data rows", reference=f"{_DOC} §header_row")
TOO_MANY_FINDINGS = RULES.add("SPREADSHEET.TOO_MANY_FINDINGS", severity=_E, layer=Layer.STRUCTURE,
                              title=f"Reading stopped after {MAX_FINDINGS} findings", reference=_DOC)
REQUIRED_EMPTY = RULES.add("SPREADSHEET.REQUIRED_EMPTY", severity=_E, layer=Layer.FIELD,
                           title="A required cell is empty", reference=f"{_DOC} §columns.required")
VALUE_UNMAPPED = RULES.add("SPREADSHEET.VALUE_UNMAPPED", severity=_E, layer=Layer.CODE_LIST,
                           title="A value the column's value map does not list", reference=f"{_DOC} §columns.values")
VALUE_UNKNOWN = RULES.add("SPREADSHEET.VALUE_UNKNOWN", severity=_E, layer=Layer.CODE_LIST,
                          title="Not one of the canonical values of the field",
                          reference="UNFCCC common nomenclature (CN 25(b)) / carbonlink canonical model")
PARTY = RULES.add("SPREADSHEET.PARTY", severity=_E, layer=Layer.CODE_LIST,
                  title="Not a Party (ISO 3166-1 code or country name)", reference="ISO 3166-1")
NUMBER = RULES.add("SPREADSHEET.NUMBER", severity=_E, layer=Layer.FIELD,
                   title="Not a number of the expected form", reference=f"{_DOC} §numbers")
DATE = RULES.add("SPREADSHEET.DATE", severity=_E, layer=Layer.FIELD,
                 title="Not a date in the mapped format", reference=f"{_DOC} §date_formats")
DATE_SERIAL = RULES.add("SPREADSHEET.DATE_SERIAL", severity=_W, layer=Layer.FIELD,
                        title="A date stored as an Excel day number", reference=f"{_DOC} §date_formats")
SERIAL_PATTERN = RULES.add("SPREADSHEET.SERIAL_PATTERN", severity=_E, layer=Layer.FIELD,
                           title="The cell does not match the column's pattern", reference=f"{_DOC} §columns.pattern")
FIELD_INVALID = RULES.add("SPREADSHEET.FIELD_INVALID", severity=_E, layer=Layer.FIELD,
                          title="The value is not acceptable for the canonical field",
                          reference="carbonlink canonical model (standards/model.py)")
RANGE_ORDER = RULES.add("SPREADSHEET.RANGE_ORDER", severity=_E, layer=Layer.FIELD,
                        title="The last serial is below the first",
                        reference="decision 6/CMA.4, annex I, para 5 (FirstID <= LastID)")
QUANTITY_RANGE = RULES.add("SPREADSHEET.QUANTITY_RANGE", severity=_E, layer=Layer.FIELD,
                           title="The quantity differs from the length of the serial range",
                           reference="decision 6/CMA.4, annex I, para 5 (a block holds last - first + 1 units)")
VALUE_NO_NATIVE = RULES.add("SPREADSHEET.VALUE_NO_NATIVE", severity=_E, layer=Layer.CODE_LIST,
                            title="The value map has no native spelling for a canonical value",
                            reference=f"{_DOC} §columns.values")

_KINDS: dict[str, frozenset[MessageKind]] = {
    "action": frozenset({MessageKind.ACTIONS, MessageKind.ISSUANCES, MessageKind.TRANSFERS,
                         MessageKind.RETIREMENTS, MessageKind.CANCELLATIONS}),
    "holding": frozenset({MessageKind.HOLDINGS}),
    "unit_block": frozenset({MessageKind.UNIT_BLOCKS}),
    "project": frozenset({MessageKind.PROJECTS}),
}
_ALL_KINDS = frozenset().union(*_KINDS.values())
_DOCUMENT_LISTS = ("authorizations", "actions", "holdings", "authorized_entities", "projects", "units")


class _Fail:
    """Marks a cell that could not be converted (its finding is already recorded)."""


_FAIL = _Fail()


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class _Where:
    """Where rows come from: a CSV file (line numbers) or a sheet (cells)."""

    sheet: str | None = None

    def at(self, position: int, column: int | None, pointer: str = "") -> Location:
        if self.sheet is None:
            return Location(pointer=pointer, line=position)
        cell = f"{get_column_letter(column + 1)}{position}" if column is not None else f"A{position}"
        return Location(pointer=pointer, sheet=self.sheet, cell=cell)


class _Spot(NamedTuple):
    """A cell, located only when a finding needs it (building locations for every cell is slow)."""

    position: int
    column: int | None
    record: int
    path: str


class _FindingSink:
    """Collects findings; past :data:`MAX_FINDINGS` it records one last error and says stop."""

    def __init__(self, out: list[Finding]) -> None:
        self.out = out
        self.count = 0
        self.full = False

    def add(self, finding: Finding) -> None:
        if self.full:
            return
        self.count += 1
        if self.count > MAX_FINDINGS:
            self.full = True
            self.out.append(TOO_MANY_FINDINGS.finding(
                f"more than {MAX_FINDINGS} problems; reading stopped here. Fix these and read the file again.",
                finding.location))
            return
        self.out.append(finding)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _as_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


@lru_cache(maxsize=32)
def _enum_lookup(enum: type[StrEnum]) -> dict[str, StrEnum]:
    """Members of a canonical vocabulary by value and by normalized value."""
    table: dict[str, StrEnum] = {_norm(m.value): m for m in enum}
    table.update({m.value: m for m in enum})
    return table


def _set_path(data: dict[str, Any], path: str, value: Any) -> None:
    head, _, rest = path.partition(".")
    if not rest:
        data[head] = value
        return
    data.setdefault(head, {})[rest] = value


def _has_path(data: dict[str, Any], path: str) -> bool:
    head, _, rest = path.partition(".")
    if not rest:
        return head in data
    inner = data.get(head)
    return isinstance(inner, dict) and rest in inner


class _CellConverter:
    """Converts cells to canonical values, reporting what cannot be converted."""

    def __init__(self, mapping: CompiledMapping, where: _Where, sink: _FindingSink) -> None:
        self.mapping = mapping
        self.where = where
        self.sink = sink
        self.list = mapping.document_list
        spec = mapping.spec
        self.thousands = spec.numbers.thousands_separator
        self.decimal = spec.numbers.decimal_separator

    def _pointer(self, index: int, path: str) -> str:
        return json_pointer([self.list, index, *path.split(".")])

    def _loc(self, spot: _Spot) -> Location:
        return self.where.at(spot.position, spot.column, self._pointer(spot.record, spot.path))

    def _convert_cell(self, col: CompiledColumn, raw: Any, loc: _Spot) -> Any:
        if col.read_values:
            key = _norm(_as_text(raw))
            if key in col.read_values:
                return self.convert(col.info, col.read_values[key], loc, col)
            if col.spec.strict_values:
                listed = ", ".join(repr(v) for v in col.spec.values or {})
                self.sink.add(VALUE_UNMAPPED.finding(
                    f"the column {col.header!r} has {_as_text(raw)!r}, which the mapping does not list "
                    f"(listed: {listed})", self._loc(loc)))
                return _FAIL
        return self.convert(col.info, raw, loc, col)

    def convert(self, info: FieldInfo, raw: Any, loc: _Spot, col: CompiledColumn) -> Any:
        """One cell value as the canonical field's type, or ``_FAIL`` after recording a finding."""
        kind = info.kind
        header = col.header
        if kind == "text":
            return _as_text(raw)
        if kind == "party":
            try:
                return to_alpha3(_as_text(raw))[0]
            except UnknownParty:
                self.sink.add(PARTY.finding(
                    f"the column {header!r} has {_as_text(raw)!r}, which is not an ISO 3166-1 code or a country "
                    "name", self._loc(loc)))
                return _FAIL
        if kind == "enum":
            assert info.enum is not None
            text = _as_text(raw)
            member = _enum_lookup(info.enum).get(text) or _enum_lookup(info.enum).get(_norm(text))
            if member is not None:
                return member
            allowed = ", ".join(m.value for m in info.enum)
            self.sink.add(VALUE_UNKNOWN.finding(
                f"the column {header!r} has {text!r}; {info.path} must be one of: {allowed} "
                "(or add a 'values' map to the mapping)", self._loc(loc)))
            return _FAIL
        if kind in ("integer", "decimal"):
            return self._number(info, raw, loc, header)
        return self._date(info, raw, loc, col)

    def _number(self, info: FieldInfo, raw: Any, loc: _Spot, header: str) -> Any:
        integer = info.kind == "integer"
        if isinstance(raw, bool):
            number: Decimal | None = None
        elif isinstance(raw, int):
            number = Decimal(raw)
        elif isinstance(raw, float):
            number = Decimal(repr(raw))
        elif isinstance(raw, Decimal):
            number = raw
        elif isinstance(raw, str) and raw.isascii() and raw.isdigit():
            return int(raw) if integer else Decimal(raw)
        else:
            text = _as_text(raw)
            if self.thousands:
                text = text.replace(self.thousands, "")
            if self.decimal != ".":
                text = text.replace(".", "\x00").replace(self.decimal, ".")
            number = None
            if re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text):
                try:
                    number = Decimal(text)
                except InvalidOperation:
                    number = None
        if number is None or not number.is_finite() or (integer and number != number.to_integral_value()):
            expected = "a whole number" if integer else "a number"
            hint = f" (decimal mark {self.decimal!r}" + (f", groups {self.thousands!r})" if self.thousands else ")")
            self.sink.add(NUMBER.finding(f"the column {header!r} has {_as_text(raw)!r}, not {expected}{hint}",
                                         self._loc(loc)))
            return _FAIL
        return int(number) if integer else number

    def _date(self, info: FieldInfo, raw: Any, loc: _Spot, col: CompiledColumn) -> Any:
        header = col.header
        moment: datetime | None = None
        if isinstance(raw, datetime):
            moment = raw
        elif isinstance(raw, date):
            moment = datetime(raw.year, raw.month, raw.day)
        elif isinstance(raw, int | float) and not isinstance(raw, bool) and self.where.sheet is not None:
            try:
                converted = from_excel(raw)
            except (ValueError, OverflowError, TypeError):
                converted = None
            if isinstance(converted, datetime) and 1900 <= converted.year <= 2100:
                moment = converted
                self.sink.add(DATE_SERIAL.finding(
                    f"the column {header!r} holds the number {raw!r}, read as the Excel date "
                    f"{converted.date().isoformat()}; format the cells as dates", self._loc(loc)))
        else:
            text = _as_text(raw)
            for fmt in col.date_formats:
                try:
                    moment = fmt.parse(text)
                    break
                except ValueError:
                    continue
        if moment is None:
            formats = " or ".join(f.text for f in col.date_formats)
            self.sink.add(DATE.finding(f"the column {header!r} has {_as_text(raw)!r}, not a date written {formats}",
                                       self._loc(loc)))
            return _FAIL
        if info.kind == "datetime":
            return moment
        if moment.time() != time(0, 0):
            self.sink.add(DATE.finding(
                f"the column {header!r} has a time of day ({_as_text(raw)!r}) but {info.path} holds a date only",
                self._loc(loc)))
            return _FAIL
        return moment.date()


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
        failed = False
        width = len(cells)
        for col, at, plain in self.plan:
            raw = cells[at] if at < width else None
            if type(raw) is str:
                raw = raw.strip() or None
            if raw is None:
                if col.spec.required:
                    self.sink.add(REQUIRED_EMPTY.finding(f"the column {col.header!r} must not be empty",
                                                         self._loc(_Spot(position, at, index, col.info.path))))
                    failed = True
                continue
            if plain and type(raw) is str:  # a text field without value map or pattern: the common case
                value: Any = raw
            else:
                spot = _Spot(position, at, index, col.info.path)
                value = self._convert_cell(col, raw, spot)
                if value is _FAIL:
                    failed = True
                    continue
                if col.pattern is not None and not self._split(col, value, data, index, spot):
                    failed = True
            _set_path(data, col.info.path, value)
        for path, value in self.mapping.defaults.items():
            if not _has_path(data, path):
                _set_path(data, path, value)
        if self.kept:
            extra = data.setdefault("extra", {})
            for header, at in self.kept:
                raw = _clean(cells[at]) if at < width else None
                if raw is not None:
                    extra[header] = _as_text(raw) if isinstance(raw, datetime | date) else raw
        if self.unnamed and self.unnamed != self.warned_unnamed:
            self._warn_unnamed(position, cells)
        if failed:
            return None
        try:
            record = self.mapping.record_class.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                path = ".".join(str(p) for p in err["loc"])
                column = self._column_of(path)
                where = self.where.at(position, column[1] if column else None, self._pointer(index, path))
                named = f"the column {column[0].header!r}" if column else f"the field {path}"
                self.sink.add(FIELD_INVALID.finding(f"{named}: {err['msg']}", where))
            return None
        if not self._check_ranges(record, position, index):
            return None
        self.records += 1
        return record

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
            blocks.append(("serial_first", "serial_last", "quantity", record))
        else:
            if hasattr(record, "first_id"):
                blocks.append(("first_id", "last_id", "quantity", record))
            units = getattr(record, "units", None)
            if units is not None:
                blocks.append(("units.serial_first", "units.serial_last", "units.quantity", units))
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


def _transcoded(chunks: Iterator[bytes], encoding: str) -> Iterator[bytes]:
    """The chunks re-encoded from ``encoding`` to UTF-8 (as they are, for UTF-8)."""
    if encoding == "utf-8":
        yield from chunks
        return
    decoder = codecs.getincrementaldecoder(encoding)()
    consumed = 0
    for chunk in chunks:
        if not chunk:
            continue
        consumed += len(chunk)
        try:
            yield decoder.decode(chunk).encode("utf-8")
        except UnicodeDecodeError as exc:
            raise UnsupportedEncoding(f"the CSV file is not valid {exc.encoding} near byte {consumed}") from exc


def _read_capped(stream: ByteStream, limit: int | None = None) -> bytes:
    """All of a stream, refusing more than ``limit`` (default ``CARBONLINK_MAX_INPUT_BYTES``) bytes
    before holding it all."""
    cap = max_input_bytes() if limit is None else limit
    if hasattr(stream, "read"):
        data = bytes(stream.read(cap + 1))
    else:
        parts: list[bytes] = []
        size = 0
        for chunk in stream:
            size += len(chunk)
            if size > cap:
                break
            parts.append(chunk)
        if size > cap:
            raise InputTooLarge(f"the workbook is over the limit of {cap} bytes")
        data = b"".join(parts)
    if len(data) > cap:
        raise InputTooLarge(f"the workbook is over the limit of {cap} bytes")
    return data


def _encode_legacy(data: bytes, encoding: str) -> bytes:
    text = data.removeprefix(codecs.BOM_UTF8).decode("utf-8")
    try:
        return text.encode(encoding)
    except UnicodeEncodeError as exc:
        line = text.count("\n", 0, exc.start) + 1
        raise UnwritableCell(f"line {line} holds {text[exc.start]!r}, which {encoding} cannot store; use a UTF-8 "
                             "mapping") from None


def _transcode(data: bytes, encoding: str) -> bytes:
    if encoding == "utf-8":
        return data
    try:
        return data.decode(encoding).encode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnsupportedEncoding(f"the CSV file is not valid {encoding} at byte {exc.start}") from None


# --------------------------------------------------------------------------- writing


def _get_path(record: BaseModel, path: str) -> Any:
    head, _, rest = path.partition(".")
    if head == "extra":
        return _extra(record).get(rest)
    value = getattr(record, head, None)
    if rest and value is not None:
        return _get_path(value, rest)
    return value


def _extra(record: BaseModel) -> dict[str, Any]:
    extra = getattr(record, "extra", None)
    return extra if isinstance(extra, dict) else {}


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def _set_values(record: BaseModel, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every canonical path with a value, nested block and ``extra`` keys included."""
    for name in type(record).model_fields:
        value = getattr(record, name)
        if name == "extra":
            for key, item in value.items():
                if _present(item):
                    yield f"{prefix}extra.{key}", item
        elif isinstance(value, BaseModel):
            yield from _set_values(value, f"{prefix}{name}.")
        elif _present(value):
            yield f"{prefix}{name}", value


class _RowWriter:
    """Renders canonical records as rows of the mapped columns and tracks what they cannot hold."""

    def __init__(self, mapping: CompiledMapping, medium: Medium, xlsx: XlsxWriter | None, sheet: Any) -> None:
        self.mapping = mapping
        self.medium = medium
        self.xlsx = xlsx
        self.sheet = sheet
        self.findings: list[Finding] = []
        self.lost: dict[tuple[str, str], list[str]] = {}
        self.decimal = mapping.spec.numbers.decimal_separator
        self.recorded: set[str] = set()

    def lose(self, path: str, record_id: str, reason: str) -> None:
        self.recorded.add(path)
        self.lost.setdefault((f"{self.mapping.document_list}.{path}", reason), []).append(record_id)

    def row(self, record: BaseModel, record_id: str, pointer: str, kept: list[str]) -> list[Any]:
        faithful: set[str] = set()
        cells: list[Any] = []
        for col in self.mapping.columns:
            value = _get_path(record, col.info.path)
            if col.pattern is not None:
                value = self._pattern_value(col, record, value, record_id, pointer, faithful)
            if value is None:
                cells.append(None)
                continue
            cell, exact = self._render(col, col.info, value, record_id, pointer)
            if exact:
                faithful.add(col.info.path)
            cells.append(cell)
        for header in kept:
            value = _extra(record).get(header)
            cells.append(self._plain(value))
            faithful.add(f"extra.{header}")
        for path, value in _set_values(record):
            if path in faithful or path in self.recorded:
                continue
            default = self.mapping.defaults.get(path)
            if default is not None and default == value:
                continue
            if path in self.mapping.covered:
                reason = f"the mapping {self.mapping.name!r} cannot write this value exactly in its columns"
            elif default is not None:
                reason = f"the mapping {self.mapping.name!r} fixes {path} to {default!r} and has no column for it"
            else:
                reason = f"the mapping {self.mapping.name!r} has no column for it"
            self.lose(path, record_id, reason)
        self.recorded.clear()
        return cells

    def _pattern_value(self, col: CompiledColumn, record: BaseModel, verbatim: Any, record_id: str,
                       pointer: str, faithful: set[str]) -> Any:
        """The pattern cell: the verbatim value when it matches, else one built from ``format``."""
        assert col.pattern is not None
        parts = {name: _get_path(record, info.path) for name, info in col.groups.items() if info is not None}
        if verbatim is not None:
            match = col.pattern.fullmatch(str(verbatim))
            if match is not None:
                for name, info in col.groups.items():
                    if info is None:
                        continue
                    text = match.group(name)
                    if text is not None and _same(info, text, parts[name]):
                        faithful.add(info.path)
                return verbatim
        if col.spec.format is not None and all(parts.get(n) is not None for n in _format_names(col.spec.format)):
            rendered = {n: self._group_text(col, col.groups[n], parts[n]) for n in _format_names(col.spec.format)}
            built = col.spec.format.format(**rendered)
            if col.pattern.fullmatch(built) is not None:
                for name in rendered:
                    info = col.groups[name]
                    if info is not None:
                        faithful.add(info.path)
                if verbatim is not None:
                    self.lose(col.info.path, record_id,
                              f"{verbatim!r} does not match the pattern of {col.header!r}; the cell was rebuilt "
                              "from its parts")
                return built
        if verbatim is not None:
            self.findings.append(SERIAL_PATTERN.finding(
                f"{verbatim!r} does not match the pattern of the column {col.header!r} and the mapping has no "
                "'format' to rebuild it", Location(pointer=pointer)))
        return verbatim

    def _group_text(self, col: CompiledColumn, info: FieldInfo | None, value: Any) -> str:
        if info is not None and info.kind == "party":
            return _party_text(str(value), col.spec.party_format)
        if isinstance(value, Decimal):
            return format(value, "f")
        return str(value.value if hasattr(value, "value") else value)

    def _render(self, col: CompiledColumn, info: FieldInfo, value: Any, record_id: str,
                pointer: str) -> tuple[Any, bool]:
        """The cell for one value and whether it holds the value exactly."""
        if col.write_values:
            canonical = str(value.value if hasattr(value, "value") else value)
            native = col.write_values.get(canonical)
            if native is not None:
                return native, True
            if col.spec.strict_values:
                self.findings.append(VALUE_NO_NATIVE.finding(
                    f"the column {col.header!r} has no native spelling for {canonical!r} in the mapping's "
                    "'values'; add one", Location(pointer=pointer)))
        kind = info.kind
        if kind == "party":
            return _party_text(str(value), col.spec.party_format), True
        if kind in ("date", "datetime"):
            return self._date_cell(col, value, record_id)
        if kind == "decimal":
            return self._decimal_cell(value), True
        if kind == "integer":
            if self.medium is Medium.XLSX and abs(int(value)) >= 10**EXCEL_DIGITS:
                return str(value), True
            return int(value), True
        if kind == "enum":
            return str(value.value), True
        return self._plain(value), True

    def _plain(self, value: Any) -> Any:
        if isinstance(value, Decimal):
            return self._decimal_cell(value)
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, int | str) or value is None:
            return value
        if isinstance(value, float):
            return self._decimal_cell(Decimal(repr(value)))
        return str(value)

    def _decimal_cell(self, value: Decimal) -> Any:
        if self.medium is Medium.XLSX:
            if len(value.as_tuple().digits) > EXCEL_DIGITS:
                return format(value, "f")
            return int(value) if value == value.to_integral_value() else value
        text = format(value, "f")
        return text.replace(".", self.decimal) if self.decimal != "." else Decimal(text)

    def _date_cell(self, col: CompiledColumn, value: Any, record_id: str) -> tuple[Any, bool]:
        fmt = col.date_formats[0]
        exact = True
        if isinstance(value, datetime):
            if value.tzinfo is not None:
                value = value.astimezone(UTC).replace(tzinfo=None)
            if not fmt.has_time and value.time() != time(0, 0):
                exact = False
                self.lose(col.info.path, record_id,
                          f"the column {col.header!r} is written {fmt.text}, which holds no time of day")
        if self.medium is Medium.XLSX and self.xlsx is not None:
            if col.info.kind == "date" and isinstance(value, datetime):
                value = value.date()
            return self.xlsx.cell(self.sheet, value, number_format=fmt.excel_number_format), exact
        return fmt.format(value), exact


def _format_names(template: str) -> list[str]:
    return re.findall(r"\{([^{}]+)\}", template)


def _party_text(alpha3: str, form: str) -> str:
    try:
        if form == "alpha-2":
            return to_alpha2(alpha3)
        if form == "name":
            return party_name(alpha3)
    except UnknownParty:
        return alpha3
    return alpha3


def _same(info: FieldInfo, text: str, value: Any) -> bool:
    if value is None:
        return False
    if info.kind == "party":
        try:
            return bool(to_alpha3(text)[0] == value)
        except UnknownParty:
            return False
    if info.kind in ("integer", "decimal"):
        try:
            return Decimal(text) == Decimal(str(value))
        except InvalidOperation:
            return False
    if info.kind == "enum":
        return _norm(text) == _norm(str(getattr(value, "value", value)))
    return text == str(value)


# --------------------------------------------------------------------------- the adapter


class SpreadsheetAdapter(FormatCodec):
    """CSV/XLSX registers read and written through a declarative mapping.

    ``SpreadsheetAdapter()`` uses ``CARBONLINK_SPREADSHEET_MAPPING`` (a path or a built-in name;
    default ``ministry-itmo-ledger``); ``SpreadsheetAdapter(mapping)`` takes a name, a path, a dict
    or a :class:`~adapters.spreadsheet_mapping.SpreadsheetMapping`. A bad mapping raises
    :class:`~adapters.spreadsheet_mapping.MappingError` naming the key; from the environment it is
    raised at first use, so the other adapters still load. ``name`` registers a second mapping
    beside the first one (``SpreadsheetAdapter("credit-block-ledger", name="vu-blocks")``).
    """

    name = "spreadsheet"
    version = "1.0.0"
    media: tuple[Medium, ...] = (Medium.CSV, Medium.XLSX)
    rules = RULES

    def __init__(self, mapping: MappingRef | None = None, *, name: str | None = None) -> None:
        if name is not None:
            self.name = name
        self._error: MappingError | None = None
        self._mapping: CompiledMapping | None = None
        if mapping is not None:
            self._mapping = load_mapping(mapping)
        else:
            try:
                self._mapping = mapping_from_env()
            except MappingError as exc:
                self._error = exc
        if self._mapping is not None:
            spec = self._mapping.spec
            self.reads = self.writes = _KINDS[spec.record]
            self.description = (f"Excel/CSV register through the mapping {spec.name!r}"
                                + (f": {spec.description}" if spec.description else ""))
        else:
            self.reads = self.writes = _ALL_KINDS
            self.description = "Excel/CSV register through a declarative mapping (the configured one is invalid)"

    @property
    def mapping(self) -> CompiledMapping:
        if self._mapping is None:
            assert self._error is not None
            raise self._error
        return self._mapping

    # -- reading

    def parse(self, data: bytes, *, medium: Medium) -> ParseResult:
        self.check_medium(medium)
        mapping = self.mapping
        findings: list[Finding] = []
        records = list(self._records(data, medium, mapping, findings))
        document = CanonicalDocument(**{mapping.document_list: records})
        return ParseResult(document=document, findings=findings)

    def iter_records(self, stream: ByteStream, *, medium: Medium, findings: list[Finding] | None = None,
                     limit: int | None = None) -> Iterator[BaseModel]:
        """Yield canonical records one by one; CSV is read in bounded memory.

        Findings go to ``findings`` when given. A workbook must be read whole (XLSX is a zip whose
        directory is at its end), but its rows are still walked one at a time. At most ``limit``
        bytes are read (default ``CARBONLINK_MAX_INPUT_BYTES``).
        """
        self.check_medium(medium)
        mapping = self.mapping
        sink = findings if findings is not None else []
        if medium is Medium.XLSX:
            yield from self._records(_read_capped(stream, limit), medium, mapping, sink)
            return
        reader = as_binary_stream(_transcoded(byte_chunks(stream), mapping.spec.csv.encoding))
        rows = ((i, rec.line, rec.cells) for i, rec in enumerate(iter_csv_records(reader, limit=limit), 1))
        yield from _read_rows(mapping, rows, _Where(), sink)

    def _records(self, data: bytes, medium: Medium, mapping: CompiledMapping,
                 findings: list[Finding]) -> Iterator[BaseModel]:
        if medium is Medium.CSV:
            records = read_csv_records(_transcode(data, mapping.spec.csv.encoding))
            rows: Iterable[tuple[int, int, Sequence[Any]]] = (
                (i, rec.line, rec.cells) for i, rec in enumerate(records, 1))
            yield from _read_rows(mapping, rows, _Where(), findings)
            return
        workbook = read_workbook(data)
        try:
            wanted = mapping.spec.sheet
            names = list(workbook.sheetnames)
            if wanted is not None and wanted not in names:
                findings.append(SHEET_MISSING.finding(
                    f"the workbook has no sheet named {wanted!r} (it has: {', '.join(names)})",
                    Location(pointer="", sheet=wanted)))
                return
            if not names:
                raise MalformedInput("the workbook has no sheets", code="INPUT.XLSX")
            sheet = workbook[wanted] if wanted is not None else workbook[names[0]]
            rows = ((n, n, cells) for n, cells in iter_sheet_rows(sheet))
            yield from _read_rows(mapping, rows, _Where(sheet=sheet.title), findings)
        finally:
            workbook.close()

    # -- writing

    def serialize(self, document: CanonicalDocument, *, medium: Medium) -> SerializeResult:
        self.check_medium(medium)
        mapping = self.mapping
        spec = mapping.spec
        losses: list[Loss] = []
        for attr in _DOCUMENT_LISTS:
            items = getattr(document, attr)
            if attr != mapping.document_list and items:
                losses.append(Loss(attr, tuple(f"{attr}[{i}]" for i in range(len(items))),
                                   f"the mapping {spec.name!r} writes {mapping.document_list} only"))
        if document.submission is not None:
            losses.append(Loss("submission", ("submission",), f"the mapping {spec.name!r} has no submission header"))
        records: list[BaseModel] = list(getattr(document, mapping.document_list))
        headers = [c.header for c in mapping.columns]
        kept = self._kept_extra(records, headers) if spec.unmapped_columns == "keep" else []
        xlsx = XlsxWriter() if medium is Medium.XLSX else None
        sheet = xlsx.add_sheet(spec.sheet or "Sheet1") if xlsx is not None else None
        writer = _RowWriter(mapping, medium, xlsx, sheet)
        width = len(headers) + len(kept)
        rows: list[list[Any]] = []
        for n in range(1, spec.header_row):
            rows.append([spec.title if n == 1 and spec.title else None] + [None] * (width - 1))
        rows.append(headers + kept)
        for i, record in enumerate(records):
            record_id = f"{mapping.document_list}[{i}]"
            rows.append(writer.row(record, record_id, json_pointer([mapping.document_list, i]), kept))
        grouped: dict[str, list[str]] = {}
        reasons: dict[str, str] = {}
        for (path, reason), ids in sorted(writer.lost.items()):
            key = path if path not in reasons or reasons[path] == reason else f"{path} ({reason})"
            grouped.setdefault(key, []).extend(ids)
            reasons.setdefault(key, reason)
        losses.extend(Loss(path, tuple(ids), reasons[path]) for path, ids in grouped.items())
        if xlsx is not None:
            for row in rows:
                xlsx.append(sheet, row)
            data = xlsx.to_bytes()
        else:
            data = write_csv_bytes(rows, delimiter=spec.csv.delimiter)
            if spec.csv.encoding != "utf-8":
                data = _encode_legacy(data, spec.csv.encoding)
        return SerializeResult(data=data, medium=medium, losses=losses, findings=writer.findings)

    def _kept_extra(self, records: Sequence[BaseModel], headers: list[str]) -> list[str]:
        """Native columns carried in ``extra`` that are written back after the mapped ones."""
        taken = {_norm(h) for h in headers}
        used = {c.info.path.removeprefix("extra.") for c in self.mapping.columns if c.info.path.startswith("extra.")}
        used.update(p.removeprefix("extra.") for p in self.mapping.defaults if p.startswith("extra."))
        for col in self.mapping.columns:
            used.update(g.path.removeprefix("extra.") for g in col.groups.values()
                        if g is not None and g.path.startswith("extra."))
        out: list[str] = []
        seen: set[str] = set()
        for record in records:
            for key in _extra(record):
                if key in seen or key in used or _norm(key) in taken or not key.strip():
                    continue
                seen.add(key)
                out.append(key)
        return out


#: The adapter registered under the ``carbonlink.adapters`` entry point ``spreadsheet``.
adapter = SpreadsheetAdapter()
