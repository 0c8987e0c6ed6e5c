"""Running a kit over a target: the results document, with deviations applied."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from conformance._model import Kit, Progress, Target
from conformance._results import RunResult
from conformance.deviations import Deviation, apply_deviations
from conformance.errors import ConformanceError


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def run_kit(kit: Kit, target: Target, *, progress: Progress | None = None,
            deviations: Sequence[Deviation] = ()) -> RunResult:
    """Run every test of ``kit`` over ``target``. Raises :class:`ConformanceError` when the suite cannot
    run at all (no target, unreachable endpoint); a test that fails inside is an ``error`` verdict."""
    started = _now()
    results = kit.run(target, progress)
    if not results:
        raise ConformanceError(f"kit {kit.name} produced no result for {target.text}")
    run = RunResult(kit, target.text, started, _now(), results)
    run.deviations = apply_deviations(deviations, results)
    return run
