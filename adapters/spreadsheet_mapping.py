"""Declarative spreadsheet mappings: which column holds which canonical field, and how to read it.

A ministry that keeps its registry in Excel or CSV describes its sheet in a small YAML or JSON
file (see ``docs/adapters/spreadsheet.md``); :class:`SpreadsheetMapping` is that file's schema.
:func:`load_mapping` reads one (a path or a built-in name), checks it and returns a
:class:`CompiledMapping`: the mapping plus everything derived from it (field kinds, value maps
both ways, date formats, serial patterns), so the adapter never re-checks it per row.

Every problem in a mapping is reported at once by :class:`MappingError`, naming the key
(``columns[3].field``) and what is wrong with it.
"""

from __future__ import annotations

import os
import re
import types
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from standards import Action, Holding, InputError, Project, UnitBlock, UnknownParty, load_json, read_bytes, to_alpha3

ENV_VAR = "CARBONLINK_SPREADSHEET_MAPPING"
DEFAULT_MAPPING = "ministry-itmo-ledger"
MAPPINGS = resources.files("adapters") / "mappings"
MAX_MAPPING_BYTES = 1024 * 1024

RecordKind = Literal["action", "holding", "unit_block", "project"]
PartyFormat = Literal["alpha-3", "alpha-2", "name"]
FieldKind = Literal["text", "integer", "decimal", "date", "datetime", "enum", "party"]

#: Canonical record class and document list for each record kind.
RECORD_CLASSES: dict[str, type[BaseModel]] = {
    "action": Action, "holding": Holding, "unit_block": UnitBlock, "project": Project,
}
DOCUMENT_LISTS: dict[str, str] = {
    "action": "actions", "holding": "holdings", "unit_block": "units", "project": "projects",
}
#: Canonical fields that hold a Party (ISO 3166-1 alpha-3 in the canonical model).
PARTY_FIELDS = frozenset({"country", "first_transferring_party", "transferring_party", "acquiring_party",
                          "using_party"})
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


class MappingError(InputError):
    """A mapping file that cannot be used; ``problems`` lists ``(key, message)`` pairs."""

    code = "SPREADSHEET.MAPPING"

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        lines = "; ".join(f"{key or '(top level)'}: {message}" for key, message in problems)
        super().__init__(f"mapping {source} is not usable: {lines}", source=source)
        self.problems = problems


# --------------------------------------------------------------------------- the file's schema


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NumberFormat(_Strict):
    """How numbers are written in text cells."""

    decimal_separator: Literal[".", ","] = Field(".", description="The decimal mark.")
    thousands_separator: Literal["", ",", ".", " ", "'"] = Field(
        "", description="Digit-group separator removed before reading a number ('' = none allowed).")


class CsvOptions(_Strict):
    """How CSV files are written and decoded (the delimiter is sniffed when reading)."""

    delimiter: Literal[",", ";", "\t"] = Field(
        ",", description="Cell separator used when writing; reading picks , ; or TAB from the header line.")
    encoding: Literal["utf-8", "cp1252", "latin-1"] = Field(
        "utf-8", description="Text encoding. utf-8 also accepts a BOM and BOM-marked UTF-16.")


class ColumnMapping(_Strict):
    """One native column and the canonical field it fills."""

    column: str = Field(min_length=1, description="The header text of the column, as in the file.")
    field: str = Field(min_length=1, description="Canonical field path, e.g. 'vintage', 'units.serial_first', "
                                                 "'extra.Block ID'.")
    required: bool = Field(False, description="An empty cell is an error; a missing column is an error.")
    values: dict[str, str] | None = Field(
        None, description="Native value -> canonical value (matched ignoring case and surrounding spaces). "
                          "When writing, the first native value listed for a canonical value is used.")
    strict_values: bool = Field(True, description="With 'values': a value not listed is an error "
                                                  "(false: it is read as it is).")
    date_format: str | list[str] | None = Field(
        None, description="Date format(s) for this column, Excel-style (dd/mm/yyyy) or strftime (%d/%m/%Y); "
                          "the first is used when writing. Default: the mapping's date_formats.")
    party_format: PartyFormat = Field("alpha-3", description="How Parties are written: alpha-3, alpha-2 or name "
                                                             "(any of them is accepted when reading).")
    pattern: str | None = Field(None, description="Regular expression with named groups splitting the cell "
                                                  "(a serial number) into canonical fields.")
    groups: dict[str, str | None] = Field(
        default_factory=dict, description="Pattern group name -> canonical field path (null: check only). "
                                          "Default: 'first'/'last' -> serial_first/serial_last, else the "
                                          "group name itself.")
    format: str | None = Field(None, description="Template to write the cell from canonical fields when the "
                                                 "record has no verbatim value, e.g. '{units.project_id}-{first}'.")


class SpreadsheetMapping(_Strict):
    """A declarative mapping between one spreadsheet layout and canonical records."""

    mapping_version: Literal[1] = Field(1, description="Version of this mapping schema.")
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="Short name (lowercase, digits, '-').")
    description: str = Field("", description="What register this mapping reads, for people.")
    record: RecordKind = Field(description="What each data row is: action, holding, unit_block or project.")
    sheet: str | None = Field(None, max_length=31, description="XLSX worksheet name (default: the first sheet).")
    header_row: int = Field(1, ge=1, le=1000, description="Row number (1-based) of the header row.")
    title: str | None = Field(None, description="Text written in cell A1 when header_row > 1.")
    header_match: Literal["exact", "normalized"] = Field(
        "normalized", description="'normalized' ignores case and repeated or surrounding spaces in headers.")
    csv: CsvOptions = Field(default_factory=CsvOptions)
    numbers: NumberFormat = Field(default_factory=NumberFormat)
    date_formats: list[str] = Field(default_factory=lambda: ["yyyy-mm-dd"], min_length=1,
                                    description="Default date formats for every date column.")
    columns: list[ColumnMapping] = Field(min_length=1)
    defaults: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Canonical field -> value used when no column gives one.")
    unmapped_columns: Literal["keep", "ignore", "error"] = Field(
        "keep", description="Columns the mapping does not name: kept in the record's 'extra' (and written "
                            "back), ignored (with a notice), or an error.")


def mapping_json_schema() -> dict[str, Any]:
    """The JSON Schema of a mapping file (published as ``adapters/mappings/mapping.schema.json``)."""
    schema = SpreadsheetMapping.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://carbonlink.example/schemas/spreadsheet-mapping-1.json"
    return schema


# --------------------------------------------------------------------------- canonical fields


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """A canonical field a column may fill: its dotted path and how its text is read."""

    path: str
    kind: FieldKind
    required: bool = False
    enum: type[StrEnum] | None = None


def _unwrap(annotation: Any) -> Any:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return _unwrap(args[0]) if len(args) == 1 else annotation
    if origin is Annotated:
        return _unwrap(get_args(annotation)[0])
    return annotation


def _kind_of(name: str, annotation: Any) -> tuple[FieldKind, type[StrEnum] | None] | None:
    tp = _unwrap(annotation)
    if isinstance(tp, type) and issubclass(tp, StrEnum):
        return "enum", tp
    if tp is str:
        return ("party" if name in PARTY_FIELDS else "text"), None
    if tp is bool:
        return None
    simple: dict[Any, FieldKind] = {int: "integer", Decimal: "decimal", datetime: "datetime", date: "date"}
    kind = simple.get(tp)
    return (kind, None) if kind is not None else None


def canonical_fields(record: str) -> dict[str, FieldInfo]:
    """Every mappable field of a record kind, by dotted path (``units.*`` for the nested block)."""
    out: dict[str, FieldInfo] = {}
    model = RECORD_CLASSES[record]
    for name, info in model.model_fields.items():
        if name == "extra":
            continue
        if _unwrap(info.annotation) is UnitBlock:
            for sub, sub_info in UnitBlock.model_fields.items():
                found = _kind_of(sub, sub_info.annotation)
                if found is not None:
                    out[f"{name}.{sub}"] = FieldInfo(f"{name}.{sub}", found[0], False, found[1])
            continue
        found = _kind_of(name, info.annotation)
        if found is not None:
            out[name] = FieldInfo(name, found[0], info.is_required(), found[1])
    return out


def field_info(fields: dict[str, FieldInfo], path: str) -> FieldInfo | None:
    """The field at ``path``; ``extra.<name>`` is always a text field kept in the record's extra."""
    if path.startswith("extra.") and len(path) > len("extra."):
        return FieldInfo(path, "text")
    return fields.get(path)


# --------------------------------------------------------------------------- date formats

_TOKEN_RE = re.compile(r"yyyy|yy|mmmm|mmm|mm|m|dd|d|hh|h|ss|s|[^ymdhs]+|.", re.IGNORECASE)
_STRFTIME = {"yyyy": "%Y", "yy": "%y", "mmmm": "%B", "mmm": "%b", "mm": "%m", "m": "%m", "dd": "%d", "d": "%d",
             "hh": "%H", "h": "%H", "ss": "%S", "s": "%S"}


@dataclass(frozen=True, slots=True)
class DateFormat:
    """A date format given Excel-style (``dd/mm/yyyy``) or as strftime (``%d/%m/%Y``)."""

    text: str
    strptime: str
    tokens: tuple[str, ...]
    has_time: bool
    #: A regular expression for all-numeric formats, much faster than ``strptime``.
    fast: re.Pattern[str] | None = None

    @classmethod
    def compile(cls, text: str) -> DateFormat:
        if "%" in text:
            has_time = any(t in text for t in ("%H", "%I", "%M", "%S", "%T", "%X"))
            fmt = cls(text, text, (), has_time)
        else:
            raw = [m.group(0) for m in _TOKEN_RE.finditer(text)]
            tokens: list[str] = [t.lower() if t.lower() in _STRFTIME else "LIT:" + t for t in raw]
            codes = [i for i, t in enumerate(tokens) if not t.startswith("LIT:")]
            for pos, i in enumerate(codes):
                if tokens[i] not in ("mm", "m"):
                    continue
                before = tokens[codes[pos - 1]] if pos > 0 else ""
                after = tokens[codes[pos + 1]] if pos + 1 < len(codes) else ""
                if before in ("hh", "h") or after in ("ss", "s"):
                    tokens[i] = "MINUTE"
            parts = []
            for tok in tokens:
                if tok == "MINUTE":
                    parts.append("%M")
                elif tok.startswith("LIT:"):
                    parts.append(tok[4:].replace("%", "%%"))
                else:
                    parts.append(_STRFTIME[tok])
            has_time = any(t in ("hh", "h", "MINUTE", "ss", "s") for t in tokens)
            fmt = cls(text, "".join(parts), tuple(tokens), has_time, _fast_pattern(tokens))
        sample = datetime(2031, 11, 27, 13, 45, 56) if fmt.has_time else datetime(2031, 11, 27)
        try:
            back = fmt.parse(fmt.format(sample))
        except (ValueError, re.error, TypeError):
            back = None
        if back != sample:
            raise ValueError(f"{text!r} is not a usable date format (it must show day, month and year once)")
        return fmt

    @property
    def excel_number_format(self) -> str:
        """The Excel number format used when writing real date cells."""
        if self.tokens:
            return self.text
        return "yyyy-mm-dd hh:mm:ss" if self.has_time else "yyyy-mm-dd"

    def parse(self, text: str) -> datetime:
        if self.fast is not None:
            match = self.fast.fullmatch(text)
            if match is None:
                raise ValueError(f"{text!r} does not match {self.text}")
            parts = match.groupdict()
            return datetime(int(parts["Y"]), int(parts["m"]), int(parts["d"]), int(parts.get("H") or 0),
                            int(parts.get("M") or 0), int(parts.get("S") or 0))
        return datetime.strptime(text, self.strptime)

    def format(self, value: datetime | date) -> str:
        if not self.tokens:
            return value.strftime(self.strptime)
        moment = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
        out = []
        for tok in self.tokens:
            if tok.startswith("LIT:"):
                out.append(tok[4:])
            elif tok == "MINUTE":
                out.append(f"{moment.minute:02d}")
            elif tok in ("m", "d", "h", "s"):
                out.append(str({"m": moment.month, "d": moment.day, "h": moment.hour, "s": moment.second}[tok]))
            else:
                out.append(moment.strftime(_STRFTIME[tok]))
        return "".join(out)


_FAST = {"yyyy": r"(?P<Y>\d{4})", "mm": r"(?P<m>\d{1,2})", "m": r"(?P<m>\d{1,2})", "dd": r"(?P<d>\d{1,2})",
         "d": r"(?P<d>\d{1,2})", "hh": r"(?P<H>\d{1,2})", "h": r"(?P<H>\d{1,2})", "MINUTE": r"(?P<M>\d{1,2})",
         "ss": r"(?P<S>\d{1,2})", "s": r"(?P<S>\d{1,2})"}


def _fast_pattern(tokens: list[str]) -> re.Pattern[str] | None:
    """A regex for formats made only of numeric codes and literals (the same text ``strptime`` takes)."""
    parts = []
    for tok in tokens:
        if tok.startswith("LIT:"):
            parts.append(re.escape(tok[4:]))
        elif tok in _FAST:
            parts.append(_FAST[tok])
        else:
            return None
    try:
        pattern = re.compile("".join(parts))
    except re.error:
        return None
    return pattern if {"Y", "m", "d"} <= set(pattern.groupindex) else None


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
    return {"first": f"{prefix}serial_first", "last": f"{prefix}serial_last"}


def convert_default(info: FieldInfo, value: str | int | float | bool) -> Any:
    """A mapping default as the canonical value it stands for (ValueError when it cannot be one)."""
    text = str(value).strip()
    if info.kind == "enum" and info.enum is not None:
        return info.enum(text)
    if info.kind == "party":
        try:
            return to_alpha3(text)[0]
        except UnknownParty as exc:
            raise ValueError(str(exc)) from None
    if info.kind == "integer":
        if isinstance(value, bool) or not re.fullmatch(r"-?\d+", text):
            raise ValueError(f"{value!r} is not a whole number")
        return int(text)
    if info.kind == "decimal":
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
        if not number.is_finite():
            raise ValueError(f"{value!r} is not a number")
        return number
    if info.kind in ("date", "datetime"):
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO date (yyyy-mm-dd)") from None
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
    known = sorted(fields)
    if spec.sheet is not None and _SHEET_FORBIDDEN.search(spec.sheet):
        problems.append(("sheet", f"{spec.sheet!r} contains a character Excel forbids in sheet names ([]:*?/\\)"))
    try:
        default_formats = tuple(DateFormat.compile(f) for f in spec.date_formats)
    except ValueError as exc:
        problems.append(("date_formats", str(exc)))
        default_formats = (DateFormat.compile("yyyy-mm-dd"),)
    columns: list[CompiledColumn] = []
    seen_headers: dict[str, int] = {}
    seen_fields: dict[str, str] = {}
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
        _register_field(seen_fields, col.field, f"{key}.field", problems)
        formats = [col.date_format] if isinstance(col.date_format, str) else list(col.date_format or [])
        if formats and info.kind not in ("date", "datetime"):
            problems.append((f"{key}.date_format", f"{col.field} is not a date field"))
        try:
            compiled.date_formats = tuple(DateFormat.compile(f) for f in formats) or default_formats
        except ValueError as exc:
            problems.append((f"{key}.date_format", str(exc)))
        if col.values is not None:
            _compile_values(compiled, problems)
        if col.pattern is not None:
            _compile_pattern(compiled, spec.record, fields, seen_fields, problems)
        elif col.groups or col.format:
            problems.append((f"{key}.pattern", "'groups' and 'format' need a 'pattern'"))
        columns.append(compiled)
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
    covered = set(seen_fields) | set(defaults)
    for info in fields.values():
        if info.required and info.path not in covered:
            problems.append(("columns", f"the canonical field {info.path!r} is required for a {spec.record}; "
                                        "map a column to it or give it in 'defaults'"))
    if problems:
        raise MappingError(source, problems)
    return CompiledMapping(spec, source, fields, columns, defaults)


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
        _register_field(seen, target, f"{key}.groups.{name}", problems)
    if col.spec.format is not None:
        names = set(re.findall(r"\{([^{}]+)\}", col.spec.format))
        allowed = set(pattern.groupindex)
        for name in sorted(names - allowed):
            problems.append((f"{key}.format", f"{{{name}}} is not a group of the pattern"))
        for name in sorted(names & allowed):
            if col.groups.get(name) is None:
                problems.append((f"{key}.format", f"{{{name}}} is a check-only group; it cannot be written"))


# --------------------------------------------------------------------------- loading


def builtin_mappings() -> list[str]:
    """Names of the mappings shipped with carbonlink."""
    return sorted(p.name.removesuffix(".yaml") for p in MAPPINGS.iterdir() if p.name.endswith(".yaml"))


def _pydantic_problems(exc: ValidationError) -> list[tuple[str, str]]:
    out = []
    for err in exc.errors():
        key = ""
        for part in err["loc"]:
            key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown key (see docs/adapters/spreadsheet.md for the keys a mapping may use)"
        elif err["type"] == "missing":
            message = "this key is required"
        out.append((key, message))
    return out


def mapping_from_data(data: object, *, source: str = "<mapping>") -> CompiledMapping:
    """Check and compile a mapping given as a dict (already read from YAML or JSON)."""
    if not isinstance(data, dict):
        raise MappingError(source, [("", "a mapping must be a YAML/JSON object with keys such as 'columns'")])
    try:
        spec = SpreadsheetMapping.model_validate(data)
    except ValidationError as exc:
        raise MappingError(source, _pydantic_problems(exc)) from None
    return compile_mapping(spec, source=source)


class _PlainYamlLoader(yaml.SafeLoader):
    """YAML without aliases: ``*name`` references could expand a small file into a huge mapping."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed in a mapping",
                                              event.start_mark)
        return super().compose_node(parent, index)


def parse_mapping_text(raw: bytes, *, source: str) -> CompiledMapping:
    """Read a YAML or JSON mapping document."""
    if raw.lstrip().startswith(b"{"):
        try:
            data = load_json(raw, what=f"mapping {source}")
        except InputError as exc:
            raise MappingError(source, [("", exc.message)]) from None
    else:
        try:
            data = yaml.load(raw.decode("utf-8-sig"), Loader=_PlainYamlLoader)  # a SafeLoader without aliases
        except UnicodeDecodeError:
            raise MappingError(source, [("", "the mapping file is not UTF-8 text")]) from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            raise MappingError(source, [("", f"not valid YAML{where}: {getattr(exc, 'problem', exc)}")]) from None
    return mapping_from_data(data, source=source)


def load_mapping(ref: str | Path | SpreadsheetMapping | CompiledMapping | dict[str, Any]) -> CompiledMapping:
    """A mapping from a built-in name, a file path, a dict, or a :class:`SpreadsheetMapping`."""
    if isinstance(ref, CompiledMapping):
        return ref
    if isinstance(ref, SpreadsheetMapping):
        return compile_mapping(ref, source=f"<{ref.name}>")
    if isinstance(ref, dict):
        return mapping_from_data(ref)
    text = str(ref)
    if isinstance(ref, str) and re.fullmatch(r"[a-z0-9][a-z0-9-]*", text):
        resource = MAPPINGS / f"{text}.yaml"
        if resource.is_file():
            return parse_mapping_text(resource.read_bytes(), source=f"built-in {text!r}")
        if not Path(text).exists():
            raise MappingError(text, [("", f"no built-in mapping named {text!r} and no such file "
                                           f"(built-in: {', '.join(builtin_mappings())})")])
    try:
        raw = read_bytes(Path(text), limit=MAX_MAPPING_BYTES)
    except InputError as exc:
        raise MappingError(text, [("", exc.message)]) from None
    return parse_mapping_text(raw, source=text)


def mapping_from_env() -> CompiledMapping:
    """The mapping named by ``CARBONLINK_SPREADSHEET_MAPPING`` (default: the built-in ministry ledger)."""
    return load_mapping(os.environ.get(ENV_VAR) or DEFAULT_MAPPING)
