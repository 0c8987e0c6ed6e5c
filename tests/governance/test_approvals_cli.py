"""``carbonlink approvals sign|approve|list`` against a gateway served over HTTP in this process: an officer signs
an approval of a held message offline, the registry sends it, lists its held queue; a replayed approval exits 1
with its code."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.client import GatewayClient
from gateway.digests import sha256_hex
from gateway.governance._approvals import check_one
from gateway.governance._officers import officer_keys
from gateway.governance._policy import Controls
from gateway.main import create_app
from gateway.trust.keys import public_jwk
from tests.governance.test_holds import NO_RETRIES, holding
from tests.governance.test_policy_routes import BODY, Governed, signed
from tests.support.apps import settings_from_env
from tests.support.cli import run_cli
from tests.support.ports import free_port
from tests.support.processes import ThreadedServer


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Governed, ThreadedServer]]:
    net = Governed(tmp_path)
    (tmp_path / "policy.jws").write_text(signed(net.operator, holding(net)))
    port = free_port()
    env = net.world.env(port, CARBONLINK_DATA_DIR=str(tmp_path / "data"), CARBONLINK_DELIVERY=NO_RETRIES,
                        CARBONLINK_POLICY=str(tmp_path / "policy.jws"))
    server = ThreadedServer(create_app(settings_from_env(env)), port=port)
    server.start_serving()
    yield net, server
    server.stop_serving()


def test_sign_send_and_list_approvals(served: tuple[Governed, ThreadedServer], tmp_path: Path) -> None:
    net, server = served
    che_key = tmp_path / "che.json"
    che_key.write_text(json.dumps(net.world.clients["che-registry"].as_dict(private=True)))
    body = tmp_path / "body.json"
    body.write_bytes(BODY)
    sent = GatewayClient(server.url, "che-registry", net.world.clients["che-registry"]).send(BODY, message_id="c-1")
    assert sent.status == 202, sent.body
    files = {}
    for officer in ("alice", "bob"):
        key = tmp_path / f"{officer}.json"
        key.write_text(json.dumps(net.officers[officer].as_dict(private=True)))
        made = run_cli("approvals", "sign", str(body), "--key", str(key), "--officer", officer, "--sender",
                       "che-registry", "--message-id", "c-1")
        assert made.returncode == 0, made.stderr
        files[officer] = tmp_path / f"{officer}.jws"
        files[officer].write_text(made.stdout.strip())
    # the signed approval is the officer's, bound to this body and message
    controls = Controls(officers=[{"id": n, "keys": [public_jwk(k)]} for n, k in net.officers.items()])
    assert check_one(0, files["alice"].read_text(), officer_keys(controls), sender="che-registry", kind="transfers",
                     message_id="c-1", body_sha256=sha256_hex(BODY), now=time.time(),
                     skew=30) == "alice"
    who = ["--gateway", server.url, "--client-id", "che-registry", "--key", str(che_key)]
    listed = run_cli("approvals", "list", *who, "--json")
    assert listed.returncode == 0, listed.stderr
    assert [h["message_id"] for h in json.loads(listed.stdout)["held"]] == ["c-1"]
    first = run_cli("approvals", "approve", "c-1", str(files["alice"]), *who)
    assert first.returncode == 0 and "held, approved by alice of 2 needed" in first.stdout, first.stdout + first.stderr
    again = run_cli("approvals", "approve", "c-1", str(files["alice"]), *who)
    assert again.returncode == 1 and "GOVERNANCE.POLICY_APPROVAL_REPLAYED" in again.stdout
    table = run_cli("approvals", "list", *who)
    assert table.returncode == 0 and "c-1" in table.stdout and "alice" in table.stdout
    # bob's approval completes the count: the message is relayed (to a receiver that is unreachable here: 502)
    last = run_cli("approvals", "approve", "c-1", str(files["bob"]), *who, "--json")
    assert last.returncode == 1 and json.loads(last.stdout)["status"] == 502
