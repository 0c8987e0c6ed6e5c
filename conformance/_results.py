"""A run's results as one document: the shape the JSON report, the certificate's digest and the gateway's
``/v1/conformance/runs`` share (``conformance/schema/result.schema.json``)."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from conformance._model import Kit, TestResult, Verdict

RESULT_SCHEMA_VERSION = "1"
#: verdicts that stop a required test from counting as passed
BLOCKING = frozenset({Verdict.FAIL, Verdict.SKIP, Verdict.ERROR})


@dataclass
class RunResult:
    """Everything a run found, with the kit's tree to read it by."""

    kit: Kit
    target: str
    started: str
    finished: str
    results: list[TestResult]
    deviations: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counted = Counter(r.verdict.value for r in self.results)
        return {v.value: counted.get(v.value, 0) for v in Verdict}

    def blocking(self) -> list[TestResult]:
        """Results of required tests that keep the run from certification (expected deviations do not
        excuse them: a certificate states that every required test passed)."""
        required = {test.id for _, test in self.kit.suite.tests() if test.required}
        return [r for r in self.results if r.test in required and r.verdict in BLOCKING]

    @property
    def passed(self) -> bool:
        return bool(self.results) and not self.blocking()

    def subjects(self) -> list[str]:
        return list(dict.fromkeys(r.subject for r in self.results))

    def as_dict(self) -> dict[str, Any]:
        return {
            "schemaVersion": RESULT_SCHEMA_VERSION,
            "kit": {"name": self.kit.name, "version": self.kit.version},
            "target": self.target,
            "started": self.started,
            "finished": self.finished,
            "passed": self.passed,
            "counts": self.counts(),
            "suite": _tree(self.kit),
            "results": [_result(r) for r in self.results],
            "deviations": self.deviations,
            "digest": self.digest(),
        }

    def digest(self) -> str:
        """What a certificate names: :func:`results_digest` of this run."""
        return results_digest(self.kit.name, self.kit.version, self.target, [_result(r) for r in self.results])


def results_digest(kit: str, version: str, target: str, results: list[dict[str, Any]]) -> str:
    """SHA-256 over the canonical bytes (sorted keys) of the kit, the target and every result."""
    body = {"kit": [kit, version], "target": target, "results": results}
    return "sha256:" + hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def document_digest(document: Mapping[str, Any]) -> str:
    """The digest recomputed from a results document (never read from its own ``digest`` field)."""
    kit = document.get("kit") or {}
    return results_digest(str(kit.get("name")), str(kit.get("version")), str(document.get("target")),
                          list(document.get("results") or []))


def _tree(kit: Kit) -> dict[str, Any]:
    suite = kit.suite
    return {"id": suite.id, "title": suite.title, "gated": suite.gated, "groups": [
        {"id": g.id, "title": g.title, "tests": [
            {"id": t.id, "title": t.title, "required": t.required, "clause": t.clause.as_dict()} for t in g.tests]}
        for g in suite.groups]}


def _result(r: TestResult) -> dict[str, Any]:
    out: dict[str, Any] = {"test": r.test, "subject": r.subject, "verdict": r.verdict.value,
                           "observations": [o.as_dict() for o in r.observations]}
    if r.reason:
        out["reason"] = r.reason
    return out


def ordered_failures(run: RunResult) -> Sequence[TestResult]:
    """Failures and errors first (required before optional), then skips: the order a reader wants."""
    required = {test.id for _, test in run.kit.suite.tests() if test.required}
    rank = {Verdict.ERROR: 0, Verdict.FAIL: 1, Verdict.SKIP: 2}
    picked = [r for r in run.results if r.verdict in rank]
    return sorted(picked, key=lambda r: (r.test not in required, rank[r.verdict]))
