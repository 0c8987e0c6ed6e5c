"""The relay routes' lean ASGI endpoint (gateway/api/relay.py) refuses what the FastAPI routes refuse, the same way.

Two gateways on the same trust world: one as built (``POST /v1/transfers`` and ``/v1/messages/{kind}`` answered
by :class:`RelayEndpoint`), one with that endpoint taken out of its middleware, so the FastAPI routes answer
(as before the endpoint existed). Each hostile request goes to both, with its own fresh token and proof; the
answers must agree on status, code, content type and the authentication headers. A counter on the endpoint's
authentication step proves the lean path served the first gateway's requests (and the fallback the others).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.api import relay
from gateway.api.relay import RelayEndpoint
from gateway.demo import itmo_message
from gateway.trust.proofs import dpop_proof
from gateway.trust.tokens import TokenService
from tests.support.apps import InProcessGateway
from tests.support.ports import free_port
from tests.support.services import require_redis
from tests.trust.support import RegistryClient, TrustWorld

SENDER = "che-registry"
MAX_BODY = 4096


@dataclass
class Side:
    """One gateway and a registry client holding a DPoP-bound token for it."""

    gateway: InProcessGateway
    client: RegistryClient
    token: str

    def send(self, path: str = "/v1/transfers", *, token: str | None = None, proof: str | None = None,
             proof_url: str | None = None, headers: dict[str, str] | None = None, content: bytes | None = None,
             nonce_retry: bool = True) -> httpx.Response:
        """POST with the token and a fresh proof (for ``proof_url`` when given), one nonce retry."""
        token = self.token if token is None else token
        response: httpx.Response | None = None
        for _ in range(2 if nonce_retry else 1):
            dpop = proof or (dpop_proof(self.client.dpop_key, method="POST", url=proof_url, nonce=self.client.nonce,
                                        access_token=token) if proof_url
                             else self.client.proof("POST", path, access_token=token))
            hdrs = {"authorization": f"DPoP {token}", "dpop": dpop, "carbonlink-message-id": f"m-{time.time_ns()}",
                    "content-type": "application/json", **(headers or {})}
            response = self.gateway.http.post(path, headers={k: v for k, v in hdrs.items() if v}, content=content)
            if "dpop-nonce" in response.headers and response.json().get("code", "").startswith("DPOP.NONCE"):
                self.client.nonce = response.headers["dpop-nonce"]
                continue
            break
        assert response is not None
        return response


def _side(world: TrustWorld, root: Path, *, lean: bool, env: dict[str, str] | None = None) -> Side:
    root.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        patch.setenv("CARBONLINK_RATE_LIMIT_PER_MINUTE", "100000")
        patch.setenv("CARBONLINK_RATE_LIMIT_BURST", "100000")
        patch.setenv("CARBONLINK_TRANSFER_MAX_BODY_BYTES", str(MAX_BODY))
        patch.setenv("CARBONLINK_DATA_DIR", str(root / "data"))
        gateway = InProcessGateway(world.env(free_port()), root)
    if not lean:  # the app as it was: the FastAPI routes answer every relay request
        gateway.app.user_middleware = [m for m in gateway.app.user_middleware if m.cls is not RelayEndpoint]
        gateway.app.middleware_stack = None  # rebuilt on the next request
    client = RegistryClient(gateway.base, SENDER, world.clients[SENDER], http=gateway.client())
    return Side(gateway, client, client.get_token())


@pytest.fixture(scope="module")
def sides(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Side, Side]]:
    root = tmp_path_factory.mktemp("relay-endpoint")
    world = TrustWorld(root)
    lean, route = _side(world, root / "lean", lean=True), _side(world, root / "route", lean=False)
    yield lean, route
    lean.gateway.stop()
    route.gateway.stop()


@pytest.fixture()
def lean_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the requests the lean endpoint authenticated (the FastAPI routes do not go through it)."""
    calls: list[int] = []
    inner = relay.relay_context

    async def counted(request: Any) -> Any:
        calls.append(1)
        return await inner(request)

    monkeypatch.setattr(relay, "relay_context", counted)
    return calls


def _body() -> bytes:
    import json

    return json.dumps(itmo_message(sender_party="CHE", receiver_party="GHA", first=1, last=10)).encode()


def _other_audience_token(side: Side) -> str:
    trust = side.gateway.app.state.trust
    other = TokenService(trust.keyring, issuer=trust.settings.issuer, audience="https://elsewhere.example")
    return other.issue(trust.directory.participant(SENDER), ["messages:send"], jkt=side.client.dpop_key.thumbprint())


def _replayed(side: Side) -> httpx.Response:
    first = side.send(content=b"{")
    assert first.status_code != 401, first.text  # the proof was accepted once (the body is then refused)
    proof = first.request.headers["dpop"]
    return side.send(proof=proof, content=b"{", nonce_retry=False)


def _chunks(size: int) -> Iterator[bytes]:
    """A body sent chunked (no Content-Length), so only reading it finds it too large."""
    yield b"{"
    yield b" " * size
    yield b"}"


Case = Callable[[Side], httpx.Response]
#: Refused by the guard middleware (declared size) before any route: the same middleware in both gateways.
BEFORE_ANY_ROUTE = {"oversized body"}
CASES: dict[str, tuple[int, str, Case]] = {
    "no token": (401, "TOKEN.MISSING", lambda s: s.send(headers={"authorization": "", "dpop": ""}, content=_body())),
    "bad token": (401, "TOKEN.MALFORMED", lambda s: s.send(token="not.a.jwt", content=_body())),
    "bearer scheme for a DPoP token": (401, "TOKEN.BINDING", lambda s: s.send(
        headers={"authorization": f"Bearer {s.token}"}, content=_body())),
    "token for another audience": (401, "TOKEN.AUDIENCE", lambda s: s.send(token=_other_audience_token(s),
                                                                           content=_body())),
    "no DPoP proof": (401, "DPOP.HEADER", lambda s: s.send(proof="", headers={"dpop": ""}, content=_body())),
    "replayed proof": (401, "DPOP.REPLAY", _replayed),
    "proof for another URL": (401, "DPOP.HTU", lambda s: s.send(proof_url=s.gateway.base + "/v1/messages/holdings",
                                                                content=_body())),
    "proof htu with a port that is no number": (401, "DPOP.HTU", lambda s: s.send(
        proof_url="https://gw.example:port/v1/transfers", content=_body())),
    "proof for another method": (401, "DPOP.HTM", lambda s: s.send(proof=dpop_proof(
        s.client.dpop_key, method="PUT", url=s.gateway.base + "/v1/transfers", nonce=s.client.nonce,
        access_token=s.token), content=_body(), nonce_retry=False)),
    "stale nonce": (401, "DPOP.NONCE_STALE", lambda s: s.send(proof=dpop_proof(
        s.client.dpop_key, method="POST", url=s.gateway.base + "/v1/transfers", nonce="x" * 32,
        access_token=s.token), content=_body(), nonce_retry=False)),
    "oversized body": (413, "INPUT.TOO_LARGE", lambda s: s.send(content=b"{" + b" " * MAX_BODY + b"}")),
    "oversized streamed body": (413, "INPUT.TOO_LARGE", lambda s: s.send(content=_chunks(MAX_BODY + 1))),
    "wrong content type": (415, "HTTP.CONTENT_TYPE", lambda s: s.send(headers={"content-type": "image/png"},
                                                                       content=b"\x89PNG")),
    "two content types": (415, "HTTP.CONTENT_TYPE", lambda s: s.gateway.http.post(
        "/v1/transfers", content=_body(), headers=[
            ("authorization", f"DPoP {s.token}"), ("carbonlink-message-id", "m-two-types"),
            ("dpop", s.client.proof("POST", "/v1/transfers", access_token=s.token)),
            ("content-type", "application/json"), ("content-type", "text/csv")])),
    "kind the sender may not send": (403, "TRANSFER.KIND_NOT_ALLOWED", lambda s: s.send("/v1/messages/retirements",
                                                                              content=_body())),
    "body that is no JSON": (400, "INPUT.JSON", lambda s: s.send(content=b"{")),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_lean_endpoint_refuses_as_the_routes_did(sides: tuple[Side, Side], lean_calls: list[int],
                                                     name: str) -> None:
    status, code, case = CASES[name]
    lean, route = sides
    answers = []
    for side in (lean, route):
        before = len(lean_calls)
        response = case(side)
        served_lean = len(lean_calls) > before
        assert served_lean is (side is lean and name not in BEFORE_ANY_ROUTE), (name, side is lean)
        answers.append(response)
    for response in answers:
        body = response.json()
        assert (response.status_code, body.get("code")) == (status, code), (name, response.status_code, body)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["cache-control"] == "no-store"
    one, other = answers
    assert one.json()["type"] == other.json()["type"] and one.json()["title"] == other.json()["title"]
    for header in ("www-authenticate", "retry-after"):
        assert one.headers.get(header) == other.headers.get(header), header
    assert ("dpop-nonce" in one.headers) == ("dpop-nonce" in other.headers)


@pytest.mark.parametrize(("path", "headers", "status", "code"), [
    ("/v1/messages/no-such-kind", {}, 400, "HTTP.INVALID_REQUEST"),
    ("/v1/transfers", {"carbonlink-message-id": ""}, 400, "HTTP.INVALID_REQUEST"),
])
def test_what_the_endpoint_passes_on_fastapi_answers_as_before(
        sides: tuple[Side, Side], lean_calls: list[int], path: str, headers: dict[str, str], status: int,
        code: str) -> None:
    """An unknown kind and a missing message id reach the FastAPI routes (which authenticate first, then
    refuse the parameter), on both gateways alike."""
    for side in sides:
        response = side.send(path, headers=headers, content=_body())
        assert (response.status_code, response.json()["code"]) == (status, code), response.text
    assert not lean_calls


def test_other_methods_and_a_trailing_slash_are_not_the_relay(sides: tuple[Side, Side], lean_calls: list[int]
                                                              ) -> None:
    lean, route = sides
    for side in (lean, route):
        assert side.gateway.http.get("/v1/transfers").status_code == 405
        assert side.gateway.http.post("/v1/transfers/", content=b"{}").status_code == 404
    assert not lean_calls


@pytest.fixture(scope="module")
def shared_replay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Side]:
    """A gateway whose replay cache is shared (Redis): its caller checks need a worker thread."""
    redis_url = require_redis()
    root = tmp_path_factory.mktemp("relay-at-once")
    side = _side(TrustWorld(root), root / "gateway", lean=True, env={"CARBONLINK_REPLAY_STORE": redis_url})
    yield side
    side.gateway.stop()


@pytest.fixture()
def at_once_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the requests relayed in one hand-over (:func:`gateway.api.relay.relay_at_once`)."""
    calls: list[int] = []
    inner = relay.relay_at_once

    async def counted(*args: Any) -> Any:
        calls.append(1)
        return await inner(*args)

    monkeypatch.setattr(relay, "relay_at_once", counted)
    return calls


#: Cases the one hand-over does not take: refused before any route, or a body without a declared length.
NOT_AT_ONCE = BEFORE_ANY_ROUTE | {"oversized streamed body"}


@pytest.mark.service
@pytest.mark.parametrize("name", sorted(CASES))
def test_one_hand_over_refuses_as_the_two_did(shared_replay: Side, at_once_calls: list[int],
                                              monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """With a shared replay cache, the relay reads the body first and runs the caller's checks, the later checks and
    the submission in one worker thread; every refusal (and its order: the caller first) is the two-step path's."""
    status, code, case = CASES[name]
    answers = []
    for at_once in (True, False):
        monkeypatch.setattr(relay, "_one_hand_over", at_once)
        before = len(at_once_calls)
        answers.append(case(shared_replay))
        assert (len(at_once_calls) > before) is (at_once and name not in NOT_AT_ONCE), (name, at_once)
    for response in answers:
        assert (response.status_code, response.json().get("code")) == (status, code), (name, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    one, other = answers
    for header in ("www-authenticate", "retry-after"):
        assert one.headers.get(header) == other.headers.get(header), header
    assert ("dpop-nonce" in one.headers) == ("dpop-nonce" in other.headers)


@pytest.mark.service
def test_one_hand_over_checks_the_caller_before_the_content_type(shared_replay: Side, at_once_calls: list[int]
                                                                 ) -> None:
    """A replayed proof on a message of a refused Content-Type is refused for the proof, as before: the body is
    read first, but the checks run in their order."""
    first = shared_replay.send(content=b"{")
    assert first.status_code == 400, first.text
    again = shared_replay.send(proof=first.request.headers["dpop"], headers={"content-type": "image/png"},
                               content=b"\x89PNG", nonce_retry=False)
    assert (again.status_code, again.json()["code"]) == (401, "DPOP.REPLAY"), again.text
    assert len(at_once_calls) == 2


@pytest.mark.service
def test_one_hand_over_leaves_expect_continue_to_the_two_step_path(shared_replay: Side, at_once_calls: list[int]
                                                                   ) -> None:
    """A client waiting for ``100 Continue`` is checked before its body is asked for."""
    response = shared_replay.send(headers={"authorization": "", "dpop": "", "expect": "100-continue"}, content=_body())
    assert (response.status_code, response.json()["code"]) == (401, "TOKEN.MISSING")
    assert not at_once_calls
