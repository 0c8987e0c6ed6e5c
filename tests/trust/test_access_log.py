"""``CARBONLINK_ACCESS_LOG``: uvicorn's access line per request, on by default, off when set false."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support.ports import free_port
from tests.support.processes import GatewayProcess
from tests.trust.support import TrustWorld

pytestmark = pytest.mark.e2e  # a real gateway process and its log


@pytest.mark.parametrize(("setting", "logged"), [(None, True), ("true", True), ("false", False)])
def test_the_access_line_follows_the_setting(tmp_path: Path, setting: str | None, logged: bool) -> None:
    world = TrustWorld(tmp_path)
    port = free_port()
    extra = {} if setting is None else {"CARBONLINK_ACCESS_LOG": setting}
    gateway = GatewayProcess(world.env(port, **extra), log_dir=tmp_path, log_level="info")
    try:
        assert httpx.get(f"{gateway.base}/.well-known/jwks.json", timeout=10).status_code == 200
    finally:
        gateway.stop()
    log = gateway.log.read_text()
    assert "Application startup complete" in log  # the info level reaches the log either way
    assert ('"GET /.well-known/jwks.json HTTP/1.1" 200' in log) is logged
