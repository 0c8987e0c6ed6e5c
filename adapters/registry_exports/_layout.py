"""Export layouts: the columns a registry writes, header matching, and the per-row lookup and findings."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from standards import (
    Finding,
    Location,
    Project,
    Rule,
    RuleCatalogue,
    Severity,
    UnitBlock,
)

Record = UnitBlock | Project


class PendingBlock:
    """A unit block a compiled reader has read but not built: ``values`` holds every field of
    :class:`~standards.UnitBlock` as the block holds them (its ``__dict__``: validated types, declaration
    order); :meth:`block` builds it. The streaming translation builds a block only when its group's
    template does not write it (:meth:`standards.cadt.stream_v2.V2UnitStream.add_values`).

    ``group`` (None: not given) is a hashable mark the reader gives blocks of one group: two blocks with equal
    marks have equal values in every field but their serial's range, quantity, status date, status reason and
    beneficiary (of these last three, only whether each is None is the same), their serials are
    ``<head>-<first>-<last>-<tail>`` with the same ``head`` (no ``-`` in it) and ``tail`` and their bounds
    written as ``str`` writes them (of the same lengths), and their ``extra`` holds the same columns in the same
    order, with the same values but for the columns named in the mark's last item (a tuple of names)."""

    __slots__ = ("build", "group", "values")

    def __init__(self, values: dict[str, Any], build: Callable[[dict[str, Any]], UnitBlock],
                 group: Any = None) -> None:
        self.values = values
        self.build = build
        self.group = group

    def block(self) -> UnitBlock:
        return self.build(self.values)


_SPACES = re.compile(r"\s+")


def header_key(name: str) -> str:
    """How headers are matched: spaces collapsed and trimmed, case ignored (``Status Effective  (GMT)``)."""
    return _SPACES.sub(" ", name).strip().casefold()


@dataclass(frozen=True)
class ExportFile:
    """One CSV export layout: its exact headers (as the registry writes them) and which are required."""

    name: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    kind: str  # "units" or "projects"
    description: str = ""

    def missing(self, keys: set[str]) -> list[str]:
        return [c for c in self.required if header_key(c) not in keys]

    def score(self, keys: set[str]) -> int:
        return sum(header_key(c) in keys for c in self.columns)


class RowFindings:
    """Collects the findings of one row, with its CSV line and column as the location."""

    __slots__ = ("findings", "line", "rules", "source")

    def __init__(self, rules: RuleCatalogue, line: int, findings: list[Finding], source: str = "") -> None:
        self.rules = rules
        self.line = line
        self.findings = findings
        self.source = source

    def add(self, rule_id: str, column: str | None, message: str, *, severity: Severity | None = None) -> None:
        pointer = f"/{self.line}/{column}" if column else f"/{self.line}"
        rule: Rule = self.rules[rule_id]
        self.findings.append(rule.finding(message, Location(pointer=pointer, line=self.line),
                                          severity=severity))


# ------------------------------------------------------------------------------------- reading


@dataclass
class RowMapper:
    """What one recognised export needs per row: the layout and a column-index lookup."""

    file: ExportFile
    header: tuple[str, ...]
    index: dict[str, int] = field(default_factory=dict)
    unknown: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        known = {header_key(c): c for c in self.file.columns}
        unknown: list[tuple[str, int]] = []
        for i, name in enumerate(self.header):
            canonical = known.get(header_key(name))
            if canonical is not None and canonical not in self.index:
                self.index[canonical] = i
            else:  # kept in extra; a header-less column (an exporter's trailing comma) gets a made-up name
                unknown.append((name if name.strip() else f"(column {i + 1})", i))
        self.unknown = tuple(unknown)

    def row(self, cells: Sequence[str]) -> tuple[dict[str, str], dict[str, Any]]:
        """Cells by the layout's column names (missing optional columns read as ``""``) and extras."""
        values = {name: cells[i] for name, i in self.index.items()}
        extra = {name: cells[i] for name, i in self.unknown if cells[i] != ""}
        return values, extra
