"""``/healthz`` and the log follow the transfer path's stores: an evidence log that cannot be written
turns the gateway ``degraded`` (503, the store named with its code), logged once at ERROR however often
it is probed; when the file is writable again the same process is ``ok`` again, logged once at WARNING."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.apps import InProcessGateway
from tests.support.ports import free_port
from tests.trust.support import TrustWorld


def test_healthz_names_a_failing_evidence_log_and_recovers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    world = TrustWorld(tmp_path)
    monkeypatch.setenv("CARBONLINK_DATA_DIR", str(tmp_path / "data"))
    gw = InProcessGateway(world.env(free_port()), tmp_path)
    database = tmp_path / "data" / "evidence.sqlite3"
    files = [database, database.with_name("evidence.sqlite3-wal")]
    try:
        ok = gw.http.get(gw.base + "/healthz")
        assert ok.status_code == 200, ok.text
        assert ok.json()["checks"]["evidence_log"] == {"ok": True}
        assert ok.json()["checks"]["idempotency_store"] == {"ok": True}
        for file in files:
            subprocess.run(["chattr", "+i", str(file)], check=True)
        try:
            for _ in range(3):
                failing = gw.http.get(gw.base + "/healthz")
                assert failing.status_code == 503
                body = failing.json()
                assert body["status"] == "degraded"
                assert body["checks"]["evidence_log"]["ok"] is False
                assert body["checks"]["evidence_log"]["code"] == "EVIDENCE.STORE_UNAVAILABLE"
                assert body["checks"]["idempotency_store"] == {"ok": True}
        finally:
            for file in files:
                subprocess.run(["chattr", "-i", str(file)], check=True)
        back = gw.http.get(gw.base + "/healthz")
        assert back.status_code == 200 and back.json()["status"] == "ok", back.text
    finally:
        gw.stop()
    lines = gw.log.read_text().splitlines()
    assert len([line for line in lines if line.startswith("ERROR") and "evidence log is failing" in line]) == 1
    assert len([line for line in lines if line.startswith("WARNING") and "evidence log works again" in line]) == 1
