"""A SQLite idempotency store on a file that stops taking writes fails with the coded, retryable
``IDEMPOTENCY.STORE_UNAVAILABLE`` and works again when the file does, without a restart."""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

import pytest

from gateway.evidence import EvidenceStoreUnavailable
from gateway.idempotency import ClaimState, IdempotencyStoreUnavailable, open_store
from gateway.transfers._health import EVIDENCE, StoreHealth
from tests.idempotency.conftest import DIGEST_A


def test_a_read_only_file_fails_coded_and_the_store_recovers(tmp_path: Path) -> None:
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    path = tmp_path / "idem.db"
    store = open_store(f"sqlite:///{path}")
    assert store.claim("che", "m-1", DIGEST_A).state is ClaimState.NEW
    files = [path, path.with_name("idem.db-wal")]
    for file in files:
        subprocess.run(["chattr", "+i", str(file)], check=True)
    try:
        for _ in range(2):
            with pytest.raises(IdempotencyStoreUnavailable) as failed:
                store.claim("che", "m-2", DIGEST_A)
            assert failed.value.retry_after and "no transaction is active" not in failed.value.message
    finally:
        for file in files:
            subprocess.run(["chattr", "-i", str(file)], check=True)
    assert store.claim("che", "m-2", DIGEST_A).state is ClaimState.NEW
    store.close()


def test_store_failures_are_logged_once_per_transition(caplog: pytest.LogCaptureFixture) -> None:
    health = StoreHealth()
    caplog.set_level(logging.INFO, logger="carbonlink.transfers")
    for _ in range(5):
        with pytest.raises(EvidenceStoreUnavailable), health.watch(EVIDENCE):
            raise EvidenceStoreUnavailable("the SQLite evidence log refused the append: disk I/O error")
    assert set(health.failing()) == {EVIDENCE}
    for _ in range(5):
        with health.watch(EVIDENCE):
            pass
    assert health.failing() == {}
    levels = [(r.levelname, r.getMessage().split(" (")[0]) for r in caplog.records]
    assert levels == [("ERROR", "the evidence log is failing"), ("WARNING", "the evidence log works again")]
