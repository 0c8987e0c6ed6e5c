"""Recognising CADT node answers: the read state, the resources a document holds and which one fits
best.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from openpyxl.utils import get_column_letter

from standards import (
    Finding,
    Location,
    json_pointer,
)
from standards.cadt.spec import VERSIONS, Version, load_spec
from standards.cadt.validate import Path


@dataclass
class _Origin:
    sheet: str
    row: int
    columns: dict[str, int] = field(default_factory=dict)


@dataclass
class _Read:
    version: Version | None = None
    document: dict[str, list[Any]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    origins: dict[Path, _Origin] = field(default_factory=dict)

    def locate(self, path: Path) -> Location:
        pointer = json_pointer(path)
        for cut in range(len(path), 0, -1):
            origin = self.origins.get(path[:cut])
            if origin is None:
                continue
            rest = path[cut:]
            column = origin.columns.get(str(rest[0])) if rest else None
            cell = f"{get_column_letter(column)}{origin.row}" if column else f"A{origin.row}"
            return Location(pointer=pointer, sheet=origin.sheet, cell=cell)
        return Location(pointer=pointer)


def _resources(version: Version) -> dict[str, str]:
    return load_spec(version).resources


def _best_resource(record: dict[str, Any]) -> tuple[Version, str] | None:
    """The (version, resource) whose entity defines most of this record's keys."""
    best: tuple[int, int, Version, str] | None = None
    for version in VERSIONS:
        spec = load_spec(version)
        for resource, entity in spec.resources.items():
            names = spec.entities[entity].by_name
            matched = sum(1 for k in record if k in names)
            unknown = len(record) - matched
            score = (-unknown, matched)
            if matched and (best is None or score > best[:2]):
                best = (score[0], score[1], version, resource)
    if best is None or best[1] * 2 < len(record):
        return None
    return best[2], best[3]
