"""The traceability report: every clause a kit sets out to cover, with the tests that check it."""

from __future__ import annotations

from typing import Any

from conformance._model import Kit


def traceability(kit: Kit) -> dict[str, Any]:
    """``covered``: clauses with at least one test (and which); ``notCovered``: clauses with none."""
    tests_by_clause: dict[str, list[str]] = {}
    for _, test in kit.suite.tests():
        tests_by_clause.setdefault(test.clause.id, []).append(test.id)
    covered = [{"clause": c.id, "source": c.source, "tests": tests_by_clause[c.id]}
               for c in kit.clauses if c.id in tests_by_clause]
    not_covered = [{"clause": c.id, "source": c.source} for c in kit.clauses if c.id not in tests_by_clause]
    return {"kit": {"name": kit.name, "version": kit.version}, "covered": covered, "notCovered": not_covered}
