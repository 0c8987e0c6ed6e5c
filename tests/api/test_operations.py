"""Operations: the embedded development default, production refusals at start-up, key
rotation by kid, deep health, maintenance mode, and unit checks of the strict JOSE layer."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from joserfc.jwk import RSAKey

from gateway.trust import development, jose
from gateway.trust.keys import SigningKeyRing, generate_key, public_jwk
from gateway.trust.tokens import TokenService
from tests.support.apps import InProcessGateway
from tests.support.ports import free_port
from tests.support.processes import VENV_BIN, GatewayProcess
from tests.trust.support import RegistryClient, TrustWorld, assert_refused


@pytest.mark.e2e
def test_serve_with_no_configuration_runs_the_development_default() -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARBONLINK_")}
    env["CARBONLINK_PORT"] = str(port)
    gw = GatewayProcess(env)
    try:
        health = httpx.get(gw.base + "/healthz").json()
        assert health["status"] == "ok" and health["environment"] == "development"
        assert health["checks"]["directory"]["participants"] == 2
        key = development.client_keys()["dev-che-registry"]
        client = RegistryClient(gw.base, "dev-che-registry", key)
        token = client.get_token("peers:read")
        peers = client.get("/v1/peers", token).json()
        assert {p["id"] for p in peers["participants"]} == {"dev-che-registry", "dev-gha-registry"}
    finally:
        gw.stop()


@pytest.mark.e2e
def test_production_with_the_development_anchor_refuses_to_start(tmp_path: Path) -> None:
    anchors = tmp_path / "anchors.json"
    anchors.write_text(json.dumps({"keys": [public_jwk(development.anchor())]}))
    keyring = tmp_path / "keyring.json"
    keyring.write_text(json.dumps(SigningKeyRing.generate().to_document()))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARBONLINK_")}
    env.update(
        {
            "CARBONLINK_ENVIRONMENT": "production",
            "CARBONLINK_ISSUER": "https://gw.example",
            "CARBONLINK_ANCHORS": str(anchors),
            "CARBONLINK_SIGNING_KEYS": str(keyring),
            "CARBONLINK_DIRECTORY": str(tmp_path / "d.jws"),
            "CARBONLINK_PORT": str(free_port()),
        }
    )
    res = subprocess.run(
        [str(VENV_BIN / "carbonlink"), "serve"], env=env, capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 2
    assert "TRUST.CONFIGURATION" in res.stderr and "development anchor" in res.stderr
    assert "Traceback" not in res.stderr
    env.pop("CARBONLINK_ANCHORS")
    res = subprocess.run(
        [str(VENV_BIN / "carbonlink"), "serve"], env=env, capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 2 and "TRUST.SETTINGS" in res.stderr and "anchors" in res.stderr


def test_rotation_serves_the_retired_key_until_its_tokens_expired(tmp_path: Path) -> None:
    world = TrustWorld(tmp_path)
    old = world.keyring.current
    new = generate_key("Ed25519", "gw-test-2")
    retired_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    doc = {
        "current": "gw-test-2",
        "keys": [dict(new.as_dict(private=True)), dict(old.as_dict(private=True))],
        "retired": {"gw-test-1": retired_at},
    }
    (tmp_path / "keyring.json").write_text(json.dumps(doc))
    gw = InProcessGateway(world.env(free_port()), tmp_path)
    try:
        kids = [k["kid"] for k in gw.http.get(gw.base + "/.well-known/jwks.json").json()["keys"]]
        assert kids == ["gw-test-2", "gw-test-1"]
        client = RegistryClient(gw.base, "che-registry", world.clients["che-registry"], http=gw.client())
        token = client.get_token()
        assert jose.peek_header(token)["kid"] == "gw-test-2"
        assert client.get("/v1/whoami", token).status_code == 200
        now = int(time.time())
        old_token = world.keyring.sign(
            {"typ": "at+jwt"},
            {
                "iss": gw.base,
                "aud": gw.base + "/v1",
                "sub": "che-registry",
                "client_id": "che-registry",
                "iat": now - 10,
                "exp": now + 100,
                "jti": "old-1",
                "scope": "",
                "cnf": {"jkt": client.dpop_key.thumbprint()},
            },
        )
        assert client.get("/v1/whoami", old_token).status_code == 200
    finally:
        gw.stop()
    ring = SigningKeyRing.from_document(
        {**doc, "retired": {"gw-test-1": "2020-01-01T00:00:00Z"}}, grace_seconds=330
    )
    assert [k["kid"] for k in ring.jwks()["keys"]] == ["gw-test-2"]
    service = TokenService(ring, issuer="https://gw", audience="https://gw/v1")
    stale = world.keyring.sign({"typ": "at+jwt"}, {"iss": "https://gw", "aud": "https://gw/v1"})
    with pytest.raises(Exception) as info:
        service.verify(stale)
    assert getattr(info.value, "code", "") == "TOKEN.KID"


def test_maintenance_file_drains_the_node(tmp_path: Path) -> None:
    world = TrustWorld(tmp_path)
    flag = tmp_path / "maintenance"
    gw = InProcessGateway(world.env(free_port(), CARBONLINK_MAINTENANCE_FILE=str(flag)), tmp_path)
    try:
        assert gw.http.get(gw.base + "/healthz").status_code == 200
        flag.touch()
        resp = gw.http.get(gw.base + "/healthz")
        assert_refused(resp, 503, "SERVICE.MAINTENANCE")
        assert resp.headers["retry-after"] == "30"
        token = gw.http.post(gw.base + "/oauth/token", data={"grant_type": "client_credentials"})
        assert token.status_code == 503 and token.json()["error"] == "invalid_request"
        flag.unlink()
        assert gw.http.get(gw.base + "/healthz").status_code == 200
    finally:
        gw.stop()


# --- strict JOSE units -----------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::joserfc.errors.SecurityWarning")
def test_weak_rsa_keys_and_wrong_key_types_do_not_fit_any_algorithm() -> None:
    weak = RSAKey.generate_key(1024, parameters={"kid": "weak"}, private=True, auto_kid=False)
    with pytest.raises(jose.JwsRejected):
        jose.algorithm_for(weak)
    es = generate_key("ES256", "e")
    token = jose.sign({"typ": "x+jwt"}, {"a": 1}, es)
    ed = generate_key("Ed25519", "e")
    with pytest.raises(jose.JwsRejected) as info:
        jose.verify(token, typ=["x+jwt"], key_for=lambda h: ed)
    assert info.value.reason == "KEY"


def test_unsupported_crit_and_oversized_tokens_are_refused() -> None:
    es = generate_key("ES256", "e")
    header = {"alg": "ES256", "typ": "x+jwt", "crit": ["exp"]}
    with pytest.raises(jose.JwsRejected) as info:
        jose.check_header(header, typ=["x+jwt"])
    assert info.value.reason == "CRIT"
    with pytest.raises(jose.JwsRejected) as info:
        jose.verify("a" * 20000, typ=["x+jwt"], key_for=lambda h: es)
    assert info.value.reason == "TOO_LARGE"
    token = jose.sign({"typ": "x+jwt"}, b"[1, 2]", es)
    with pytest.raises(jose.JwsRejected, match="not a JSON object"):
        jose.verify(token, typ=["x+jwt"], key_for=lambda h: es)
