"""``gateway-peer`` RFC 8705 gate (mTLS certificate-bound tokens) against carbonlink's gateway.

Two tiers: the gateway's app in the test process behind the suite acting as its TLS-terminating proxy
(the certificate in ``x-client-cert``, the way the gateway's own trust tests pass it), intact and with one
binding check off, each broken variant failing exactly its test; and a ``carbonlink serve`` process that
terminates TLS itself with client certificates (real handshakes, a CA and certificates made for the run)."""

from __future__ import annotations

import os
import ssl
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from conformance import Target, Verdict, default_kits, run_kit
from gateway.demo import Network, Registry
from gateway.trust.client_auth import cert_thumbprint
from tests.conformance.peers import BrokenGateway, InProcessGateway, failed
from tests.support.pki import Pki
from tests.support.ports import free_port
from tests.support.processes import GatewayProcess

pytestmark = pytest.mark.e2e  # a gateway and sandbox registries as processes

GHA_HOLDS = "CA0001-GHA01-GHA-1-2023..CA0001-GHA01-GHA-1000000000-2023@treasury"
MTLS_TESTS = {"GW.MTLS.UNBOUND_REFUSED", "GW.MTLS.METADATA", "GW.MTLS.TOKEN", "GW.MTLS.BOUND", "GW.MTLS.OTHER_CERT",
              "GW.MTLS.NO_CERT", "GW.MTLS.CLIENT_AUTH_OTHER_CERT"}
PROXY = {"CARBONLINK_TRUSTED_PROXIES": '["127.0.0.1"]'}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki(tmp_path_factory.mktemp("pki"), clients=("gha-registry", "not-gha"))


@pytest.fixture(scope="module")
def net(pki: Pki) -> Iterator[Network]:
    registries = [Registry("gha", "GHA", "aef", holds=[GHA_HOLDS]), Registry("che", "CHE", "aef")]

    def gha_certificate(directory: dict[str, Any]) -> None:
        for participant in directory["participants"]:
            if participant["id"] == "gha":
                participant["x5t#S256"] = cert_thumbprint(pki.fra[2])
    with Network(registries) as network:
        network.write_directory(gha_certificate)
        time.sleep(1.0)  # the gateway re-reads the directory every 0.5 s
        yield network


def _options(net: Network, pki: Pki, **more: Any) -> dict[str, Any]:
    return {"client_id": "gha", "key": str(net.root / "gha.key.json"), "issuer": net.issuer,
            "client_cert": str(pki.fra[0]), "client_key": str(pki.fra[1]), "other_cert": str(pki.other[0]),
            "other_key": str(pki.other[1]), **more}


def _run(url: str, options: dict[str, Any]) -> dict[str, Verdict]:
    run = run_kit(default_kits().get("gateway-peer@2026.1"), Target(url, options))
    return {r.test: r.verdict for r in run.results}


def _header_run(net: Network, pki: Pki, url: str) -> dict[str, Verdict]:
    return _run(url, _options(net, pki, cert_header="x-client-cert"))


def test_the_gateway_behind_its_trusted_proxy_passes_every_certificate_test(
        net: Network, pki: Pki, tmp_path: Path) -> None:
    intact = InProcessGateway(net, tmp_path / "intact", lambda trust: None, env=PROXY)
    try:
        verdicts = _header_run(net, pki, intact.url)
    finally:
        intact.stop_serving()
    assert failed(verdicts) == set()
    assert {t: v for t, v in verdicts.items() if t in MTLS_TESTS} == dict.fromkeys(MTLS_TESTS, Verdict.PASS)
    assert set(verdicts.values()) == {Verdict.PASS}


def _resource_server_lenient(accept: Callable[[bytes | None, str | None], bool]) -> Callable[..., None]:
    """The resource server takes a certificate-bound token when ``accept(cert, x5t)`` says so."""
    def breaker(trust: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        from gateway.api import deps

        verify_caller = deps.verify_caller

        def lenient(request: Any, trust: Any, cert: bytes | None) -> Any:
            _scheme, token = deps._access_token(request)
            claims = trust.tokens.verify(token)
            if claims.x5t is not None and accept(cert, claims.x5t):
                return deps.Caller(participant=trust.directory.participant(claims.client_id), token=claims)
            return verify_caller(request, trust, cert)
        monkeypatch.setattr(deps, "verify_caller", lenient)
    return breaker


def _any_client_certificate(trust: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """tls_client_auth takes any verified certificate for any client."""
    clients = trust.clients
    monkeypatch.setattr(clients, "_tls_client", lambda client_id, thumbprint: clients._participant(client_id))


def _bound_to_something_else(trust: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Certificate-bound tokens carry another thumbprint than the certificate's."""
    issue = trust.tokens.issue

    def misbound(participant: Any, scopes: Any, *, jkt: str | None = None, x5t: str | None = None) -> str:
        return str(issue(participant, scopes, jkt=jkt, x5t=x5t[::-1] if x5t else None))
    monkeypatch.setattr(trust.tokens, "issue", misbound)


@pytest.mark.parametrize(("breaker", "expected"), [
    (_resource_server_lenient(lambda cert, x5t: cert is not None), "GW.MTLS.OTHER_CERT"),
    (_resource_server_lenient(lambda cert, x5t: cert is None), "GW.MTLS.NO_CERT"),
    (_any_client_certificate, "GW.MTLS.CLIENT_AUTH_OTHER_CERT"),
    (_bound_to_something_else, "GW.MTLS.TOKEN"),
], ids=["any-certificate", "no-certificate", "client-auth-any-certificate", "token-bound-elsewhere"])
def test_a_gateway_with_one_binding_check_off_fails_exactly_that_test(
        net: Network, pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        breaker: Callable[[Any, pytest.MonkeyPatch], None], expected: str) -> None:
    broken = InProcessGateway(net, tmp_path / "broken", lambda trust: breaker(trust, monkeypatch), env=PROXY)
    try:
        assert failed(_header_run(net, pki, broken.url)) == {expected}
    finally:
        broken.stop_serving()


def _issues_unbound_tokens(req: Request, answer: httpx.Response) -> Response | None:
    """A token for a request with neither a DPoP proof nor a certificate (a bearer token anyone can use)."""
    if req.url.path == "/oauth/token" and "dpop" not in req.headers and "x-client-cert" not in req.headers:
        return JSONResponse({"access_token": "a.b.c", "token_type": "Bearer", "expires_in": 300})
    return None


def _no_binding_metadata(req: Request, answer: httpx.Response) -> Response | None:
    if req.url.path == "/.well-known/oauth-authorization-server":
        doc = answer.json()
        doc.pop("tls_client_certificate_bound_access_tokens", None)
        return JSONResponse(doc)
    return None


@pytest.mark.parametrize(("answer", "expected"), [
    (_issues_unbound_tokens, "GW.MTLS.UNBOUND_REFUSED"), (_no_binding_metadata, "GW.MTLS.METADATA"),
], ids=["unbound-tokens", "metadata"])
def test_a_proxy_breaking_the_token_endpoint_fails_exactly_that_test(
        net: Network, pki: Pki, tmp_path: Path, answer: Callable[[Request, httpx.Response], Response | None],
        expected: str) -> None:
    intact = InProcessGateway(net, tmp_path / "upstream", lambda trust: None, env=PROXY)
    proxy = BrokenGateway(intact.url, answer=answer)
    try:
        assert failed(_header_run(net, pki, proxy.url)) == {expected}
    finally:
        proxy.stop_serving()
        intact.stop_serving()


def test_a_gateway_terminating_tls_passes_over_real_handshakes(net: Network, pki: Pki, tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARBONLINK_")}
    env.update({"CARBONLINK_HOST": "127.0.0.1", "CARBONLINK_PORT": str(port), "CARBONLINK_ISSUER": net.issuer,
                "CARBONLINK_DIRECTORY": str(net.root / "directory.jws"), "CARBONLINK_DATA_DIR": str(tmp_path / "d"),
                "CARBONLINK_TLS_CERTFILE": str(pki.server[0]), "CARBONLINK_TLS_KEYFILE": str(pki.server[1]),
                "CARBONLINK_TLS_CLIENT_CA": str(pki.ca_path)})
    gateway = GatewayProcess(env, scheme="https", verify=ssl.create_default_context(cafile=str(pki.ca_path)),
                             log_dir=tmp_path)
    try:
        started = time.perf_counter()
        verdicts = _run(gateway.base, _options(net, pki, ca=str(pki.ca_path)))
        assert failed(verdicts) == set()
        assert set(verdicts.values()) == {Verdict.PASS} and set(verdicts) >= MTLS_TESTS
        assert time.perf_counter() - started < 60
        # the same run without the suite's certificates: the certificate tests do not apply
        plain = _run(gateway.base, {k: v for k, v in _options(net, pki, ca=str(pki.ca_path)).items()
                                    if k not in ("client_cert", "client_key", "other_cert", "other_key")})
        assert {t for t, v in plain.items() if v is Verdict.OMIT} == MTLS_TESTS - {"GW.MTLS.UNBOUND_REFUSED"}
    finally:
        gateway.stop()
