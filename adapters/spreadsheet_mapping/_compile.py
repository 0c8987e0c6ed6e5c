"""Compiling a mapping: every problem found against the canonical model, and the column plan the
adapter runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from pydantic import BaseModel

from adapters.spreadsheet_mapping._dates import DateFormat
from adapters.spreadsheet_mapping._fields import FieldInfo, canonical_fields, field_info
from adapters.spreadsheet_mapping._model import (
    _SHEET_FORBIDDEN,
    DOCUMENT_LISTS,
    RECORD_CLASSES,
    ColumnMapping,
    MappingError,
    SpreadsheetMapping,
)
from standards import UnknownParty, to_alpha3

# --------------------------------------------------------------------------- compiled mapping


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


@dataclass(slots=True)
class CompiledColumn:
    """A column mapping with everything derived from it."""

    index: int
    spec: ColumnMapping
    info: FieldInfo
    date_formats: tuple[DateFormat, ...] = ()
    read_values: dict[str, str] = field(default_factory=dict)
    write_values: dict[str, str] = field(default_factory=dict)
    pattern: re.Pattern[str] | None = None
    groups: dict[str, FieldInfo | None] = field(default_factory=dict)

    @property
    def header(self) -> str:
        return self.spec.column

    @property
    def key(self) -> str:
        return f"columns[{self.index}]"


@dataclass
class CompiledMapping:
    """A checked mapping, ready for reading and writing rows."""

    spec: SpreadsheetMapping
    source: str
    fields: dict[str, FieldInfo]
    columns: list[CompiledColumn]
    defaults: dict[str, Any]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def record_class(self) -> type[BaseModel]:
        return RECORD_CLASSES[self.spec.record]

    @property
    def document_list(self) -> str:
        return DOCUMENT_LISTS[self.spec.record]

    @cached_property
    def covered(self) -> frozenset[str]:
        """Canonical paths some column (or pattern group) writes."""
        paths = {c.info.path for c in self.columns}
        for col in self.columns:
            paths.update(g.path for g in col.groups.values() if g is not None)
        return frozenset(paths)


def default_groups(record: str) -> dict[str, str]:
    prefix = "units." if record in ("action", "holding") else ""
    return {"first": f"{prefix}first_id", "last": f"{prefix}last_id"}


def convert_default(info: FieldInfo, value: str | int | float | bool) -> Any:
    """A mapping default as the canonical value it stands for (ValueError when it cannot be one)."""
    text = str(value).strip()
    if info.kind == "enum" and info.enum is not None:
        return info.enum(text)
    if info.kind == "party":
        try:
            return to_alpha3(text)[0]
        except UnknownParty as exc:
            raise ValueError(str(exc)) from exc
    if info.kind == "integer":
        if isinstance(value, bool) or not re.fullmatch(r"-?\d+", text):
            raise ValueError(f"{value!r} is not a whole number")
        return int(text)
    if info.kind == "decimal":
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise ValueError(f"{value!r} is not a number") from exc
        if not number.is_finite():
            raise ValueError(f"{value!r} is not a number")
        return number
    if info.kind in ("date", "datetime"):
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not an ISO date (yyyy-mm-dd)") from exc
        return moment if info.kind == "datetime" else moment.date()
    return text


def _suggest(name: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def compile_mapping(spec: SpreadsheetMapping, *, source: str = "<mapping>") -> CompiledMapping:
    """Check a parsed mapping against the canonical model; raise :class:`MappingError` listing every problem."""
    problems: list[tuple[str, str]] = []
    fields = canonical_fields(spec.record)
    if spec.sheet is not None and _SHEET_FORBIDDEN.search(spec.sheet):
        problems.append(("sheet", f"{spec.sheet!r} contains a character Excel forbids in sheet names ([]:*?/\\)"))
    try:
        default_formats = tuple(DateFormat.compile(f) for f in spec.date_formats)
    except ValueError as exc:
        problems.append(("date_formats", str(exc)))
        default_formats = (DateFormat.compile("yyyy-mm-dd"),)
    seen_fields: dict[str, str] = {}
    columns = _compile_columns(spec, fields, default_formats, seen_fields, problems)
    defaults = _compile_defaults(spec, fields, problems)
    covered = set(seen_fields) | set(defaults)
    for info in fields.values():
        if info.required and info.path not in covered:
            problems.append(("columns", f"the canonical field {info.path!r} is required for a {spec.record}; "
                                        "map a column to it or give it in 'defaults'"))
    if problems:
        raise MappingError(source, problems)
    return CompiledMapping(spec, source, fields, columns, defaults)


def _compile_columns(spec: SpreadsheetMapping, fields: dict[str, FieldInfo], default_formats: tuple[DateFormat, ...],
                     seen_fields: dict[str, str], problems: list[tuple[str, str]]) -> list[CompiledColumn]:
    """The mapping's columns, each checked against the canonical fields (problems appended)."""
    known = sorted(fields)
    columns: list[CompiledColumn] = []
    seen_headers: dict[str, int] = {}
    for i, col in enumerate(spec.columns):
        key = f"columns[{i}]"
        header_key = col.column if spec.header_match == "exact" else _norm(col.column)
        if header_key in seen_headers:
            problems.append((f"{key}.column", f"column {col.column!r} is mapped twice "
                                              f"(also columns[{seen_headers[header_key]}])"))
        seen_headers[header_key] = i
        info = field_info(fields, col.field)
        if info is None:
            problems.append((f"{key}.field", f"{col.field!r} is not a field of a canonical {spec.record}"
                                             + _suggest(col.field, known)))
            continue
        compiled = CompiledColumn(i, col, info)
        _register_field(seen_fields, info.path, f"{key}.field", problems)
        _compile_date_formats(compiled, key, default_formats, problems)
        if col.values is not None:
            _compile_values(compiled, problems)
        if col.pattern is not None:
            _compile_pattern(compiled, spec.record, fields, seen_fields, problems)
        elif col.groups or col.format:
            problems.append((f"{key}.pattern", "'groups' and 'format' need a 'pattern'"))
        columns.append(compiled)
    return columns


def _compile_date_formats(compiled: CompiledColumn, key: str, default_formats: tuple[DateFormat, ...],
                          problems: list[tuple[str, str]]) -> None:
    """A column's own date formats (only for date fields), else the mapping's defaults."""
    col, info = compiled.spec, compiled.info
    formats = [col.date_format] if isinstance(col.date_format, str) else list(col.date_format or [])
    if formats and info.kind not in ("date", "datetime"):
        problems.append((f"{key}.date_format", f"{col.field} is not a date field"))
    try:
        compiled.date_formats = tuple(DateFormat.compile(f) for f in formats) or default_formats
    except ValueError as exc:
        problems.append((f"{key}.date_format", str(exc)))


def _compile_defaults(spec: SpreadsheetMapping, fields: dict[str, FieldInfo],
                      problems: list[tuple[str, str]]) -> dict[str, Any]:
    """The mapping's default values, each converted to its canonical field's kind (problems appended)."""
    known = sorted(fields)
    defaults: dict[str, Any] = {}
    for path, value in spec.defaults.items():
        info = field_info(fields, path)
        if info is None:
            problems.append((f"defaults.{path}", f"{path!r} is not a field of a canonical {spec.record}"
                                                 + _suggest(path, known)))
            continue
        try:
            defaults[path] = convert_default(info, value)
        except ValueError as exc:
            problems.append((f"defaults.{path}", str(exc)))
    return defaults


def _register_field(seen: dict[str, str], path: str, key: str, problems: list[tuple[str, str]]) -> None:
    if path in seen:
        problems.append((key, f"{path!r} is filled twice (also {seen[path]})"))
    else:
        seen[path] = key


def _compile_values(col: CompiledColumn, problems: list[tuple[str, str]]) -> None:
    assert col.spec.values is not None
    key = f"{col.key}.values"
    for native, canonical in col.spec.values.items():
        if col.info.kind == "enum" and col.info.enum is not None:
            allowed = [m.value for m in col.info.enum]
            if canonical not in allowed:
                problems.append((f"{key}[{native!r}]", f"{canonical!r} is not one of {', '.join(allowed)}"))
                continue
        norm = _norm(native)
        if norm in col.read_values and col.read_values[norm] != canonical:
            problems.append((f"{key}[{native!r}]", f"{native!r} is listed twice with different meanings"))
            continue
        col.read_values[norm] = canonical
        col.write_values.setdefault(canonical, native)


def _compile_pattern(col: CompiledColumn, record: str, fields: dict[str, FieldInfo], seen: dict[str, str],
                     problems: list[tuple[str, str]]) -> None:
    assert col.spec.pattern is not None
    key = col.key
    try:
        pattern = re.compile(col.spec.pattern)
    except re.error as exc:
        problems.append((f"{key}.pattern", f"not a valid regular expression: {exc}"))
        return
    if not pattern.groupindex:
        problems.append((f"{key}.pattern", "the pattern has no named groups, (?P<name>...)"))
    col.pattern = pattern
    defaults = default_groups(record)
    for name in col.spec.groups:
        if name not in pattern.groupindex:
            problems.append((f"{key}.groups.{name}", f"the pattern has no group named {name!r}"))
    for name in pattern.groupindex:
        target = col.spec.groups[name] if name in col.spec.groups else defaults.get(name, name)
        if target is None:
            col.groups[name] = None
            continue
        info = field_info(fields, target)
        if info is None:
            problems.append((f"{key}.groups.{name}", f"group {name!r} fills {target!r}, which is not a field "
                                                     f"of a canonical {record}; map it under 'groups'"))
            continue
        col.groups[name] = info
        _register_field(seen, info.path, f"{key}.groups.{name}", problems)
    if col.spec.format is not None:
        names = set(re.findall(r"\{([^{}]+)\}", col.spec.format))
        allowed = set(pattern.groupindex)
        for name in sorted(names - allowed):
            problems.append((f"{key}.format", f"{{{name}}} is not a group of the pattern"))
        for name in sorted(names & allowed):
            if col.groups.get(name) is None:
                problems.append((f"{key}.format", f"{{{name}}} is a check-only group; it cannot be written"))
