"""The structure layer: typed AEF rows, checked by pydantic-core.

Each table becomes a ``TypedDict`` built from the field specifications, so the fast engine
checks types, identifier patterns and year ranges in one call per table. Required fields are
checked separately (a blank cell is ``None``); the code lists come in the next layer.
The published JSON Schema (``schema/aef-v2.schema.json``) is generated from these types.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, Literal, Required, cast

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    Strict,
    StringConstraints,
    TypeAdapter,
    with_config,
)
from typing_extensions import TypedDict

from standards.aef.tables import TABLES, FieldSpec

_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def _parse_dmy(value: Any) -> Any:
    """Accept the template's dd/mm/yyyy beside ISO 8601."""
    if isinstance(value, str):
        m = _DMY.match(value.strip())
        if m:
            try:
                return date(int(m[3]), int(m[2]), int(m[1]))
            except ValueError:
                return value
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        return value.date()
    return value


def _to_utc_datetime(value: Any) -> Any:
    if value.__class__ is str and len(value) > 10 and value[4] == "-":
        return value  # ISO 8601 date-time: pydantic-core parses it
    value = _parse_dmy(value)
    if isinstance(value, str) and value.endswith("Z"):
        value = value[:-1] + "+00:00"
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str) and len(value) == 10:
        try:
            d = date.fromisoformat(value)
        except ValueError:
            return value
        return datetime(d.year, d.month, d.day, tzinfo=UTC)
    return value


def _assume_utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


NAType = Literal["NA"]
_Pattern = {
    "party": r"^[A-Z]{3}$",
    "ca_id": r"^CA\d{4}$",
    "registry_id": r"^[A-Z]{3}\d{2}$",
    "auth_id": r"^[A-Za-z0-9 -]+$",
    "version": r"^[1-9]\d*\.\d+$",
}
DateType = Annotated[date, BeforeValidator(_parse_dmy)]
DateTimeType = Annotated[datetime, BeforeValidator(_to_utc_datetime)]
#: Quantities are never negative (a decimal may be written as a JSON number or a numeric string).
QuantityType = Annotated[Decimal, Field(ge=0)]


#: Field types typed as plain text: the only ones whose typed value can be ``""`` (every other type has a
#: pattern, a literal or a non-text type that refuses it; tests/standards/test_aef_structure_blanks.py).
PLAIN_TEXT_TYPES = frozenset({"text", "text_list", "party_list", "text_or_na"})


def _python_type(spec: FieldSpec, strict: bool) -> Any:
    """The type of one field; ``strict`` makes whole numbers refuse text such as ``"1"``, as the
    published schema (``integer``) does; lenient reading coerces it, for legacy data."""
    kind = spec.type
    if kind in _Pattern:
        return Annotated[str, StringConstraints(pattern=_Pattern[kind])]
    whole: Any = Annotated[int, Strict()] if strict else int
    year = Annotated[whole, Field(ge=1900, le=2100)]
    simple: dict[str, Any] = {
        "text": str, "text_list": str, "party_list": str,
        "text_or_na": str,
        "party_or_na": NAType | Annotated[str, StringConstraints(pattern=_Pattern["party"])],
        "year": year, "year_or_na": NAType | year,
        "integer": whole, "integer_or_na": NAType | Annotated[whole, Field(ge=0)],
        "serial": Annotated[whole, Field(ge=1)],
        "decimal": QuantityType, "decimal_or_na": NAType | QuantityType,
        "date": DateType, "datetime": DateTimeType,
    }
    return simple[kind]


#: Screened required fields refuse what the required check looks at (blank, absent, "" and "NA", once
#: stripped), so a row holding one is typed again - and checked - apart: text that is neither, and the
#: identifier pattern that would take "NA" without it (Rust's regex engine has no look-ahead).
_FILLED_TEXT = r"(?s)^(?:[^N]|N(?:[^A]|$)|NA.)"
_FILLED_AUTH_ID = r"^(?:[A-MO-Za-z0-9 -]|N(?:[B-Za-z0-9 -]|$)|NA[A-Za-z0-9 -])[A-Za-z0-9 -]*$"


def _screened_type(spec: FieldSpec, strict: bool) -> Any:
    if spec.required != "Y":
        return _python_type(spec, strict) | None
    if spec.type in ("text", "auth_id"):
        pattern = _FILLED_TEXT if spec.type == "text" else _FILLED_AUTH_ID
        return Required[Annotated[str, StringConstraints(pattern=pattern)]]
    if spec.type in _SCREENED_REQUIRED:
        return Required[_python_type(spec, strict)]
    raise ValueError(f"no screened type for a required {spec.type} field ({spec.cn})")


#: Required field types that refuse blank, "" and "NA" by themselves (patterns, numbers, dates).
_SCREENED_REQUIRED = frozenset({"date", "datetime", "decimal", "integer", "party", "version", "year", "ca_id",
                                "registry_id", "serial"})


def _row_type(table_id: str, strict: bool, extra: str) -> Any:
    spec = TABLES[table_id]
    fields = {f.cn: _python_type(f, strict) | None if extra == "forbid" else _screened_type(f, strict)
              for f in spec.fields}
    name = f"Aef{spec.id}{spec.key}Row{'' if strict else 'Lenient'}{'' if extra == 'forbid' else 'Screened'}"
    typed_dict: Any = TypedDict(name, fields, total=False)  # type: ignore[misc]
    return with_config(ConfigDict(coerce_numbers_to_str=True, extra=extra,  # type: ignore[typeddict-item]
                                  str_strip_whitespace=True))(typed_dict)


@cache
def row_adapter(table_id: str, strict: bool = True) -> TypeAdapter[list[dict[str, Any]]]:
    """A validator for a list of rows of one table (all fields optional; required is checked apart)."""
    list_type: Any = list
    return cast(TypeAdapter[list[dict[str, Any]]], TypeAdapter(list_type[_row_type(table_id, strict, "forbid")]))


def _unscreened(value: Any) -> None:
    return None


@cache
def screen_adapter(table_id: str, strict: bool = True) -> TypeAdapter[list[dict[str, Any] | None]]:
    """A validator for a whole table at once: each row typed as :func:`row_adapter` types it but keeping
    no key that is not a field (the typed row is then shorter than the row), or ``None`` for a row that
    fails or whose required fields are not all filled (blank, absent, "" or "NA") - which
    :func:`row_adapter` then types alone, for its errors, after the required check. pydantic-core checks every key of
    every row when it must refuse unknown ones, and returns nothing of a list with an error: this way a
    table takes one call, and only the rows that need it a second."""
    screened: Any = Annotated[_row_type(table_id, strict, "ignore") | Annotated[Any, PlainValidator(_unscreened)],
                              Field(union_mode="left_to_right")]
    list_type: Any = list
    return cast(TypeAdapter[list[dict[str, Any] | None]], TypeAdapter(list_type[screened]))


#: A blank is ``null``, ``""`` or an absent key alike; the schema says so for every field.
BLANK_TEXT: dict[str, Any] = {"const": "", "description": "blank, as null or absent"}


#: Date forms read beside the ISO ones that ``format`` names (the template's dd/mm/yyyy; a date-time
#: without an offset, taken as UTC; a bare date for a date-time, midnight UTC).
DMY_DATE: dict[str, Any] = {"type": "string", "pattern": r"^\s*\d{1,2}/\d{1,2}/\d{4}\s*$",
                            "description": "dd/mm/yyyy"}
LOCAL_DATETIME: dict[str, Any] = {"type": "string",
                                  "pattern": r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$",
                                  "description": "ISO 8601 date or date-time without an offset, taken as UTC"}


def _allow_read_forms(row: dict[str, Any]) -> None:
    """Let every field of a row schema be blank text where its type would otherwise refuse ``""``,
    and dates take the other forms the structure layer reads."""
    for prop in row["properties"].values():
        options = prop.get("anyOf", [prop])
        formats = {o.get("format") for o in options}
        extra = [DMY_DATE] if formats & {"date", "date-time"} else []
        if "date-time" in formats:
            extra.append(LOCAL_DATETIME)
        if not any(o.get("type") == "string" and len(o) == 1 for o in options):
            extra.append(BLANK_TEXT)
        for option in extra:
            prop.setdefault("anyOf", options).insert(-1, dict(option))


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the AEF JSON document (generated from the row types)."""
    from standards.aef.jsonio import DOCUMENT_KEYS

    defs: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    for table_id, spec in TABLES.items():
        schema = row_adapter(table_id).json_schema(mode="validation", ref_template="#/$defs/{model}")
        defs.update(schema.pop("$defs", {}))
        item = schema["items"]
        _allow_read_forms(defs[item["$ref"].rsplit("/", 1)[-1]])
        for f in spec.fields:
            if f.required == "Y":
                item.setdefault("x-required-when-submitted", []).append(f.cn)
        properties[DOCUMENT_KEYS[table_id]] = item if table_id == "T1" else schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://carbonlink.dev/schema/aef-v2.schema.json",
        "title": "UNFCCC AEF version 2 (carbonlink AEF JSON)",
        "description": "Keys are Common Nomenclature technical names (docs/aef-media.md, 'AEF JSON'). A blank "
                       "is null, blank text or an absent key alike; blank required fields are reported by "
                       "rule AEF.STRUCTURE.REQUIRED, not by this schema.",
        "type": "object",
        "properties": {"format": {"const": "carbonlink/aef-json"}, "aefVersion": {"const": "2"},
                       **properties},
        "additionalProperties": False,
        "$defs": defs,
    }
