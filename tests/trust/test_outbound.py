"""Outbound: the gateway authenticates to a peer registry (private_key_jwt against the peer's
token endpoint, which checks the gateway's live JWKS), and verifies that signed responses come
from the registry the directory names."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.settings import Settings
from gateway.trust.errors import PeerError, ResponseSignatureInvalid
from gateway.trust.outbound import OutboundClient
from gateway.trust.setup import build_trust
from tests.support.ports import free_port
from tests.support.processes import GatewayProcess
from tests.trust.peer_registry import PeerRegistry
from tests.trust.support import TrustWorld

pytestmark = pytest.mark.e2e  # the process tier: real gateway processes (and a peer) over HTTP


@pytest.fixture(scope="module")
def setup(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[OutboundClient, PeerRegistry, TrustWorld]]:
    root = tmp_path_factory.mktemp("outbound")
    world = TrustWorld(root)
    peer_port, gw_port = free_port(), free_port()
    peer_base = f"http://127.0.0.1:{peer_port}"

    def mutate(content: dict[str, Any]) -> None:
        entry = content["participants"][0]
        entry["issuer"] = peer_base
        entry["endpoints"] = {"token": peer_base + "/token", "messages": peer_base + "/messages"}

    world.write_directory(mutate)
    gateway = GatewayProcess(world.env(gw_port))
    env = world.env(gw_port)
    settings = Settings(
        **{k.removeprefix("CARBONLINK_").lower(): v for k, v in env.items() if k.startswith("CARBONLINK_")}
    )
    trust = build_trust(settings)
    client = trust.outbound
    assert client.client_id == settings.issuer
    peer = PeerRegistry(
        port=peer_port,
        participant_id="che-registry",
        key=world.clients["che-registry"],
        gateway_base=gateway.base,
        gateway_client_id=settings.issuer,
    ).start()
    yield client, peer, world
    peer.stop()
    gateway.stop()


def _send(client: OutboundClient, mode: str = "good") -> tuple[bytes, dict[str, str], bytes]:
    token = client.access_token("che-registry")
    peer = client.participant("che-registry")
    request_body = json.dumps({"transfer": "T-1"}).encode()
    assert peer.endpoints.messages is not None
    resp = client.http.post(
        peer.endpoints.messages,
        params={"mode": mode},
        content=request_body,
        headers={"Authorization": f"{token.token_type} {token.access_token}"},
    )
    assert resp.status_code == 200, resp.text
    return resp.content, dict(resp.headers), request_body


def test_gateway_obtains_a_token_from_the_peer_and_caches_it(
    setup: tuple[OutboundClient, PeerRegistry, TrustWorld],
) -> None:
    client, peer, _ = setup
    first = client.access_token("che-registry")
    again = client.access_token("che-registry")
    assert first == again and first.access_token in peer.issued
    assert peer.token_requests == 1


def test_signed_response_from_the_named_registry_verifies(
    setup: tuple[OutboundClient, PeerRegistry, TrustWorld],
) -> None:
    client, _, _ = setup
    body, headers, request_body = _send(client)
    header = client.verify("che-registry", body, headers, request_body=request_body)
    assert header["iss"] == "che-registry" and header["kid"] == "che-1"


@pytest.mark.parametrize(
    ("mode", "code"),
    [
        ("wrong-key", "OUTBOUND.RESPONSE_SIGNATURE"),
        ("other-name", "OUTBOUND.RESPONSE_ISSUER"),
        ("stale", "OUTBOUND.RESPONSE_STALE"),
        ("tampered", "OUTBOUND.RESPONSE_SIGNATURE"),
        ("unsigned", "OUTBOUND.RESPONSE_UNSIGNED"),
    ],
)
def test_bad_responses_are_refused(
    setup: tuple[OutboundClient, PeerRegistry, TrustWorld], mode: str, code: str
) -> None:
    client, _, _ = setup
    body, headers, request_body = _send(client, mode)
    with pytest.raises(ResponseSignatureInvalid) as info:
        client.verify("che-registry", body, headers, request_body=request_body)
    assert info.value.code == code


def test_response_signed_by_another_registry_is_refused_for_this_one(
    setup: tuple[OutboundClient, PeerRegistry, TrustWorld],
) -> None:
    client, _, _ = setup
    body, headers, request_body = _send(client)
    with pytest.raises(ResponseSignatureInvalid) as info:
        client.verify("gha-registry", body, headers, request_body=request_body)
    assert info.value.code == "OUTBOUND.RESPONSE_KID"
    with pytest.raises(ResponseSignatureInvalid) as info:
        client.verify("che-registry", body, headers, request_body=b"another request")
    assert info.value.code == "OUTBOUND.RESPONSE_REQUEST"


def test_gateway_signed_token_verifies_at_the_peer(
    setup: tuple[OutboundClient, PeerRegistry, TrustWorld],
) -> None:
    client, peer, _ = setup
    token = client.gateway_token("che-registry", scope="messages:send")
    resp = client.http.get(peer.base + "/check-gateway-token", headers={"Authorization": f"Bearer {token}"})
    assert resp.json() == {"ok": True}


def test_peer_without_token_endpoint_or_unknown_is_a_coded_error(
    setup: tuple[OutboundClient, PeerRegistry, TrustWorld], tmp_path: Path
) -> None:

    client, _, _ = setup
    with pytest.raises(PeerError) as info:
        client.access_token("who-registry")
    assert info.value.code == "PARTICIPANT.UNKNOWN"
    from gateway.trust.errors import ConfigurationError

    with pytest.raises(ConfigurationError):
        client.access_token("gha-registry")
