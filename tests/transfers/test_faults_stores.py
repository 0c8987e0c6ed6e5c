"""Store faults, a fast sample of ``bench/faults_stores.py``: PostgreSQL (the evidence log) killed and
restarted, a persistent Redis killed and restarted, the evidence disk full; 0 lost, 0 duplicated, 0 falsely
receipted."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.transfers import faults_stores as stores

pytestmark = pytest.mark.e2e

MESSAGES = 6


@pytest.fixture(autouse=True)
def _tools() -> None:
    missing = stores.missing_tools()
    if missing or os.geteuid() != 0:
        pytest.skip(f"needs root and {', '.join(missing) or 'nothing else'}")


def _assert_nothing_wrong(counts: dict[str, int]) -> None:
    assert counts["messages"] >= MESSAGES
    assert (counts["lost"], counts["duplicated"], counts["falsely_receipted"]) == (0, 0, 0), counts


def test_postgres_killed_and_restarted(tmp_path: Path) -> None:
    with stores.postgres_run(tmp_path) as (run, postgres):
        ids = stores.postgres_restart(run, MESSAGES, postgres)
        _assert_nothing_wrong(run.counts(ids))
        assert any(key.startswith("503 EVIDENCE.") for key in run.tally.statuses), run.tally.statuses


def test_persistent_redis_killed_and_restarted(tmp_path: Path) -> None:
    with stores.persistent_redis_run(tmp_path) as run:
        ids = stores.redis_persistent_restart(run, MESSAGES)
        _assert_nothing_wrong(run.counts(ids))


def test_evidence_disk_full_then_freed(tmp_path: Path) -> None:
    with stores.full_disk_run(tmp_path) as (run, disk):
        ids = stores.disk_full(run, MESSAGES, disk)
        _assert_nothing_wrong(run.counts(ids))
        assert run.tally.statuses["503 EVIDENCE.STORE_UNAVAILABLE"] >= 1, run.tally.statuses
        assert run.health_seen["during"]["status"] == "degraded" and run.health_seen["after"]["status"] == "ok"
