"""A SQLite evidence log on a file that stops taking writes (made immutable with ``chattr +i``, which
stops root too, or full: ``PRAGMA max_page_count``): appends and the write probe fail with the coded,
retryable ``EVIDENCE.STORE_UNAVAILABLE`` (never ``cannot rollback - no transaction is active``), and
the same log object works again as soon as the file does, without being reopened by its owner."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from gateway.evidence import EvidenceStoreUnavailable, JwkSigner, KeySetVerifier, open_log
from gateway.evidence.sqlite import SqliteEvidenceLog
from tests.evidence.conftest import exchange


@contextmanager
def immutable(*paths: Path) -> Iterator[None]:
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    done: list[Path] = []
    try:
        for path in paths:
            if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
                pytest.skip("this file system does not take chattr +i")
            done.append(path)
        yield
    finally:
        for path in done:
            subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_read_only_file_fails_coded_and_the_log_recovers_without_restart(tmp_path: Path, signer: JwkSigner,
                                                                          keys: KeySetVerifier) -> None:
    path = tmp_path / "evidence.db"
    log = open_log(f"sqlite:///{path}", signer=signer)
    log.append(exchange(1))
    with immutable(path, path.with_name("evidence.db-wal")):
        for attempt in range(3):
            with pytest.raises(EvidenceStoreUnavailable) as failed:
                log.append(exchange(2 + attempt))
            assert failed.value.retry_after and failed.value.retry_after > 0
            assert "no transaction is active" not in failed.value.message
            with pytest.raises(EvidenceStoreUnavailable):
                log.probe()
        assert log.find_receipt("CHE-registry", "msg-1") is not None  # reads still work
    log.probe()
    assert log.append(exchange(9)).seq == 2
    assert log.verify(keys).ok
    log.close()


class FullDisk(SqliteEvidenceLog):
    """Every connection opened while ``full`` is capped at the pages the file has (SQLite's own
    ``database or disk is full``, the error a full disk gives)."""

    full = False

    def _open(self) -> sqlite3.Connection:
        conn = super()._open()
        if self.full:
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            conn.execute(f"PRAGMA max_page_count = {pages}")
        return conn


def test_a_full_database_fails_coded_and_the_log_recovers(tmp_path: Path, signer: JwkSigner) -> None:
    log = FullDisk(tmp_path / "evidence.db", signer=signer)
    log.append(exchange(1))
    log.full = True
    big = {"blob": "x" * 200_000}
    for n in (2, 3):
        with pytest.raises(EvidenceStoreUnavailable) as failed:
            log.append(exchange(n, receipt=big))
        assert "full" in failed.value.message and "no transaction is active" not in failed.value.message
    log.full = False  # the failed connections were closed: the next append opens an uncapped one
    assert log.append(exchange(4, receipt=big)).seq == 2
    log.close()
