"""Ordered gates for endpoint kits: groups run in order; when a required test of a gate does not pass,
every test of the later gates is skipped (their verdicts would say nothing once an earlier category
failed). Each test is a callable that returns observations (empty: pass) or raises
:class:`Omitted`; any other exception is the suite's own ``error``, never a traceback."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from conformance._model import Clause, Group, Observation, Progress, Suite, Target, TestResult, TestSpec, Verdict
from standards.errors import CarbonlinkError


class Omitted(Exception):
    """The test does not apply to this target (its reason is the message)."""


#: A gate test: observations of what went wrong (an empty sequence is a pass).
Check = Callable[[], Sequence[Observation]]


@dataclass(frozen=True)
class GateTest:
    spec: TestSpec
    check: Check


@dataclass(frozen=True)
class Gate:
    id: str
    title: str
    tests: tuple[GateTest, ...]


def gated_suite(suite_id: str, title: str, gates: Sequence[Gate]) -> Suite:
    return Suite(suite_id, title, tuple(Group(g.id, g.title, tuple(t.spec for t in g.tests)) for g in gates),
                 gated=True)


def _one(test: GateTest, subject: str) -> TestResult:
    started = time.perf_counter()
    try:
        observations = tuple(test.check())
    except Omitted as exc:
        return TestResult(test.spec.id, subject, Verdict.OMIT, reason=str(exc))
    except CarbonlinkError as exc:
        return TestResult(test.spec.id, subject, Verdict.ERROR, reason=f"{exc.code}: {exc.message}",
                          seconds=time.perf_counter() - started)
    except Exception as exc:  # the suite itself failed: an error verdict, the run goes on
        return TestResult(test.spec.id, subject, Verdict.ERROR, reason=f"{type(exc).__name__}: {exc}",
                          seconds=time.perf_counter() - started)
    verdict = Verdict.FAIL if observations else Verdict.PASS
    return TestResult(test.spec.id, subject, verdict, observations, seconds=time.perf_counter() - started)


def run_gates(gates: Sequence[Gate], subject: str, progress: Progress | None = None) -> list[TestResult]:
    total = sum(len(g.tests) for g in gates)
    results: list[TestResult] = []
    blocked_by: str | None = None
    for gate in gates:
        gate_failed = False
        for test in gate.tests:
            if blocked_by is not None:
                results.append(TestResult(test.spec.id, subject, Verdict.SKIP,
                                          reason=f"an earlier gate ({blocked_by}) did not pass"))
            else:
                result = _one(test, subject)
                results.append(result)
                gate_failed |= test.spec.required and result.verdict in (Verdict.FAIL, Verdict.ERROR)
            if progress is not None:
                progress(len(results), total)
        if gate_failed and blocked_by is None:
            blocked_by = gate.id
    return results


class Probe(Protocol):
    """What an endpoint kit talks to its target through (HTTP clients, keys); closed after a run."""

    def close(self) -> None: ...


P = TypeVar("P", bound=Probe)


@dataclass(frozen=True)
class GatedKit(Generic[P]):
    """An endpoint kit: ordered gates built over a probe of the target. The suite (for listing and
    tracing) is built over a template probe that never connects."""

    name: str
    version: str
    description: str
    title: str
    subject: str  #: what the target is, in the verdicts' wording ("gateway", "endpoint")
    probe: Callable[[Target], P]
    template: Callable[[], P]
    gates: Callable[[P], Sequence[Gate]]
    not_yet: tuple[Clause, ...] = ()  #: clauses aimed at, not tested yet (the trace lists them)

    @property
    def suite(self) -> Suite:
        probe = self.template()
        try:
            return gated_suite(self.name, self.title, self.gates(probe))
        finally:
            probe.close()

    @property
    def clauses(self) -> Sequence[Clause]:
        seen = {test.clause.id: test.clause for _, test in self.suite.tests()}
        return [*seen.values(), *self.not_yet]

    def run(self, target: Target, progress: Progress | None = None) -> list[TestResult]:
        probe = self.probe(target)
        try:
            return run_gates(self.gates(probe), self.subject, progress)
        finally:
            probe.close()
