"""A held four-eyes transfer between real processes: a gateway and sandbox registries of CHE and GHA. The
transfer is held (202), nothing reaches GHA; two approval messages by different officers - one of them known
only by the directory entry's officer keys - release it: GHA holds the units, the sender gets the gateway's
signed receipt (the same on a retry), the evidence log names the approving officers and the policy version."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from joserfc.jwk import Key

from gateway.client import GatewayClient
from gateway.demo import Network, Registry, itmo_message
from gateway.digests import sha256_hex
from gateway.evidence import open_log
from gateway.governance import sign_approval, sign_policy
from gateway.trust import development
from gateway.trust.keys import generate_key, public_jwk

pytestmark = pytest.mark.e2e

CHE_HOLDS = "CA0001-CHE01-CHE-1-2023..CA0001-CHE01-CHE-1000000-2023@treasury"


@pytest.fixture(scope="module")
def net() -> Iterator[tuple[Network, dict[str, Key]]]:
    officers = {"alice": generate_key("ES256", "alice-1"), "bob": generate_key("ES256", "bob-1")}
    registries = [Registry("che", "CHE", "aef", holds=[CHE_HOLDS]), Registry("gha", "GHA", "aef")]
    network = Network(registries)
    # alice's key is embedded in the policy; bob is named by id, his key is in CHE's directory entry
    original = network._participants

    def participants() -> list[dict[str, Any]]:
        entries = original()
        for entry in entries:
            if entry["id"] == "che":
                entry["officers"] = [{"id": "bob", "keys": [public_jwk(officers["bob"])]}]
        return entries

    network._participants = participants  # type: ignore[method-assign]
    content = {"iss": "development-network-operator", "environment": "development", "version": 1,
               "participants": {"che": {"four_eyes_above": "100", "four_eyes_hold": True,
                                        "officers": [{"id": "alice", "keys": [public_jwk(officers["alice"])]},
                                                     {"id": "bob"}]}}}
    (network.root / "policy.jws").write_text(sign_policy(content, development.anchor(), valid_for=86400))
    network.gateway_env["CARBONLINK_POLICY"] = str(network.root / "policy.jws")
    with network:
        yield network, officers


def test_a_held_transfer_is_released_by_two_approval_messages(net: tuple[Network, dict[str, Key]]) -> None:
    network, officers = net
    che = network.client("che")
    approver = GatewayClient(network.gateway_url, "che", che.key, scope="approvals:write")
    body = orjson.dumps(itmo_message(sender_party="CHE", receiver_party="GHA", first=1, last=150))
    before = int(network.sandbox("gha").holdings()["total"]["held"])

    def approval(officer: str) -> str:
        return sign_approval(officers[officer], officer=officer, sender="che", kind="transfers",
                             message_id="held-1", body_sha256=sha256_hex(body))

    held = che.send(body, message_id="held-1")
    assert held.status == 202 and held.body["code"] == "GOVERNANCE.TRANSFER_HELD", held.body
    assert int(network.sandbox("gha").holdings()["total"]["held"]) == before  # nothing delivered
    waiting = approver.approve("held-1", [approval("alice")])
    assert waiting.status == 202 and waiting.body["approved_by"] == ["alice"]
    released = approver.approve("held-1", [approval("bob")])
    assert released.status == 200 and released.body["outcome"] == "accepted", released.body  # receipt verified
    assert int(network.sandbox("gha").holdings()["total"]["held"]) == before + 150
    again = che.send(body, message_id="held-1")  # the sender's retry: the same receipt, byte for byte
    assert again.status == 200 and again.replayed and again.raw == released.raw
    listed = approver.request("GET", "/v1/transfers/held?state=released").json()["held"]
    assert [(h["message_id"], h["approved_by"]) for h in listed] == [("held-1", ["alice", "bob"])]
    log = open_log(f"sqlite:///{network.root / 'gateway' / 'evidence.sqlite3'}", create=False)
    try:
        verdicts = [r.verdicts for r in log.find("che", "held-1")]
    finally:
        log.close()
    assert [v["outcome"] for v in verdicts][:2] == ["held", "delivering"]
    assert verdicts[1]["policy"] == {"version": 1, "decision": "allowed", "controlled": True, "units": "150",
                                     "approved_by": ["alice", "bob"]}
