"""Cell values and headers shared by the AEF CSV, XLSX and draft (V1) media.

Reading turns text or native spreadsheet values into the raw values :class:`AefTables`
holds, by the field's type, losslessly: integers and decimals become int/Decimal (never
float), dates ``datetime.date``, T3 ``ActionDateTime`` an aware UTC ``datetime``, the
literal ``NA`` stays ``"NA"``. A value that does not parse as its type is kept as the text
it was (validation reports it with its cell); an empty or blank cell is ``None``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from standards.aef.tables import TABLES, FieldSpec, Row
from standards.errors import MalformedInput, TranslationError

INTEGER_TYPES = frozenset({"integer", "integer_or_na", "serial", "year", "year_or_na"})
DECIMAL_TYPES = frozenset({"decimal", "decimal_or_na"})
DATE_TYPES = frozenset({"date"})
DATETIME_TYPES = frozenset({"datetime"})

_INT_RE = re.compile(r"[+-]?\d+")
_DEC_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)")
_DMY_RE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_ISO_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?")
_FOOTNOTE_RE = re.compile(r"(?:\s+\([a-z]{1,2}\)|\s*\*+)$")

#: The template's date form, used when writing CSV dates.
CSV_DATE_FORMAT = "%d/%m/%Y"
XLSX_DATE_FORMAT = "DD/MM/YYYY"
XLSX_DATETIME_FORMAT = "DD/MM/YYYY HH:MM:SS"
#: Excel keeps 15 significant digits; longer numbers are written as text to stay exact.
EXCEL_DIGITS = 15
EXCEL_FIRST_SAFE_DATE = date(1900, 3, 1)


class AefHeaderError(MalformedInput):
    """A table's header names unknown columns, lacks columns, or repeats one."""

    code = "AEF.CSV_HEADER"


class AefWriteError(TranslationError):
    """A row cannot be written to an AEF medium (a key that is no field of its table)."""

    code = "AEF.WRITE_FIELD"


def carp_instruction(spec: FieldSpec, value: object) -> str | None:
    """The instruction text a template prints in a CARP-populated cell (it names CARP), else ``None``."""
    if spec.required == "CARP" and isinstance(value, str) and "carp" in value.casefold():
        return value
    return None


def header_key(text: object) -> str:
    """Header text compared case-insensitively, with runs of whitespace as one space."""
    return " ".join(str(text).split()).casefold()


def draft_header_key(text: object) -> str:
    """As :func:`header_key`, also dropping a trailing footnote mark such as ``(b)`` or ``*``."""
    return header_key(_FOOTNOTE_RE.sub("", " ".join(str(text).split())))


def _build_index(table_id: str) -> dict[str, str]:
    index: dict[str, str] = {}
    for spec in TABLES[table_id].fields:
        for name in (spec.label, spec.cn):
            key = header_key(name)
            if index.setdefault(key, spec.cn) != spec.cn:
                raise RuntimeError(f"header {name!r} is ambiguous in {table_id}")
    return index


#: Per table: normalised template label or CN name -> CN name.
HEADER_INDEX: dict[str, dict[str, str]] = {t: _build_index(t) for t in TABLES}


@dataclass(frozen=True, slots=True)
class HeaderMatch:
    """How a header row maps onto a table: (0-based position, CN) pairs plus what is wrong."""

    table_id: str
    columns: tuple[tuple[int, str], ...]
    unknown: tuple[tuple[int, str], ...]
    missing: tuple[str, ...]
    duplicated: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not (self.unknown or self.missing or self.duplicated)


def match_header(table_id: str, cells: Sequence[object]) -> HeaderMatch:
    index = HEADER_INDEX[table_id]
    columns: list[tuple[int, str]] = []
    unknown: list[tuple[int, str]] = []
    seen: set[str] = set()
    duplicated: list[str] = []
    for position, cell in enumerate(cells):
        if cell is None or not str(cell).strip():
            continue
        cn = index.get(header_key(cell))
        if cn is None:
            unknown.append((position, str(cell).strip()))
        elif cn in seen:
            duplicated.append(cn)
        else:
            seen.add(cn)
            columns.append((position, cn))
    missing = tuple(f.cn for f in TABLES[table_id].fields if f.cn not in seen)
    return HeaderMatch(table_id, tuple(columns), tuple(unknown), missing, tuple(duplicated))


def unnamed_positions(match: HeaderMatch, width: int) -> tuple[int, ...]:
    """0-based positions under a blank header cell, up to ``width``: values there would be lost."""
    named = {position for position, _cn in match.columns}
    return tuple(p for p in range(width) if p not in named)


def describe_header_problems(match: HeaderMatch, *, where: str, column_name: Callable[[int], str]) -> str:
    """One clerk-readable sentence listing unknown, missing and repeated columns."""
    spec = TABLES[match.table_id]
    parts = []
    if match.unknown:
        parts.append("unknown column(s) " + ", ".join(f"{column_name(p)} {t!r}" for p, t in match.unknown))
    if match.missing:
        labels = [spec.by_cn[cn].label for cn in match.missing]
        parts.append("missing column(s) " + ", ".join(repr(label) for label in labels))
    if match.duplicated:
        parts.append("repeated column(s) " + ", ".join(repr(spec.by_cn[cn].label) for cn in match.duplicated))
    return f"{where}: header of {spec.id} {spec.key} has " + "; ".join(parts)


# ------------------------------------------------------------------------------------ reading


def parse_text(spec: FieldSpec, text: str) -> Any:
    """A text cell (CSV, or a text cell in XLSX) as the field's raw value."""
    stripped = text.strip()
    if not stripped:
        return None
    kind = spec.type
    if kind in INTEGER_TYPES:
        return int(stripped) if _INT_RE.fullmatch(stripped) else text
    if kind in DECIMAL_TYPES:
        return Decimal(stripped) if _DEC_RE.fullmatch(stripped) else text
    if kind in DATE_TYPES:
        parsed = _parse_date(stripped)
        return text if parsed is None else parsed
    if kind in DATETIME_TYPES:
        moment = _parse_datetime(stripped)
        return text if moment is None else moment
    return text


def _parse_date(text: str) -> date | None:
    try:
        match = _DMY_RE.fullmatch(text)
        if match is not None and match[4] is None:
            return date(int(match[3]), int(match[2]), int(match[1]))
        if _ISO_DATE_RE.fullmatch(text):
            return date.fromisoformat(text)
        if _ISO_DATETIME_RE.fullmatch(text):  # a date written as midnight by a datetime-minded tool
            moment = datetime.fromisoformat(text)
            if moment.time() == time() and moment.utcoffset() in (None, timedelta(0)):
                return moment.date()
    except ValueError:
        return None
    return None


def _parse_datetime(text: str) -> datetime | None:
    try:
        match = _DMY_RE.fullmatch(text)
        if match is not None:
            clock = time(int(match[4] or 0), int(match[5] or 0), int(match[6] or 0))
            return datetime.combine(date(int(match[3]), int(match[2]), int(match[1])), clock, tzinfo=UTC)
        if _ISO_DATE_RE.fullmatch(text):
            return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
        if _ISO_DATETIME_RE.fullmatch(text):
            return as_utc(datetime.fromisoformat(text))
    except ValueError:
        return None
    return None


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _float_text(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)


def normalize_native(spec: FieldSpec, value: Any) -> Any:
    """A native spreadsheet value (str, int, float, bool, datetime) as the field's raw value."""
    if value is None:
        return None
    if isinstance(value, str):
        return parse_text(spec, value)
    kind = spec.type
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        if kind in INTEGER_TYPES:
            if isinstance(value, float) and not value.is_integer():
                return Decimal(repr(value))
            return int(value)
        if kind in DECIMAL_TYPES:
            return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if kind in DATE_TYPES or kind in DATETIME_TYPES:
            return value  # a bare number where a date belongs: kept for validation to report
        return _float_text(value) if isinstance(value, float) else str(value)
    if isinstance(value, datetime):
        if kind in DATETIME_TYPES:
            return as_utc(value)
        if kind in DATE_TYPES and value.time() == time() and value.tzinfo is None:
            return value.date()
        return value
    if isinstance(value, date):
        if kind in DATETIME_TYPES:
            return datetime.combine(value, time(), tzinfo=UTC)
        return value
    return str(value)


def is_blank_row(values: Iterable[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def check_row_keys(table_id: str, index: int, row: Row) -> None:
    """Refuse rows carrying keys that are no field of the table (they would be dropped silently)."""
    known = TABLES[table_id].by_cn
    extra = [k for k in row if k not in known]
    if extra:
        raise AefWriteError(f"{table_id} row {index} has field(s) {', '.join(map(repr, extra))} that "
                            f"{table_id} {TABLES[table_id].key} does not have")


# ------------------------------------------------------------------------------------ writing


def format_datetime_iso(moment: datetime) -> str:
    """ISO 8601 UTC ``yyyy-mm-ddThh:mm:ssZ`` (milliseconds or microseconds only when present)."""
    utc = as_utc(moment)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond // 1000:03d}" if utc.microsecond % 1000 == 0 else f".{utc.microsecond:06d}"
    return text + "Z"


def csv_value(spec: FieldSpec, value: Any) -> Any:
    """The value to hand to the CSV writer: dates as the template's text, numbers as numbers."""
    if isinstance(value, datetime):
        return format_datetime_iso(value)
    if isinstance(value, date):
        return value.strftime(CSV_DATE_FORMAT) if value.year >= 1000 else f"{value:%d/%m}/{value.year:04d}"
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def excel_exact(value: int | Decimal) -> bool:
    """True when an Excel number cell holds ``value`` exactly (at most 15 significant digits)."""
    if isinstance(value, int):
        return abs(value) < 1_000_000_000_000_000  # 10**EXCEL_DIGITS
    if not value.is_finite():
        return False
    try:
        normal = value.normalize()
    except InvalidOperation:
        return False
    exponent = normal.as_tuple().exponent
    if not isinstance(exponent, int):
        return False
    return len(normal.as_tuple().digits) <= EXCEL_DIGITS and -300 < exponent < 290
