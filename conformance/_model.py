"""The kit model: a kit is a tree suite -> group -> test; each test traces to one clause.

A :class:`Kit` is what a plugin provides (through the ``carbonlink.conformance_kits`` entry-point
group): its name and version, its tree, the clauses it sets out to cover, and a ``run`` that turns a
target into :class:`TestResult` rows. Everything here is plain data; running and reporting live in
their own modules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, runtime_checkable


class Verdict(StrEnum):
    """The verdict of one test on one subject (a message, or the endpoint)."""

    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"  # not run although it applies (a gate before it failed): blocks certification
    OMIT = "omit"  # does not apply to this subject
    ERROR = "error"  # the suite itself failed while running the test


@dataclass(frozen=True, slots=True)
class Clause:
    """A clause a test checks: a decision, table and field, or an RFC section (``id`` is its citation)."""

    id: str
    source: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "source": self.source}


@dataclass(frozen=True, slots=True)
class TestSpec:
    """One test of a kit: ``id`` unique in the kit, the clause it traces to, and whether a pass is
    required for a certificate (a failed optional test is reported, never blocking)."""

    id: str
    title: str
    clause: Clause
    required: bool = True


@dataclass(frozen=True, slots=True)
class Group:
    """Tests of one category. In an endpoint kit groups are ordered gates: when a required test of a
    gate fails, the tests of every later gate are skipped."""

    id: str
    title: str
    tests: tuple[TestSpec, ...]


@dataclass(frozen=True, slots=True)
class Suite:
    """The root of a kit's tree."""

    id: str
    title: str
    groups: tuple[Group, ...]
    gated: bool = False

    def tests(self) -> Iterator[tuple[Group, TestSpec]]:
        for group in self.groups:
            for test in group.tests:
                yield group, test

    def test(self, test_id: str) -> TestSpec:
        for _, test in self.tests():
            if test.id == test_id:
                return test
        raise KeyError(test_id)


@dataclass(frozen=True, slots=True)
class Observation:
    """What a failed (or noted) check saw: rule, where, what was expected and what was found."""

    rule: str
    location: str
    expected: str
    found: str
    message: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "location": self.location, "expected": self.expected,
                "found": self.found, "message": self.message}


@dataclass(frozen=True, slots=True)
class TestResult:
    """The verdict of one test on one subject (a message file, or ``endpoint``)."""

    test: str
    subject: str
    verdict: Verdict
    observations: tuple[Observation, ...] = ()
    reason: str = ""
    seconds: float = 0.0


#: Called once per subject (or test) done, with the count done and the total: drives a progress bar.
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Target:
    """What a run checks: files (``path``) or an endpoint (``url``), with the kit's options."""

    text: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def is_url(self) -> bool:
        return self.text.startswith(("http://", "https://"))

    @property
    def path(self) -> Path:
        return Path(self.text)


@runtime_checkable
class Kit(Protocol):
    """The shape a conformance kit plugin has."""

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def suite(self) -> Suite: ...

    @property
    def clauses(self) -> Sequence[Clause]:
        """Every clause the kit sets out to cover (the traceability report's rows)."""
        ...

    def run(self, target: Target, progress: Progress | None = None) -> list[TestResult]:
        """Run every test over the target; raise :class:`~conformance.errors.ConformanceError` when it
        cannot run at all."""
        ...
