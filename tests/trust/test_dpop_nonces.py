"""DPoP server nonces are derived (HMAC of a time window under a server secret), not stored: every
process with the gateway's keys (or ``CARBONLINK_DPOP_NONCE_SECRET``) accepts them, and a replay store
that restarts empty (Redis without persistence) makes no client's nonce stale. RFC 9449 §8 rules hold:
no nonce or a stale one is ``use_dpop_nonce`` with a fresh nonce."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.settings import Settings
from gateway.trust.errors import UseDPoPNonce
from gateway.trust.keys import generate_key
from gateway.trust.nonces import DerivedNonces, secret_from_key
from gateway.trust.proofs import dpop_proof
from gateway.trust.setup import build_trust
from tests.support.apps import InProcessGateway
from tests.support.ports import free_port
from tests.trust.support import RegistryClient, TrustWorld, assert_refused


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_nonce_lives_between_half_and_the_whole_ttl() -> None:
    clock = Clock()
    nonces = DerivedNonces(b"s" * 32, ttl=300, clock=clock)
    first = nonces.issue()
    assert nonces.valid(first) and nonces.issue() == first
    clock.now += 150  # next window: a new nonce is issued, the previous one is still taken
    assert nonces.issue() != first and nonces.valid(first)
    clock.now += 150  # two windows on: stale
    assert not nonces.valid(first)
    assert not nonces.valid("") and not nonces.valid("x" * 32) and not nonces.valid(first + "x")


def test_nonces_depend_on_the_secret() -> None:
    clock = Clock()
    ours, theirs = DerivedNonces(b"a" * 32, clock=clock), DerivedNonces(b"b" * 32, clock=clock)
    assert ours.issue() != theirs.issue() and not ours.valid(theirs.issue())
    key = generate_key("ES256", "k-1")
    assert secret_from_key(key) == secret_from_key(key) != secret_from_key(generate_key("ES256", "k-1"))
    assert DerivedNonces(secret_from_key(key), clock=clock).issue() == DerivedNonces(secret_from_key(key),
                                                                                      clock=clock).issue()


def _settings(world: TrustWorld, **extra: object) -> Settings:
    return Settings(environment="test", issuer="https://gw.example", signing_keys=world.root / "keyring.json",
                    anchors=world.root / "anchors.json", directory=str(world.directory_path), **extra)  # type: ignore[arg-type]


def test_processes_with_the_same_keys_or_secret_accept_each_others_nonces(tmp_path: Path) -> None:
    world = TrustWorld(tmp_path)
    one, other = build_trust(_settings(world)), build_trust(_settings(world))  # two processes, memory stores
    assert other.dpop.nonces.valid(one.dpop.nonces.issue())
    secret = "n" * 40
    configured = build_trust(_settings(world, dpop_nonce_secret=secret))
    assert not configured.dpop.nonces.valid(one.dpop.nonces.issue())  # the configured secret, not the key's
    assert build_trust(_settings(world, dpop_nonce_secret=secret)).dpop.nonces.valid(configured.dpop.nonces.issue())
    with pytest.raises(ValueError):
        _settings(world, dpop_nonce_secret="short")


def test_a_stale_nonce_is_use_dpop_nonce_with_a_fresh_one(tmp_path: Path) -> None:
    world = TrustWorld(tmp_path)
    trust = build_trust(_settings(world))
    clock = Clock()
    trust.dpop.nonces = DerivedNonces(b"z" * 32, ttl=300, clock=clock)
    key = generate_key("ES256", "client-dpop")
    old = trust.dpop.nonces.issue()
    clock.now += 301
    proof = dpop_proof(key, method="POST", url="https://gw.example/oauth/token", nonce=old)
    with pytest.raises(UseDPoPNonce) as info:
        trust.dpop.verify([proof], method="POST", url="https://gw.example/oauth/token")
    assert info.value.code == "DPOP.NONCE_STALE" and info.value.nonce == trust.dpop.nonces.issue() != old


def test_a_restarted_gateway_with_an_empty_replay_store_accepts_the_nonce_it_gave_out(tmp_path: Path) -> None:
    world = TrustWorld(tmp_path)
    env = world.env(free_port())
    before = InProcessGateway(env, tmp_path)
    try:
        client = RegistryClient(before.base, "che-registry", world.clients["che-registry"], http=before.client())
        token = client.get_token()
        nonce = client.nonce
        assert nonce and client.get("/v1/whoami", token).status_code == 200
    finally:
        before.stop()
    after = InProcessGateway(env, tmp_path)  # a new process: its replay store (and any Redis) starts empty
    try:
        client.http = after.client()
        resp = client.get("/v1/whoami", token)
        assert resp.status_code == 200, resp.text
        assert client.nonce == nonce  # no DPOP.NONCE_STALE round trip: the nonce still holds
        made_up = client.get("/v1/whoami", token, proof=client.proof("GET", "/v1/whoami", access_token=token,
                                                                      nonce="made-up-nonce"))
        assert_refused(made_up, 401, "DPOP.NONCE_STALE", oauth_error="use_dpop_nonce")
    finally:
        after.stop()
