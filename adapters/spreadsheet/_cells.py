"""Converting cells to canonical values (numbers, dates, parties, coded values) with findings."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl.utils.datetime import from_excel

from adapters.spreadsheet._common import _FAIL, _as_text, _enum_lookup, _FindingSink, _norm, _Spot, _Where
from adapters.spreadsheet._rules import DATE, DATE_SERIAL, NUMBER, PARTY, VALUE_UNKNOWN, VALUE_UNMAPPED
from adapters.spreadsheet_mapping import (
    CompiledColumn,
    CompiledMapping,
    FieldInfo,
)
from standards import (
    Location,
    UnknownParty,
    json_pointer,
    to_alpha3,
)


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
