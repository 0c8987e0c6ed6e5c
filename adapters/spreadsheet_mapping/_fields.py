"""The canonical fields a mapping may name, with their kinds."""

from __future__ import annotations

import types
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Union, get_args, get_origin

from adapters.spreadsheet_mapping._model import PARTY_FIELDS, RECORD_CLASSES, FieldKind
from standards import UnitBlock

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


#: Field names mappings written before the block bounds were renamed may still use.
_OLD_NAMES = {"serial_first": "first_id", "serial_last": "last_id"}


def field_info(fields: dict[str, FieldInfo], path: str) -> FieldInfo | None:
    """The field at ``path``; ``extra.<name>`` is always a text field kept in the record's extra.

    The old block-bound names (``serial_first``, ``units.serial_last``) name the new fields."""
    if path.startswith("extra.") and len(path) > len("extra."):
        return FieldInfo(path, "text")
    head, _, last = path.rpartition(".")
    if last in _OLD_NAMES:
        path = f"{head}.{_OLD_NAMES[last]}" if head else _OLD_NAMES[last]
    return fields.get(path)
