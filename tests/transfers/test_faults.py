"""Fault injection, a fast sample: real gateway and registry processes, a private Redis without
persistence, and each fault of :data:`tests.transfers.faults.SCENARIOS` injected while messages flow.
Every scenario must end with every message receipted once and applied once: 0 lost, 0 duplicated,
0 falsely receipted. ``bench/faults.py --messages 600`` is the long run."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.transfers.faults import SCENARIOS, FaultRun, fault_run

pytestmark = pytest.mark.e2e  # the process tier: real gateway, registry and redis-server processes

MESSAGES = 12


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultRun]:
    if shutil.which("redis-server") is None or shutil.which("chattr") is None:
        pytest.skip("the fault sample needs redis-server and chattr")
    with fault_run(Path(tmp_path_factory.mktemp("faults"))) as faults:
        yield faults


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_no_message_is_lost_duplicated_or_falsely_receipted(run: FaultRun, scenario: str) -> None:
    ids = SCENARIOS[scenario](run, MESSAGES)
    counts = run.counts(ids)
    assert counts["messages"] >= MESSAGES
    assert (counts["lost"], counts["duplicated"], counts["falsely_receipted"]) == (0, 0, 0), (counts,
                                                                                            run.tally.statuses)
    if scenario.startswith(("Redis", "evidence")):  # nothing delivered twice: the receipt on record answers
        assert counts["redelivered"] == 0, counts
    if scenario.startswith("evidence"):
        during, after = run.health_seen["during"], run.health_seen["after"]
        assert during["status"] == "degraded" and not during["checks"]["evidence_log"]["ok"], during
        assert during["checks"]["evidence_log"]["code"] == "EVIDENCE.STORE_UNAVAILABLE"
        assert after["status"] == "ok", after
        assert any(s.startswith("503 EVIDENCE.STORE_UNAVAILABLE") for s in run.tally.statuses), run.tally.statuses
    if scenario.startswith("Redis"):
        assert run.concurrent_retries == ["409 IDEMPOTENCY.IN_PROGRESS"], run.concurrent_retries
        assert any(s.startswith("503 IDEMPOTENCY.STORE_UNAVAILABLE") for s in run.tally.statuses), run.tally.statuses
