"""Only the gateway gets in: forged, expired, replayed, mis-addressed and malformed tokens are
refused with coded, signed 401 answers; the operator token guards the operator routes."""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest

from gateway.trust import jose
from gateway.trust.keys import generate_key
from tests.sandbox.support import SandboxServer, World, canonical_actions, itmo_action

Start = Callable[..., SandboxServer]
BODY = canonical_actions(itmo_action("Transfer", 1, 10))


def _claims(world: World, server: SandboxServer, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": world.gateway.issuer, "sub": world.gateway.issuer, "client_id": world.gateway.issuer,
              "aud": server.base, "iat": now, "exp": now + 60, "jti": secrets.token_urlsafe(16), "scope": ""}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_b64(orjson.dumps(header))}.{_b64(orjson.dumps(claims))}.{_b64(b'sig')}"


def _send(world: World, server: SandboxServer, token: str | None, body: bytes = BODY) -> httpx.Response:
    headers = {"Carbonlink-Message-Id": secrets.token_hex(4), **world.gateway.signature(body)}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(server.base + "/messages", content=body, headers=headers)


def _refused(world: World, server: SandboxServer, resp: httpx.Response, code: str) -> None:
    assert resp.status_code == 401, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    assert json.loads(resp.content)["code"] == code
    assert "invalid_token" in resp.headers["www-authenticate"]
    world.verify(server, resp, BODY)  # refusals are signed as well


def test_the_gateway_token_from_the_trust_layer_is_accepted(world: World, start: Start) -> None:
    server = start("sbx-che", "canonical")
    resp = _send(world, server, world.outbound.gateway_token("sbx-che"))
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize(("make", "code"), [
    (lambda w, s: None, "SANDBOX.AUTH_MISSING"),
    (lambda w, s: "Basic", "SANDBOX.AUTH_MALFORMED"),
    (lambda w, s: "not-a-jws", "SANDBOX.AUTH_MALFORMED"),
    # signed by a key that merely claims the gateway's kid
    (lambda w, s: jose.sign(
        {"typ": "at+jwt", "kid": w.gateway.keyring.current.kid}, _claims(w, s),
        generate_key("ES256", str(w.gateway.keyring.current.kid))), "SANDBOX.AUTH_SIGNATURE"),
    (lambda w, s: jose.sign(
        {"typ": "at+jwt"}, _claims(w, s), generate_key("ES256", "someone-else")), "SANDBOX.AUTH_KID"),
    (lambda w, s: _unsigned({"alg": "none", "typ": "at+jwt", "kid": w.gateway.keyring.current.kid}, _claims(w, s)),
     "SANDBOX.AUTH_ALG"),
    (lambda w, s: _unsigned({"alg": "HS256", "typ": "at+jwt", "kid": w.gateway.keyring.current.kid}, _claims(w, s)),
     "SANDBOX.AUTH_ALG"),
    (lambda w, s: w.gateway.keyring.sign({"typ": "JWT"}, _claims(w, s)), "SANDBOX.AUTH_TYP"),
    (lambda w, s: w.gateway.keyring.sign({"typ": "at+jwt"}, _claims(w, s, iat=int(time.time()) - 600,
                                                                     exp=int(time.time()) - 120)),
     "SANDBOX.AUTH_EXPIRED"),
    (lambda w, s: w.gateway.keyring.sign({"typ": "at+jwt"}, _claims(w, s, aud="sbx-other")), "SANDBOX.AUTH_AUDIENCE"),
    (lambda w, s: w.gateway.keyring.sign({"typ": "at+jwt"}, _claims(w, s, aud=["x", "y"])), "SANDBOX.AUTH_AUDIENCE"),
    (lambda w, s: w.gateway.keyring.sign({"typ": "at+jwt"}, _claims(w, s, iss="http://evil.example")),
     "SANDBOX.AUTH_ISSUER"),
    (lambda w, s: w.gateway.keyring.sign({"typ": "at+jwt"}, _claims(w, s, iat=int(time.time()) + 600,
                                                                     exp=int(time.time()) + 660)),
     "SANDBOX.AUTH_NOT_YET_VALID"),
    (lambda w, s: w.gateway.keyring.sign({"typ": "at+jwt"}, _claims(w, s, exp=int(time.time()) + 86400)),
     "SANDBOX.AUTH_LIFETIME"),
    (lambda w, s: w.gateway.keyring.sign({"typ": "at+jwt"}, _claims(w, s, jti=None)), "SANDBOX.AUTH_CLAIMS"),
    (lambda w, s: w.gateway.keyring.sign({"typ": "at+jwt"}, _claims(w, s, exp="tomorrow")), "SANDBOX.AUTH_CLAIMS"),
    (lambda w, s: w.gateway.keyring.sign({"typ": "at+jwt"}, _claims(w, s, exp=True)), "SANDBOX.AUTH_CLAIMS"),
])
def test_bad_tokens_are_refused_with_a_code(world: World, start: Start, make: Callable[[World, SandboxServer], Any],
                                            code: str) -> None:
    server = start("sbx-che", "canonical")
    _refused(world, server, _send(world, server, make(world, server)), code)
    assert server.sandbox.store.holdings() == []


def test_a_token_for_another_registry_is_refused(world: World, start: Start) -> None:
    che = start("sbx-che", "canonical")
    jpn = start("sbx-jpn", "canonical", party="JPN")
    _refused(world, che, _send(world, che, world.outbound.gateway_token("sbx-jpn")), "SANDBOX.AUTH_AUDIENCE")
    to_jpn = canonical_actions(itmo_action("Transfer", 1, 10, acquiring="JPN"))
    assert _send(world, jpn, world.outbound.gateway_token("sbx-jpn"), to_jpn).status_code == 200


def test_a_token_is_used_once(world: World, start: Start) -> None:
    server = start("sbx-che", "canonical")
    token = world.outbound.gateway_token("sbx-che")
    assert _send(world, server, token).status_code == 200
    _refused(world, server, _send(world, server, token), "SANDBOX.AUTH_REPLAY")


def test_gateway_keys_from_a_jwks_file(world: World, start: Start) -> None:
    path = world.root / "gateway-jwks.json"
    path.write_bytes(httpx.get(world.gateway.jwks_url).content)
    server = start("sbx-che", "canonical", gateway_jwks=str(path))
    assert _send(world, server, world.outbound.gateway_token("sbx-che")).status_code == 200


def test_unreachable_gateway_jwks_is_a_coded_server_side_failure(world: World, start: Start) -> None:
    server = start("sbx-che", "canonical", gateway_jwks="http://127.0.0.1:9/jwks.json")
    resp = _send(world, server, world.outbound.gateway_token("sbx-che"))
    assert resp.status_code == 503 and json.loads(resp.content)["code"] == "SANDBOX.GATEWAY_JWKS_UNAVAILABLE"


def test_holdings_need_the_operator_or_the_gateway(world: World, start: Start) -> None:
    server = start("sbx-che", "canonical")
    assert httpx.get(server.base + "/holdings").status_code == 401
    wrong = httpx.get(server.base + "/holdings", headers={"Authorization": "Bearer op-sbx-che-tokeX"})
    assert wrong.status_code == 401 and json.loads(wrong.content)["code"] == "SANDBOX.AUTH_MALFORMED"
    by_gateway = httpx.get(server.base + "/holdings",
                           headers={"Authorization": f"Bearer {world.outbound.gateway_token('sbx-che')}"})
    assert by_gateway.status_code == 200 and json.loads(by_gateway.content)["holdings"] == []
    world.verify(server, by_gateway, None)


@pytest.mark.parametrize(("method", "path"), [("POST", "/outgoing"), ("POST", "/outgoing/m1/confirm"),
                                              ("POST", "/outgoing/m1/release"), ("GET", "/journal")])
def test_operator_routes_refuse_the_gateway_token(world: World, start: Start, method: str, path: str) -> None:
    server = start("sbx-che", "canonical")
    resp = httpx.request(method, server.base + path, content=b"{}",
                         headers={"Authorization": f"Bearer {world.outbound.gateway_token('sbx-che')}",
                                  "Carbonlink-Message-Id": "m1"})
    assert resp.status_code == 401 and json.loads(resp.content)["code"] == "SANDBOX.OPERATOR_AUTH"
