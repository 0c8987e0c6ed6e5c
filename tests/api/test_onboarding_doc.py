"""docs/onboarding.md runs as written: its file blocks are written to their names, its ``sh`` blocks run in
order as one bash script (a gateway and a sandbox registry as real processes on loopback), and what they
print is what the document says they print."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.ports import free_port

pytestmark = pytest.mark.e2e  # real carbonlink processes over HTTP

DOC = Path(__file__).resolve().parents[2] / "docs" / "onboarding.md"
BLOCK = re.compile(r"^```(\w+)(?: ([\w.-]+))?\n(.*?)^```$", re.M | re.S)
#: Stops what the script started, whatever happened (the document's own last block does it on success).
CLEANUP = "trap 'kill $(cat gateway.pid sandbox.pid 2>/dev/null) 2>/dev/null || true' EXIT\nset -euo pipefail\n"


def blocks() -> list[tuple[str, str | None, str]]:
    return [(m.group(1), m.group(2), m.group(3)) for m in BLOCK.finditer(DOC.read_text(encoding="utf-8"))]


def test_the_document_has_runnable_steps() -> None:
    kinds = [(lang, name) for lang, name, _ in blocks()]
    assert ("json", "first-transfer.json") in kinds and ("python", "send_first_transfer.py") in kinds
    assert sum(1 for lang, _ in kinds if lang == "sh") >= 6
    assert {lang for lang, _ in kinds} <= {"sh", "json", "python", "text"}


def test_the_onboarding_walkthrough_runs(tmp_path: Path) -> None:
    if shutil.which("curl") is None:
        pytest.skip("the walk-through uses curl")
    script = [CLEANUP]
    for lang, name, text in blocks():
        if name is not None:
            (tmp_path / name).write_text(text, encoding="utf-8")
        elif lang == "sh":
            script.append(text)
    (tmp_path / "onboarding.sh").write_text("\n".join(script), encoding="utf-8")
    bindir = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARBONLINK_")}
    env.update(PATH=bindir + os.pathsep + env.get("PATH", ""), GW_PORT=str(free_port()), RX_PORT=str(free_port()))
    done = subprocess.run(["bash", "onboarding.sh"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=180, check=False)
    out = done.stdout
    logs = "".join(f"\n--- {p.name}\n" + p.read_text()[-3000:] for p in tmp_path.glob("*.log"))
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:] + logs
    assert "valid test directory from example-governing-body, sequence 1, 2 participants" in out
    assert '"status":"ok"' in out and '"token_endpoint"' in out
    assert "token: DPoP messages:send" in out
    assert re.search(r"receipt: [0-9a-f-]{36} outcome: accepted receiver: gha-registry", out), out
    assert "retry: 200 replayed: true same receipt: True" in out
    assert "same id, other body: 409 IDEMPOTENCY.BODY_MISMATCH" in out
    assert '"total":{"held":10,"pending":0}' in out
    assert "evidence chain OK: 2 records" in out
    assert (tmp_path / "receipt-che-2026-0001.json").exists()
    assert "Traceback" not in done.stderr + logs
