"""The authorization gate on the relay, between real processes: a gateway (or two sharing one PostgreSQL
authorization store), sandbox registries of CHE and GHA and CHE's national authority. A first transfer is
relayed only when it cites an authorization in force that covers it; the quantity is counted across messages
and gateways."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from gateway.client import GatewayClient
from gateway.demo import Network, Registry, itmo_message
from gateway.trust.keys import generate_key, public_jwk
from tests.governance.support import AUTH_ID, statement
from tests.support.services import unique_prefix

pytestmark = pytest.mark.e2e

CHE_HOLDS = "CA0001-CHE01-CHE-1-2023..CA0001-CHE01-CHE-1000000-2023@treasury"


def network(gateways: int = 1, env: dict[str, str] | None = None) -> tuple[Network, GatewayClient]:
    key = generate_key("ES256", "che-authority-1")
    authority = {"id": "che-authority", "party": "CHE", "party_registry_id": "CHE01", "status": "active",
                 "format": "aef", "jwks": {"keys": [public_jwk(key)]},
                 "roles": [{"role": "national-authority", "party": "CHE"}]}
    registries = [Registry("che", "CHE", "aef", holds=[CHE_HOLDS]),
                  Registry("gha", "GHA", "aef")]
    net = Network(registries, gateway_env=env or {}, extra_participants=[authority], gateways=gateways)
    net.issuer = net.gateway_url
    na = GatewayClient(net.gateway_url, "che-authority", key, issuer=net.issuer,
                       scope="authorizations:issue authorizations:read")
    return net, na


def issue(na: GatewayClient, path: str = "/v1/authorizations", **overrides: Any) -> None:
    answer = na.authorize(path, statement(**overrides), party="CHE")  # signed with the authority's own key
    assert answer.status_code == 201, answer.text


def send(client: GatewayClient, first: int, last: int, message_id: str) -> tuple[int, str | None]:
    body = orjson.dumps(itmo_message(sender_party="CHE", receiver_party="GHA", first=first, last=last))
    sent = client.send(body, message_id=message_id)
    return sent.status, sent.body.get("code") if sent.status != 200 else sent.body.get("outcome")


@pytest.fixture(scope="module")
def one() -> Iterator[tuple[Network, GatewayClient]]:
    net, na = network()
    with net:
        yield net, na


def test_a_first_transfer_is_relayed_only_within_an_authorization_in_force(one: tuple[Network, GatewayClient]) -> None:
    net, na = one
    che = net.client("che")
    assert send(che, 1, 10, "gov-1") == (403, "GOVERNANCE.AUTHORIZATION_UNKNOWN")
    issue(na)  # 1000 t, NDC, to GHA or SWE, 2021-2030
    assert send(che, 1, 600, "gov-2") == (200, "accepted")
    assert send(che, 601, 1001, "gov-3") == (403, "GOVERNANCE.AUTHORIZATION_QUANTITY")  # one over
    assert send(che, 601, 1000, "gov-4") == (200, "accepted")  # exactly the 1000 authorized
    assert send(che, 601, 1000, "gov-4") == (200, "accepted")  # the retry replays the receipt, draws nothing
    issue(na, f"/v1/authorizations/CHE/{AUTH_ID}/versions", authorized_quantity="1100", date="2024-01-01")
    assert send(che, 1001, 1100, "gov-5") == (200, "accepted")  # the amended quantity
    revoked = na.authorize(f"/v1/authorizations/CHE/{AUTH_ID}/revocation", {"effective": "2024-01-01"})
    assert revoked.status_code == 200, revoked.text
    assert send(che, 1101, 1101, "gov-6") == (403, "GOVERNANCE.AUTHORIZATION_REVOKED")
    shown = na.request("GET", f"/v1/authorizations/CHE/{AUTH_ID}").json()
    assert shown["drawn"] == "1100" and shown["status"] == "revoked"
    # the legal-title trail: the receipts of the relayed first transfers list the units they moved
    reader = GatewayClient(net.gateway_url, "che-authority", na.key, issuer=net.issuer, scope="title:read")
    title = reader.request("GET", "/v1/title?block=CA0001:CHE:550-1200").json()
    assert [(p["first"], p["last"], (p["holder"] or {}).get("id"), [h["message_id"] for h in p["hops"]])
            for p in title["parts"]] == [(550, 600, "gha", ["gov-2"]), (601, 1000, "gha", ["gov-4"]),
                                         (1001, 1100, "gha", ["gov-5"]), (1101, 1200, None, [])]
    assert all(h["receipt_verified"] for p in title["parts"] for h in p["hops"])
    # found through the gateway's title index, each record checked in its evidence log
    assert title["evidence"]["index"]["used"] and title["evidence"]["index"]["records_read"] == 3
    assert title["verified"] and title["evidence"]["chain"]["records"] == 3


def test_two_gateways_share_one_authorization_store(postgres_dsn: str) -> None:
    store = f"{postgres_dsn}?table={unique_prefix('auth').replace('-', '_')}"
    net, na = network(gateways=2, env={"CARBONLINK_AUTHORIZATION_STORE": store})
    with net:
        issue(na)  # through gateway 0
        first, second = net.client("che", 0), net.client("che", 1)
        assert send(second, 1, 700, "two-1") == (200, "accepted")  # gateway 1 sees the authorization
        assert send(first, 701, 1001, "two-2") == (403, "GOVERNANCE.AUTHORIZATION_QUANTITY")  # and the drawing
        assert send(first, 701, 1000, "two-3") == (200, "accepted")
        assert send(second, 1001, 1001, "two-4") == (403, "GOVERNANCE.AUTHORIZATION_QUANTITY")
