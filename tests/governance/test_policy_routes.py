"""The policy on a gateway in this process: ``GET /v1/policy`` for the roles allowed to read it, and the relay's
refusals as problem+json (never a 500) before anything is delivered: four eyes, kill switch, fail closed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from joserfc.jwk import Key

from gateway.client import GatewayClient
from gateway.demo import itmo_message
from gateway.digests import sha256_hex
from gateway.governance import sign_approval, sign_policy
from gateway.trust.keys import generate_key, public_jwk
from tests.support.apps import InProcessGateway
from tests.support.ports import free_port
from tests.trust.support import TrustWorld

BODY = orjson.dumps(itmo_message(sender_party="CHE", receiver_party="GHA", first=1, last=5000))


class Governed:
    """A trust world with a network operator and a registry operator, and a policy file signed as asked."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.world = TrustWorld(root)
        self.operator = generate_key("ES256", "op-1")
        self.officers = {"alice": generate_key("ES256", "alice-1"), "bob": generate_key("ES256", "bob-1")}
        for entry in self.world.content["participants"]:
            if entry["id"] == "che-registry":
                entry.update(roles=[{"role": "registry-operator"}], message_kinds=["transfers"], scopes=[])
        self.world.content["participants"].append({
            "id": "operator", "party": "NOR", "party_registry_id": "NOR01", "status": "active", "format": "aef",
            "jwks": {"keys": [public_jwk(self.operator)]}, "roles": [{"role": "network-operator"}]})
        self.world.write_directory()
        self.gateway: InProcessGateway | None = None

    def content(self, **che: Any) -> dict[str, Any]:
        officers = [{"id": name, "keys": [public_jwk(key)]} for name, key in self.officers.items()]
        return {"iss": "operator", "environment": "test", "version": 1, "defaults": {"daily_limit": "1000000"},
                "participants": {"che-registry": {"four_eyes_above": "1000", "officers": officers, **che},
                                 "gha-registry": {"timezone": "Africa/Accra"}}}

    def start(self, token: str | None, **env: str) -> InProcessGateway:
        extra = {"CARBONLINK_DATA_DIR": str(self.root / "data"), **env}
        if token is not None:
            (self.root / "policy.jws").write_text(token)
            extra["CARBONLINK_POLICY"] = str(self.root / "policy.jws")
        self.gateway = InProcessGateway(self.world.env(free_port(), **extra), self.root)
        return self.gateway

    def client(self, pid: str, scope: str) -> GatewayClient:
        assert self.gateway is not None
        key = self.operator if pid == "operator" else self.world.clients[pid]
        return GatewayClient(self.gateway.base, pid, key, scope=scope, http=self.gateway.client())

    def approval(self, officer: str, message_id: str) -> str:
        return sign_approval(self.officers[officer], officer=officer, sender="che-registry", kind="transfers",
                             message_id=message_id, body_sha256=sha256_hex(BODY))


@pytest.fixture
def net(tmp_path: Path) -> Iterator[Governed]:
    governed = Governed(tmp_path)
    yield governed
    if governed.gateway is not None:
        governed.gateway.stop()




def signed(key: Key, content: dict[str, Any], **kw: Any) -> str:
    return sign_policy(content, key, **kw)


def test_the_network_operator_reads_the_whole_policy_a_registry_its_own_controls(net: Governed) -> None:
    net.start(signed(net.operator, net.content()))
    whole = net.client("operator", "policy:read").request("GET", "/v1/policy")
    assert whole.status_code == 200, whole.text
    assert whole.json()["policy"]["version"] == 1 and whole.json()["token"].count(".") == 2
    assert set(whole.json()["policy"]["participants"]) == {"che-registry", "gha-registry"}
    own = net.client("che-registry", "policy:read").request("GET", "/v1/policy")
    assert own.status_code == 200, own.text
    assert set(own.json()["policy"]["participants"]) == {"che-registry"} and "token" not in own.json()
    assert own.json()["policy"]["participants"]["che-registry"]["daily_limit"] == "1000000"  # from the defaults
    # a registry without the role has no policy:read scope to ask for
    assert net.client("gha-registry", "peers:read").request("GET", "/v1/policy").status_code == 403


def test_a_transfer_above_the_threshold_without_two_officers_is_refused_before_delivery(net: Governed) -> None:
    net.start(signed(net.operator, net.content()))
    che = net.client("che-registry", "messages:send")
    sent = che.send(BODY, message_id="fe-1")
    assert sent.status == 403 and sent.body["code"] == "GOVERNANCE.POLICY_APPROVAL_REQUIRED", sent.body
    assert "policy version 1" in sent.body["detail"] and "four_eyes_above" in sent.body["detail"]
    twice = che.send(BODY, message_id="fe-1", approvals=[net.approval("alice", "fe-1")] * 2)
    assert twice.body["code"] == "GOVERNANCE.POLICY_APPROVAL_SAME_OFFICER"
    replayed = che.send(BODY, message_id="fe-2", approvals=[net.approval("alice", "fe-1"), net.approval("bob", "fe-1")])
    assert replayed.body["code"] == "GOVERNANCE.POLICY_APPROVAL_MISMATCH"


def test_the_kill_switch_refuses_the_participant(net: Governed) -> None:
    net.start(signed(net.operator, net.content(kill_switch=True, kill_reason="suspected compromise")))
    sent = net.client("che-registry", "messages:send").send(BODY, message_id="ks-1")
    assert sent.status == 403 and sent.body["code"] == "GOVERNANCE.POLICY_KILL_SWITCH"
    assert "suspected compromise" in sent.body["detail"]


@pytest.mark.parametrize("why", ["not yet in force", "signed by a registry", "expired"])
def test_without_a_valid_policy_transfers_fail_closed(net: Governed, why: str) -> None:
    now = int(time.time())
    token = {"not yet in force": lambda: signed(net.operator, net.content(), not_before=now + 3600),
             "signed by a registry": lambda: signed(net.world.clients["che-registry"], net.content()),
             "expired": lambda: signed(net.operator, net.content(), now=now - 7200, valid_for=3600)}[why]()
    net.start(token)
    sent = net.client("che-registry", "messages:send").send(BODY, message_id="fc-1")
    assert sent.status == 503 and sent.body["code"] == "GOVERNANCE.POLICY_UNAVAILABLE", sent.body
    assert sent.retry_after == "30"
    read = net.client("operator", "policy:read").request("GET", "/v1/policy")
    assert read.status_code == 503 and read.json()["code"] == "GOVERNANCE.POLICY_UNAVAILABLE"


def test_a_gateway_without_a_policy_says_so(net: Governed) -> None:
    net.start(None)
    read = net.client("operator", "policy:read").request("GET", "/v1/policy")
    assert read.status_code == 404 and read.json()["code"] == "GOVERNANCE.POLICY_NOT_CONFIGURED"


def test_a_new_version_written_mid_run_is_in_force_after_the_refresh(net: Governed) -> None:
    net.start(signed(net.operator, net.content()), CARBONLINK_POLICY_REFRESH_SECONDS="1")
    che = net.client("che-registry", "messages:send")
    assert che.send(BODY, message_id="ro-1").body["code"] == "GOVERNANCE.POLICY_APPROVAL_REQUIRED"
    stop = {**net.content(kill_switch=True), "version": 2}
    (net.root / "policy.jws").write_text(signed(net.operator, stop))
    time.sleep(1.2)
    sent = che.send(BODY, message_id="ro-2")
    assert sent.status == 403 and sent.body["code"] == "GOVERNANCE.POLICY_KILL_SWITCH"
    assert "policy version 2" in sent.body["detail"]
    # an older version written back is a rollback: version 2 stays in force
    (net.root / "policy.jws").write_text(signed(net.operator, net.content()))
    time.sleep(1.2)
    assert che.send(BODY, message_id="ro-3").body["code"] == "GOVERNANCE.POLICY_KILL_SWITCH"
    read = net.client("operator", "policy:read").request("GET", "/v1/policy")
    assert read.json()["policy"]["version"] == 2
