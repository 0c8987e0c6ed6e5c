"""``carbonlink console login`` against a gateway served over HTTP, and ``carbonlink demo --console`` leaving
the console running on the demo's traffic until interrupted."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from gateway.main import create_app
from tests.console.support import console_world, csrf_of, dev_sign_in
from tests.support.apps import settings_from_env
from tests.support.cli import run_cli
from tests.support.processes import ThreadedServer

PORT = 18520


def test_console_login_prints_a_link_that_signs_in_once(tmp_path: Path) -> None:
    world = console_world(tmp_path)
    app = create_app(settings_from_env(world.env(PORT, CARBONLINK_DATA_DIR=str(tmp_path / "data"))))
    server = ThreadedServer(app, port=PORT)
    server.start_serving()
    try:
        key = tmp_path / "che.key.json"
        key.write_text(json.dumps(world.clients["che-registry"].as_dict(private=True)))
        done = run_cli("console", "login", "--gateway", server.url, "--participant", "che-registry", "--key", str(key))
        assert done.returncode == 0, done.stderr
        url = re.search(r"(http://\S+/console/login/ticket\?ticket=\S+)", done.stdout)
        assert url and "signs in as che-registry (registry operator)" in done.stdout
        with httpx.Client(follow_redirects=True) as browser:
            confirm = browser.get(url.group(1))
            signed_in = browser.post(server.url + "/console/login/ticket",
                                     data={"csrf": csrf_of(confirm), "ticket": url.group(1).split("ticket=")[1]})
            assert signed_in.status_code == 200 and "operator of che-registry" in signed_in.text
        network = run_cli("console", "login", "--gateway", server.url, "--participant", "che-registry", "--key",
                          str(key), "--network")  # che's entry lists console:registry only
        assert network.returncode == 2 and "invalid_scope" in network.stderr, network.stderr
        missing = run_cli("console", "login", "--gateway", server.url, "--participant", "che-registry", "--key",
                          str(tmp_path / "nothing.json"))
        assert missing.returncode == 2 and missing.stderr.startswith("carbonlink: CLI.KEY:")
    finally:
        server.stop_serving()


@pytest.mark.e2e
def test_demo_with_console_keeps_running_until_interrupted(tmp_path: Path) -> None:
    demo = subprocess.Popen([str(Path(sys.executable).parent / "carbonlink"), "demo", "--console"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert demo.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            line = demo.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "press Ctrl-C" in line:
                break
        text = "".join(lines)
        found = re.search(r"operator console: (http://127\.0\.0\.1:\d+)/console/login", text)
        assert found, text
        assert "development login" in text and "demo-0002: rejected" in text
        base = found.group(1)
        with httpx.Client() as browser:
            assert dev_sign_in(browser, base, "network").status_code == 303
            listing = browser.get(base + "/console/messages").text
        assert "demo-0001" in listing and "demo-0002" in listing
        assert demo.poll() is None  # still running
        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=60) == 0
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()


@pytest.mark.e2e
def test_demo_without_console_exits_by_itself(tmp_path: Path) -> None:
    """README command (1): ``carbonlink demo`` on the embedded defaults ends on its own (CI runs it)."""
    done = subprocess.run([str(Path(sys.executable).parent / "carbonlink"), "demo"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "sender settlement: debited" in done.stdout and "operator console" not in done.stdout
    # roles: GHA's national authority issues the authorization the first transfer cites (the gate checks it)
    assert "gha-authority issued authorization GHA-A6-2023-001 version 1" in done.stdout
