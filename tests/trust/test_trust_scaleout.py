"""Scale-out: two gateway processes behind one issuer share replay caches and DPoP nonces in
Redis, so a replay refused on one is refused on the other. With in-process stores (the
single-node default) the second process cannot know, which is what the Redis setting is for."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.trust.proofs import assertion_form
from tests.support.ports import free_port
from tests.support.processes import GatewayProcess
from tests.trust.support import RegistryClient, TrustWorld, assert_refused

pytestmark = pytest.mark.e2e  # the process tier: real gateway processes (and a peer) over HTTP


def _pair(world: TrustWorld, store: str) -> tuple[GatewayProcess, GatewayProcess, str]:
    port_a, port_b = free_port(), free_port()
    issuer = f"http://127.0.0.1:{port_a}"
    extra = {"CARBONLINK_ISSUER": issuer, "CARBONLINK_REPLAY_STORE": store}
    a = GatewayProcess(world.env(port_a, **extra))
    try:
        b = GatewayProcess(world.env(port_b, **extra))
    except Exception:
        a.stop()
        raise
    return a, b, issuer


@pytest.fixture
def redis_pair(
    tmp_path: Path, redis_url: str
) -> Iterator[tuple[TrustWorld, GatewayProcess, GatewayProcess, str]]:
    world = TrustWorld(tmp_path)
    a, b, issuer = _pair(world, redis_url)
    yield world, a, b, issuer
    a.stop()
    b.stop()


@pytest.mark.service
def test_nonce_from_one_process_is_accepted_by_the_other(
    redis_pair: tuple[TrustWorld, GatewayProcess, GatewayProcess, str],
) -> None:
    world, a, b, issuer = redis_pair
    on_a = RegistryClient(a.base, "che-registry", world.clients["che-registry"], issuer=issuer)
    on_a.token_request(assertion_form("x"), proof=on_a.proof("POST", "/oauth/token", nonce=None))
    assert on_a.nonce
    on_b = RegistryClient(
        b.base, "che-registry", world.clients["che-registry"], issuer=issuer, dpop_key=on_a.dpop_key
    )
    on_b.nonce = on_a.nonce
    resp = on_b.token_request(assertion_form(on_b.assertion()))
    assert resp.status_code == 200, resp.text
    token = resp.json()["access_token"]
    assert on_a.get("/v1/whoami", token).json()["client_id"] == "che-registry"


@pytest.mark.service
def test_replays_refused_on_the_other_process(
    redis_pair: tuple[TrustWorld, GatewayProcess, GatewayProcess, str],
) -> None:
    world, a, b, issuer = redis_pair
    on_a = RegistryClient(a.base, "che-registry", world.clients["che-registry"], issuer=issuer)
    on_b = RegistryClient(
        b.base, "che-registry", world.clients["che-registry"], issuer=issuer, dpop_key=on_a.dpop_key
    )
    token = on_a.get_token()
    on_b.nonce = on_a.nonce
    assertion = on_a.assertion()
    assert on_a.token_request(assertion_form(assertion)).status_code == 200
    resp = on_b.token_request(assertion_form(assertion))
    assert_refused(resp, 401, "CLIENT.ASSERTION_REPLAY", oauth_error="invalid_client")
    proof = on_a.proof("GET", "/v1/whoami", access_token=token)
    assert on_a.get("/v1/whoami", token, proof=proof).status_code == 200
    assert_refused(on_b.get("/v1/whoami", token, proof=proof), 401, "DPOP.REPLAY")


@pytest.mark.service
def test_health_reports_the_redis_store(
    redis_pair: tuple[TrustWorld, GatewayProcess, GatewayProcess, str],
) -> None:

    import httpx

    _, a, _, _ = redis_pair
    assert httpx.get(a.base + "/healthz").json()["checks"]["replay_store"] == {"ok": True, "kind": "redis"}


def test_in_process_stores_cannot_see_each_others_replays(tmp_path: Path) -> None:
    """The contrast that motivates Redis: without it, process B accepts what A already saw."""
    world = TrustWorld(tmp_path)
    a, b, issuer = _pair(world, "memory")
    try:
        on_a = RegistryClient(a.base, "che-registry", world.clients["che-registry"], issuer=issuer)
        on_b = RegistryClient(
            b.base, "che-registry", world.clients["che-registry"], issuer=issuer, dpop_key=on_a.dpop_key
        )
        on_a.get_token()
        on_b.get_token()
        on_b.nonce = None
        assertion = on_a.assertion()
        assert on_a.token_request(assertion_form(assertion)).status_code == 200
        # B takes A's nonce (nonces are derived from the keys both share, not stored), but not A's replay verdict
        resp = on_b.token_request(
            assertion_form(assertion), proof=on_b.proof("POST", "/oauth/token", nonce=on_a.nonce)
        )
        assert resp.status_code == 200, "memory stores are per process; Redis is needed for scale-out"
    finally:
        a.stop()
        b.stop()


def test_unreachable_redis_is_a_503_not_a_traceback(tmp_path: Path) -> None:
    world = TrustWorld(tmp_path)
    port = free_port()
    gw = GatewayProcess(world.env(port, CARBONLINK_REPLAY_STORE=f"redis://127.0.0.1:{free_port()}/0"))
    try:
        import httpx

        health = httpx.get(gw.base + "/healthz")
        assert health.status_code == 503
        assert health.json()["checks"]["replay_store"]["code"] == "TRUST.REPLAY_STORE_UNAVAILABLE"
        client = RegistryClient(gw.base, "che-registry", world.clients["che-registry"])
        resp = client.token_request(
            assertion_form(client.assertion()), proof=client.proof("POST", "/oauth/token", nonce=None)
        )
        # the nonce is derived, so the nonce challenge needs no Redis; the jti check with the nonce does
        assert_refused(resp, 400, "DPOP.NONCE_REQUIRED", oauth_error="use_dpop_nonce")
        resp = client.token_request(assertion_form(client.assertion()))
        assert_refused(resp, 503, "TRUST.REPLAY_STORE_UNAVAILABLE")
        assert "Traceback" not in gw.log.read_text()
    finally:
        gw.stop()
