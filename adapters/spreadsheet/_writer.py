"""Writing canonical records as rows of the mapped columns, listing what the mapping cannot hold."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel

from adapters.spreadsheet._common import _extra, _get_path, _norm, _set_values
from adapters.spreadsheet._rules import EXCEL_DIGITS, SERIAL_PATTERN, VALUE_NO_NATIVE
from adapters.spreadsheet_mapping import (
    CompiledColumn,
    CompiledMapping,
    FieldInfo,
)
from standards import (
    Finding,
    Location,
    Medium,
    UnknownParty,
    party_name,
    to_alpha2,
    to_alpha3,
)
from standards.tabular import (
    XlsxWriter,
)


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
