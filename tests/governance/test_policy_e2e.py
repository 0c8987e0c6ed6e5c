"""The transaction-controls policy on the relay, between real processes: a gateway (or two sharing one PostgreSQL
controls store) and sandbox registries of CHE and GHA. A four-eyes transfer is relayed only with two officers'
approvals; the daily limit to a counterpart is one count across both gateways; decisions carry the policy
version in the evidence log."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from joserfc.jwk import Key

from gateway.client import GatewayClient
from gateway.demo import Network, Registry, itmo_message
from gateway.demo_policy import approvals
from gateway.evidence import open_log
from gateway.governance import sign_policy
from gateway.trust import development
from gateway.trust.keys import generate_key, public_jwk
from tests.support.services import unique_prefix

pytestmark = pytest.mark.e2e

CHE_HOLDS = "CA0001-CHE01-CHE-1-2023..CA0001-CHE01-CHE-1000000-2023@treasury"


def network(gateways: int = 1, env: dict[str, str] | None = None) -> tuple[Network, dict[str, Key]]:
    registries = [Registry("che", "CHE", "aef", holds=[CHE_HOLDS]),
                  Registry("gha", "GHA", "aef")]
    net = Network(registries, gateway_env=dict(env or {}), gateways=gateways)
    net.issuer = net.gateway_url
    officers = {"alice": generate_key("ES256", "alice-1"), "bob": generate_key("ES256", "bob-1")}
    content = {"iss": "development-network-operator", "environment": "development", "version": 1,
               "participants": {"che": {"four_eyes_above": "100", "counterparty_daily_limit": "300",
                                        "officers": [{"id": n, "keys": [public_jwk(k)]} for n, k in officers.items()]}}}
    (net.root / "policy.jws").write_text(sign_policy(content, development.anchor(), valid_for=86400))
    net.gateway_env["CARBONLINK_POLICY"] = str(net.root / "policy.jws")
    return net, officers


def send(client: GatewayClient, first: int, last: int, message_id: str, signed: dict[str, Key] | None = None
         ) -> tuple[int, str | None]:
    body = orjson.dumps(itmo_message(sender_party="CHE", receiver_party="GHA", first=first, last=last))
    tokens = approvals(signed, sender="che", message_id=message_id, body=body) if signed else []
    sent = client.send(body, message_id=message_id, approvals=tokens)
    return sent.status, sent.body.get("code") if sent.status != 200 else sent.body.get("outcome")


@pytest.fixture(scope="module")
def one() -> Iterator[tuple[Network, dict[str, Key]]]:
    net, officers = network()
    with net:
        yield net, officers


def test_a_four_eyes_transfer_is_relayed_with_two_officers_approvals(one: tuple[Network, dict[str, Key]]) -> None:
    net, officers = one
    che = net.client("che")
    held = int(net.sandbox("gha").holdings()["total"]["held"])
    assert send(che, 1, 150, "fe-1") == (403, "GOVERNANCE.POLICY_APPROVAL_REQUIRED")
    assert send(che, 1, 150, "fe-1", {"alice": officers["alice"]}) == (403, "GOVERNANCE.POLICY_APPROVAL_REQUIRED")
    assert send(che, 1, 150, "fe-1", officers) == (200, "accepted")  # the same message id, now approved
    assert int(net.sandbox("gha").holdings()["total"]["held"]) == held + 150
    log = open_log(f"sqlite:///{net.root / 'gateway' / 'evidence.sqlite3'}", create=False)
    try:
        verdicts = [r.verdicts for r in log.find("che", "fe-1")]
    finally:
        log.close()
    refused = [v for v in verdicts if v["outcome"] == "refused"]
    assert len(refused) == 2 and all(v["policy"]["version"] == 1 for v in refused)
    intent = next(v for v in verdicts if v["outcome"] == "delivering")
    assert intent["policy"] == {"version": 1, "decision": "allowed", "controlled": True, "units": "150",
                                "approved_by": ["alice", "bob"]}


@pytest.mark.service
def test_two_gateways_share_the_daily_limit_to_a_counterpart() -> None:
    from tests.support.services import require_postgres

    store = f"{require_postgres()}?table={unique_prefix('ctl').replace('-', '_')}"
    net, _ = network(gateways=2, env={"CARBONLINK_POLICY_STORE": store})
    with net:
        first, second = net.client("che", 0), net.client("che", 1)
        assert send(first, 2001, 2100, "lim-1") == (200, "accepted")
        assert send(second, 2101, 2200, "lim-2") == (200, "accepted")
        assert send(first, 2201, 2300, "lim-3") == (200, "accepted")  # 300: exactly the day's limit to GHA
        assert send(second, 2301, 2301, "lim-4") == (403, "GOVERNANCE.POLICY_COUNTERPARTY_LIMIT")
        assert send(first, 2301, 2301, "lim-5") == (403, "GOVERNANCE.POLICY_COUNTERPARTY_LIMIT")
