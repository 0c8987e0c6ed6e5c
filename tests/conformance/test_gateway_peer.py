"""``gateway-peer 2026.1`` against carbonlink's gateway (a real ``carbonlink serve`` process with sandbox
registries, must pass well under 60 s) and against broken variants of it: a proxy in front of the
gateway that breaks one behaviour each (receipt signature, idempotency, timing, discovery, hostile header
values, uncoded refusals, a garbled body recorded), and the gateway's own app with one trust check off
(assertion replay, audience, expiry and signature, DPoP URL, a bound token taken as a bearer token), each
failing exactly the test it should (later gates skipped)."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from conformance import Target, Verdict, default_kits, run_kit
from gateway.demo import Network, Registry
from tests.conformance.breakers import ForgivingJose
from tests.conformance.peers import BrokenGateway, InProcessGateway
from tests.conformance.peers import failed as _failed

pytestmark = pytest.mark.e2e  # a gateway and sandbox registries as processes

GHA_HOLDS = "CA0001-GHA01-GHA-1-2023..CA0001-GHA01-GHA-1000000000-2023@treasury"
Rewrite = Callable[[Request, bytes, dict[str, str]], tuple[bytes, dict[str, str]]]


@pytest.fixture(scope="module")
def net() -> Iterator[Network]:
    registries = [Registry("gha", "GHA", "aef", holds=[GHA_HOLDS]), Registry("che", "CHE", "aef")]
    with Network(registries) as network:
        network.write_directory(_grant_conformance_scope)
        yield network


def _grant_conformance_scope(directory: dict[str, Any]) -> None:
    for participant in directory["participants"]:
        if participant["id"] == "che":
            participant["scopes"].append("conformance:run")


def _run(net: Network, url: str | None = None, **options: Any) -> dict[str, Verdict]:
    target = Target(url or net.gateway_url, {"client_id": "gha", "key": str(net.root / "gha.key.json"),
                                             "issuer": net.gateway_url, **options})
    run = run_kit(default_kits().get("gateway-peer@2026.1"), target)
    return {r.test: r.verdict for r in run.results}


def test_carbonlinks_gateway_passes_in_well_under_a_minute(net: Network) -> None:
    started = time.perf_counter()
    verdicts = _run(net)
    assert _failed(verdicts) == set(), verdicts
    # without client certificates the RFC 8705 tests that need one are omitted (test_gateway_peer_mtls.py)
    omitted = {t for t, v in verdicts.items() if v is Verdict.OMIT}
    assert omitted == {"GW.MTLS.METADATA", "GW.MTLS.TOKEN", "GW.MTLS.BOUND", "GW.MTLS.OTHER_CERT",
                       "GW.MTLS.NO_CERT", "GW.MTLS.CLIENT_AUTH_OTHER_CERT"}
    assert len(verdicts) == 22 and {v for t, v in verdicts.items() if t not in omitted} == {Verdict.PASS}
    assert time.perf_counter() - started < 60


def test_a_gateway_whose_receipts_are_not_its_signature_fails_the_receipt_test(net: Network) -> None:
    def resign(req: Request, answer: httpx.Response) -> Response | None:
        if req.url.path != "/v1/transfers" or answer.status_code != 200:
            return None
        head, _, signature = answer.headers["carbonlink-signature"].partition("..")
        forged = head + ".." + ("A" if signature[0] != "A" else "B") + signature[1:]
        return Response(answer.content, 200, headers={"carbonlink-signature": forged,
                                                      "content-type": "application/json"})
    proxy = BrokenGateway(net.gateway_url, answer=resign)
    try:
        assert _failed(_run(net, proxy.url)) == {"GW.RECEIPT.SIGNED"}
    finally:
        proxy.stop_serving()


def test_a_gateway_forgetting_message_ids_fails_the_idempotency_test(net: Network) -> None:
    seen: set[str] = set()

    def fresh(req: Request, headers: dict[str, str]) -> dict[str, str]:
        mid = headers.get("carbonlink-message-id")
        if mid is not None and req.url.path == "/v1/transfers" and "dpop" in headers:
            headers["carbonlink-message-id"] = f"{mid}-{len(seen)}" if mid in seen else mid
            seen.add(mid)
        return headers
    proxy = BrokenGateway(net.gateway_url, request=fresh)
    try:
        assert _failed(_run(net, proxy.url)) == {"GW.MESSAGE.IDEMPOTENT"}
    finally:
        proxy.stop_serving()


def test_a_slow_gateway_fails_the_timing_test(net: Network) -> None:
    def slow(req: Request, answer: httpx.Response) -> Response | None:
        if req.url.path == "/v1/transfers":
            time.sleep(0.4)  # blocks the proxy's loop: the answer is late
        return None
    proxy = BrokenGateway(net.gateway_url, answer=slow)
    try:
        assert _failed(_run(net, proxy.url, max_answer_seconds="0.35")) == {"GW.ANSWER.TIME"}
    finally:
        proxy.stop_serving()


def _proxied(net: Network, answer: Callable[[Request, httpx.Response], Response | None]) -> set[str]:
    proxy = BrokenGateway(net.gateway_url, answer=answer)
    try:
        return _failed(_run(net, proxy.url))
    finally:
        proxy.stop_serving()


def _is_transfer(req: Request) -> bool:
    return req.url.path == "/v1/transfers"


def test_a_gateway_failing_on_hostile_headers_fails_the_hostile_header_test(net: Network) -> None:
    def fragile(req: Request, answer: httpx.Response) -> Response | None:  # a 500 where it should refuse
        hostile = ("/" in req.headers.get("carbonlink-message-id", "") or len(req.headers.get("dpop", "")) > 8_192
                   or req.headers.get("authorization") == "DPoP ..")
        return Response(b"Internal Server Error", 500) if _is_transfer(req) and hostile else None
    assert _proxied(net, fragile) == {"GW.HEADERS.HOSTILE"}


def test_a_gateway_refusing_without_a_reason_fails_the_coded_rejection_test(net: Network) -> None:
    def uncoded(req: Request, answer: httpx.Response) -> Response | None:
        invalid = b'"AcquiringPartyID": "CH"' in req.state.body
        if _is_transfer(req) and invalid and 400 <= answer.status_code < 500:
            return Response(b"refused", answer.status_code, media_type="text/plain")
        return None
    assert _proxied(net, uncoded) == {"GW.TRANSFER.REJECTED_CODED"}


def test_a_gateway_recording_a_garbled_body_fails_the_garbled_body_test(net: Network) -> None:
    recorded: dict[str, httpx.Response] = {}

    def records_garbled(req: Request, answer: httpx.Response) -> Response | None:
        """Keys its record by message id before reading the body: the whole message sent after a garbled one
        under the same id gets the garbled one's answer again."""
        mid = req.headers.get("carbonlink-message-id", "")
        if not _is_transfer(req) or "dpop" not in req.headers:
            return None
        if mid in recorded:
            first = recorded[mid]
            return Response(first.content, first.status_code, media_type=first.headers.get("content-type"))
        try:
            json.loads(req.state.body)
        except ValueError:
            recorded[mid] = answer
        return None
    assert _proxied(net, records_garbled) == {"GW.BODY.GARBLED"}


def test_wrong_discovery_metadata_skips_every_later_gate(net: Network) -> None:
    def other_issuer(req: Request, answer: httpx.Response) -> Response | None:
        if req.url.path == "/.well-known/oauth-authorization-server":
            return Response(answer.content.replace(net.gateway_url.encode(), b"https://elsewhere.invalid"), 200,
                            media_type="application/json")
        return None
    proxy = BrokenGateway(net.gateway_url, answer=other_issuer)
    try:
        verdicts = _run(net, proxy.url)
        assert verdicts["GW.DISCOVERY"] is Verdict.FAIL
        assert {v for t, v in verdicts.items() if t != "GW.DISCOVERY"} == {Verdict.SKIP}
    finally:
        proxy.stop_serving()


def test_the_gateway_runs_registry_endpoint_against_the_callers_own_endpoint(net: Network) -> None:
    import json as _json

    from jsonschema import Draft202012Validator

    from conformance.reports import result_schema
    from gateway.client import GatewayClient
    from gateway.trust.keys import import_jwk

    key = import_jwk(_json.loads((net.root / "che.key.json").read_text()), private=True, what="che key")
    che = GatewayClient(net.gateway_url, "che", key, scope="messages:send conformance:run")
    time.sleep(1.2)  # the gateway re-reads the directory with the new scope every 0.5 s
    started = che.request("POST", "/v1/conformance/runs", content=b'{"kit": "registry-endpoint"}',
                          headers={"Content-Type": "application/json"})
    assert started.status_code == 202, started.text
    location = started.headers["location"]
    deadline = time.time() + 60
    view = started.json()
    while view["status"] == "running" and time.time() < deadline:
        time.sleep(0.3)
        view = che.request("GET", location).json()
    assert view["status"] == "done", view
    result = view["result"]
    assert not list(Draft202012Validator(result_schema()).iter_errors(result))
    assert result["passed"] is True, [r for r in result["results"] if r["verdict"] != "pass"]
    assert result["target"] == net.registries["che"].base_url + "/messages"

    refused = che.request("POST", "/v1/conformance/runs", content=b'{"kit": "aef-messages"}',
                          headers={"Content-Type": "application/json"})
    assert refused.status_code == 422 and refused.json()["code"] == "CONFORMANCE.KIT_NOT_SERVED"
    key_gha = import_jwk(_json.loads((net.root / "gha.key.json").read_text()), private=True, what="gha key")
    gha = GatewayClient(net.gateway_url, "gha", key_gha)
    assert gha.request("GET", location).status_code == 403  # no conformance:run scope


# -- broken OAuth: the gateway's own app, served in this process with one trust check disabled --------


def _forget_assertions(trust: Any) -> None:
    replay = trust.clients.replay

    class Forgetful:
        def __getattr__(self, name: str) -> Any:
            return getattr(replay, name)

        def first_use(self, namespace: str, jti: str, expires_at: float) -> bool:
            return True if namespace == "assertion" else bool(replay.first_use(namespace, jti, expires_at))
    trust.clients.replay = Forgetful()


def _any_audience(trust: Any) -> None:
    check = trust.clients._check_claims
    trust.clients._check_claims = lambda claims, cid: check({**claims, "aud": trust.clients.policy.issuer}, cid)


def _no_expiry(trust: Any) -> None:
    check = trust.clients._check_claims

    def lenient(claims: dict[str, Any], cid: str) -> float:
        now = int(time.time())
        if claims.get("exp", 0) <= now:
            claims = {**claims, "iat": now, "exp": now + 60}
        return float(check(claims, cid))
    trust.clients._check_claims = lenient


def _any_url(trust: Any) -> None:
    import base64
    import json as _json

    verify = trust.dpop.verify

    def ignore_htu(headers: Any, *, method: str, url: str, access_token: str | None = None) -> str:
        payload = headers[0].split(".")[1] if len(headers) == 1 and headers[0].count(".") == 2 else ""
        with contextlib.suppress(ValueError):
            url = _json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))).get("htu", url)
        return str(verify(headers, method=method, url=url, access_token=access_token))
    trust.dpop.verify = ignore_htu


def _blind_to_assertion_signatures(trust: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.trust import client_auth

    monkeypatch.setattr(client_auth, "jose", ForgivingJose({"SIGNATURE"}, client_auth.ASSERTION_TYP))


def _bearer_accepted(trust: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The resource server takes a DPoP-bound token sent as ``Bearer`` with no proof at its word."""
    from gateway.api import deps

    verify_caller = deps.verify_caller

    def unbound(request: Any, trust: Any, cert: bytes | None) -> Any:
        scheme, token = deps._access_token(request)
        if scheme != "bearer" or request.headers.get("dpop"):
            return verify_caller(request, trust, cert)
        claims = trust.tokens.verify(token)
        return deps.Caller(participant=trust.directory.participant(claims.client_id), token=claims)
    monkeypatch.setattr(deps, "verify_caller", unbound)


def _on_trust(change: Callable[[Any], None]) -> Callable[[Any, pytest.MonkeyPatch], None]:
    return lambda trust, monkeypatch: change(trust)


def test_the_in_process_gateway_passes(net: Network, tmp_path: Any) -> None:
    intact = InProcessGateway(net, tmp_path / "intact", lambda trust: None)
    try:
        assert _failed(_run(net, intact.url)) == set()
    finally:
        intact.stop_serving()


@pytest.mark.parametrize(("breaker", "expected"), [
    (_on_trust(_forget_assertions), "GW.OAUTH.REPLAYED"),
    (_on_trust(_any_audience), "GW.OAUTH.WRONG_AUDIENCE"),
    (_on_trust(_no_expiry), "GW.OAUTH.EXPIRED"),
    (_on_trust(_any_url), "GW.DPOP.OTHER_URL"),
    (_blind_to_assertion_signatures, "GW.OAUTH.BAD_SIGNATURE"),
    (_bearer_accepted, "GW.TOKEN.UNBOUND"),
], ids=["replay", "audience", "expiry", "dpop-url", "assertion-signature", "unbound-token"])
def test_a_gateway_with_one_oauth_check_off_fails_exactly_that_test(
        net: Network, tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
        breaker: Callable[[Any, pytest.MonkeyPatch], None], expected: str) -> None:
    broken = InProcessGateway(net, tmp_path / "broken", lambda trust: breaker(trust, monkeypatch))
    try:
        assert _failed(_run(net, broken.url)) == {expected}
    finally:
        broken.stop_serving()
