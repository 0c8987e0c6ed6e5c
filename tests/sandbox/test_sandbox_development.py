"""On the embedded development defaults (no files, no configuration): a sandbox started as
``dev-che-registry`` with ``--key development`` is the registry the gateway's embedded directory
names. The gateway's outbound client (built by the trust layer exactly as ``carbonlink serve``
builds it) gets its transfer in and accepts its signed answer; the demo runs on this."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.sandbox.errors import SandboxConfigError
from gateway.sandbox.service import MESSAGE_ID_HEADER, Sandbox, SandboxConfig
from gateway.settings import Settings
from gateway.trust.outbound import OutboundClient
from gateway.trust.setup import build_trust
from tests.sandbox.support import SandboxServer, aef_actions, gateway_signature, itmo_label
from tests.support.ports import free_port


@pytest.fixture
def dev_sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    # the embedded directory lists dev-che-registry at http://127.0.0.1:9101; the test listens on a
    # free port and accepts that issuer as audience, as the demo's sandbox on 9101 does by default
    config = SandboxConfig(format="aef", registry_id="dev-che-registry", party="CHE", db=tmp_path / "dev.sqlite3",
                           port=free_port(), key="development",
                           audiences=("dev-che-registry", "http://127.0.0.1:9101"))
    server = SandboxServer(config).start()
    yield server
    server.stop()


def test_embedded_defaults_fit_together(dev_sandbox: SandboxServer) -> None:
    settings = Settings(environment="development")
    trust = build_trust(settings)
    outbound = OutboundClient(trust.keyring, trust.directory, client_id=settings.issuer)
    body = aef_actions({})
    resp = httpx.post(dev_sandbox.base + "/messages", content=body, headers={
        "Authorization": f"Bearer {outbound.gateway_token('dev-che-registry')}", MESSAGE_ID_HEADER: "dev-1",
        **gateway_signature(trust.keyring, settings.issuer, body)})
    assert resp.status_code == 200, resp.text
    header = outbound.verify("dev-che-registry", resp.content, resp.headers, request_body=body)
    assert header["kid"] == "dev-che-1"
    assert json.loads(resp.content)["applied"][0]["units"] == itmo_label(1, 20000)


def test_development_key_only_for_development_registries(tmp_path: Path) -> None:
    with pytest.raises(SandboxConfigError) as exc:
        Sandbox(SandboxConfig(format="aef", registry_id="nobody", db=tmp_path / "x.sqlite3", key="development"))
    assert "dev-che-registry" in exc.value.message
