"""Coded validation findings and the rule catalogue.

A :class:`Finding` says which rule fired, how bad it is, where, in words a registry clerk
understands, and which clause of which standard the rule comes from. Rules are declared
once in a :class:`RuleCatalogue`; ``carbonlink rules`` prints every catalogue.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Layer(StrEnum):
    """Validation layers, run in this order; a record that fails a layer skips the later ones."""

    STRUCTURE = "structure"
    CODE_LIST = "code-list"
    FIELD = "field"
    CROSS_RECORD = "cross-record"


def _escape_pointer_token(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def json_pointer(path: Iterable[str | int]) -> str:
    """Render an instance path as an RFC 6901 JSON Pointer."""
    return "".join("/" + _escape_pointer_token(p) for p in path)


@dataclass(frozen=True, slots=True)
class Location:
    """Where a finding points. ``pointer`` is always set; sheet/cell or xpath when the medium has them."""

    pointer: str = ""
    sheet: str | None = None
    cell: str | None = None
    line: int | None = None
    xpath: str | None = None

    def render(self) -> str:
        if self.sheet is not None:
            return f"{self.sheet}!{self.cell}" if self.cell else self.sheet
        if self.xpath is not None:
            return self.xpath
        if self.line is not None:
            return f"line {self.line}" + (f" {self.pointer}" if self.pointer else "")
        return self.pointer or "/"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"pointer": self.pointer}
        for key in ("sheet", "cell", "line", "xpath"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@dataclass(frozen=True, slots=True)
class Rule:
    """A catalogued check: stable ``id``, default severity, layer, the clause it enforces, and the
    ``format`` (adapter name) whose catalogue declares it."""

    id: str
    severity: Severity
    layer: Layer
    title: str
    reference: str
    format: str

    @property
    def standard(self) -> str:
        """Deprecated: the old name of :attr:`format`."""
        warnings.warn("Rule.standard is deprecated; use Rule.format", DeprecationWarning, stacklevel=2)
        return self.format

    def finding(self, message: str, location: Location, *, cause: object | None = None,
                severity: Severity | None = None) -> Finding:
        return Finding(rule=self.id, severity=severity or self.severity, location=location,
                       message=message, reference=self.reference, cause=cause)


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: Severity
    location: Location
    message: str
    reference: str
    cause: object | None = field(default=None, compare=False)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def as_dict(self) -> dict[str, Any]:
        """The documented JSON shape of a finding (``--json`` and problem+json ``errors[]``)."""
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "location": self.location.render(),
            "pointer": self.location.pointer,
            "message": self.message,
            "reference": self.reference,
        }


#: One rule declaration: ``(id, severity, layer, title, reference)``.
RuleSpec = tuple[str, Severity, Layer, str, str]


class RuleCatalogue:
    """The rules of one format (an adapter's name, e.g. ``aef``), keyed by stable id."""

    def __init__(self, format: str) -> None:
        self.format = format
        self._rules: dict[str, Rule] = {}

    @property
    def standard(self) -> str:
        """Deprecated: the old name of :attr:`format`."""
        warnings.warn("RuleCatalogue.standard is deprecated; use RuleCatalogue.format", DeprecationWarning,
                      stacklevel=2)
        return self.format

    def add(self, rule_id: str, *, severity: Severity, layer: Layer, title: str, reference: str) -> Rule:
        if rule_id in self._rules:
            raise ValueError(f"rule {rule_id} declared twice")
        rule = Rule(rule_id, severity, layer, title, reference, self.format)
        self._rules[rule_id] = rule
        return rule

    def declare(self, rule_id: str, severity: Severity, layer: Layer, title: str, reference: str) -> Rule:
        """:meth:`add` with positional arguments, in the order of a :data:`RuleSpec` row."""
        return self.add(rule_id, severity=severity, layer=layer, title=title, reference=reference)

    def declare_all(self, specs: Iterable[RuleSpec]) -> list[Rule]:
        """Declare a table of ``(id, severity, layer, title, reference)`` rows, in order."""
        return [self.declare(*spec) for spec in specs]

    def __getitem__(self, rule_id: str) -> Rule:
        return self._rules[rule_id]

    def __iter__(self) -> Iterator[Rule]:
        return iter(self._rules.values())

    def __len__(self) -> int:
        return len(self._rules)

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._rules


@dataclass(slots=True)
class Report:
    """The result of validating one input."""

    standard: str
    findings: list[Finding] = field(default_factory=list)
    records: int = 0

    @property
    def valid(self) -> bool:
        return not any(f.is_error for f in self.findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.is_error]

    def as_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "findings": [f.as_dict() for f in self.findings]}

    def extend(self, findings: Iterable[Finding]) -> None:
        self.findings.extend(findings)


def summarize(findings: Iterable[Finding]) -> Mapping[str, int]:
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.severity.value] = counts.get(f.severity.value, 0) + 1
    return counts
