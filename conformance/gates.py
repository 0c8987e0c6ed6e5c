"""Ordered gates for endpoint kits: groups run in order; when a required test of a gate does not pass,
every test of the later gates is skipped (their verdicts would say nothing once an earlier category
failed). Each test is a callable that returns observations (empty: pass) or raises
:class:`Omitted`; any other exception is the suite's own ``error``, never a traceback."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from conformance._model import Group, Observation, Progress, Suite, TestResult, TestSpec, Verdict
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
