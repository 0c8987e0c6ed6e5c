"""What the reader and the writer share: locations, the findings sink, cell text and record paths."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from functools import lru_cache
from typing import Any, NamedTuple

from openpyxl.utils import get_column_letter
from pydantic import BaseModel

from adapters.spreadsheet._rules import MAX_FINDINGS, TOO_MANY_FINDINGS
from standards import (
    Finding,
    Location,
)


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
