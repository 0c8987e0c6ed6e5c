"""A message kit: a rule catalogue, the adapter check that enforces it, and the kit's case files."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from conformance._messages import Checker, run_messages
from conformance._model import Clause, Progress, Suite, Target, TestResult
from conformance.cases import CaseRunner


@dataclass(frozen=True)
class MessageKit:
    """A kit over message files (see :mod:`conformance._messages`)."""

    name: str
    version: str
    description: str
    suite: Suite
    check: Checker
    suffixes: frozenset[str]
    cases_dir: Path
    fire: CaseRunner
    #: every rule of the kit's catalogues (the cases must cover each, in the run tree or not)
    catalogue_rules: frozenset[str] = frozenset()
    extra_clauses: Sequence[Clause] = field(default=())

    @property
    def clauses(self) -> Sequence[Clause]:
        seen = {test.clause.id: test.clause for _, test in self.suite.tests()}
        for clause in self.extra_clauses:
            seen.setdefault(clause.id, clause)
        return list(seen.values())

    @property
    def rule_ids(self) -> set[str]:
        """The rules the cases must cover: the catalogues' (the tests of the tree when none is given)."""
        return set(self.catalogue_rules) or {test.id for group, test in self.suite.tests() if group.id != "reading"}

    def run(self, target: Target, progress: Progress | None = None) -> list[TestResult]:
        return run_messages(self.suite, target, self.check, self.suffixes, progress)
