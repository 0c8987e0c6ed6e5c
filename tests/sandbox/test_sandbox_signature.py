"""The sandbox checks the gateway's signature over a message body before it records anything: a body
garbled on the wire is refused (401 ``SANDBOX.SIGNATURE_*``), leaves no answer, no holdings change and
no spent token behind, and the true message is delivered afterwards under the same message id."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx
import pytest

from gateway.sandbox.auth import MESSAGE_TYP
from gateway.sandbox.client import SandboxClient
from gateway.transfers._signer import MESSAGE_TYP as GATEWAY_MESSAGE_TYP
from gateway.trust.keys import SigningKeyRing
from gateway.trust.outbound import SIGNATURE_HEADER
from tests.sandbox.support import SandboxServer, World, canonical_actions, gateway_signature, itmo_action

Start = Callable[..., SandboxServer]


def _post(world: World, server: SandboxServer, body: bytes, message_id: str, token: str,
          signature: dict[str, str]) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Carbonlink-Message-Id": message_id,
               "Carbonlink-Sender": "gha-registry", "Content-Type": "application/json", **signature}
    return world.http.post(server.base + server.config.messages_path, content=body, headers=headers)


def _code(resp: httpx.Response) -> str:
    return str(json.loads(resp.content)["code"])


def _held(server: SandboxServer) -> int:
    return int(SandboxClient(server.base, server.sandbox.operator_token).holdings()["total"]["held"])


def test_the_sandbox_checks_the_signature_type_the_gateway_signs_with() -> None:
    assert MESSAGE_TYP == GATEWAY_MESSAGE_TYP


def test_a_garbled_body_is_refused_unrecorded_and_the_true_message_is_delivered_afterwards(
        world: World, start: Start) -> None:
    server = start("sbx-che", "canonical")
    body = canonical_actions(itmo_action("Transfer", 1, 10))
    signature = world.gateway.signature(body)
    token = world.token(server)
    garbled = body.replace(b'"10"', b'"99"') if b'"10"' in body else body[:-2] + b" }"
    assert garbled != body
    refused = _post(world, server, garbled, "wire-1", token, signature)
    assert refused.status_code == 401 and _code(refused) == "SANDBOX.SIGNATURE_SIGNATURE", refused.text
    assert refused.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    world.verify(server, refused, garbled)  # the refusal is signed over the body that arrived
    assert _held(server) == 0
    assert server.sandbox.store.answered("gha-registry", "wire-1") is None
    delivered = _post(world, server, body, "wire-1", token, signature)  # same token: it was not spent
    assert delivered.status_code == 200, delivered.text
    assert json.loads(delivered.content)["verdict"] == "accepted"
    assert "Carbonlink-Replayed" not in delivered.headers
    assert _held(server) == 10


@pytest.mark.parametrize("attack", ["missing", "not-detached", "other-key", "other-issuer", "stale", "truncated",
                                    "another-body", "non-ascii"])
def test_a_bad_gateway_signature_is_refused_and_nothing_recorded(world: World, start: Start, attack: str) -> None:
    server = start("sbx-che", "canonical")
    body = canonical_actions(itmo_action("Transfer", 1, 10))
    good = world.gateway.signature(body)[SIGNATURE_HEADER]
    signatures: dict[str, dict[str, str]] = {
        "missing": {},
        "not-detached": {SIGNATURE_HEADER: good.replace("..", ".e30.")},
        "other-key": gateway_signature(SigningKeyRing.generate("ES256", kid="intruder-1"), world.gateway.issuer,
                                       body),
        "other-issuer": gateway_signature(world.gateway.keyring, "https://intruder.example", body),
        "truncated": {SIGNATURE_HEADER: good[:-10]},
        "another-body": world.gateway.signature(body + b" "),
        "non-ascii": {SIGNATURE_HEADER: good[:5] + "\u00e9" + good[6:]},
    }
    if attack == "stale":
        from gateway.trust import jose

        header = {"typ": MESSAGE_TYP, "iss": world.gateway.issuer, "iat": int(time.time()) - 3600}
        signatures["stale"] = {SIGNATURE_HEADER: jose.sign_detached(header, body, world.gateway.keyring.current)}
    headers = signatures[attack]
    if attack == "non-ascii":
        resp = world.http.post(server.base + server.config.messages_path, content=body, headers={
            "Authorization": f"Bearer {world.token(server)}", "Carbonlink-Message-Id": "bad-1",
            SIGNATURE_HEADER: headers[SIGNATURE_HEADER].encode("utf-8")})
    else:
        resp = _post(world, server, body, "bad-1", world.token(server), headers)
    assert resp.status_code == 401, resp.text
    assert _code(resp).startswith("SANDBOX.SIGNATURE_"), resp.text
    assert server.sandbox.store.answered("gha-registry", "bad-1") is None
    assert server.sandbox.store.answered("", "bad-1") is None
    assert _held(server) == 0
    ok = _post(world, server, body, "bad-1", world.token(server), world.gateway.signature(body))
    assert ok.status_code == 200 and _held(server) == 10
