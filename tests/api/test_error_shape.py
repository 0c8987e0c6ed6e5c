"""One error contract: every refusal of the gateway and of the sandbox registry is the same
RFC 9457 problem (``type``, ``title``, ``status``, ``detail``, ``code``, and ``errors[]`` when the
error carries findings), and the status table answers every domain error the gateway can raise.

In-process (TestClient): no subprocess, no port.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import gateway
import standards.errors
from gateway.errors import PROBLEM_TYPE, STATUS_TABLE, answer_for, install, status_for
from gateway.main import create_app
from gateway.sandbox.app import create_app as create_sandbox_app
from gateway.sandbox.service import Sandbox, SandboxConfig
from gateway.settings import Settings, TransferSettings
from gateway.trust.outbound import SIGNATURE_HEADER
from standards.errors import CarbonlinkError, ValidationFailed
from standards.findings import Finding, Layer, Location, RuleCatalogue, Severity

PROBLEM_MEMBERS = {"type", "title", "status", "detail", "code"}
#: Errors the gateway's code defines but never lets reach an HTTP answer: a client's view of a
#: refusal it received, and the sandbox ledger's internal control flow.
#: Errors raised only outside the HTTP service (registry-side clients, the command line).
CLIENT_SIDE = {"GatewayClientError", "SandboxRefused", "_Refusal", "CliUsageError", "FeedCommandError"}

_CATALOGUE = RuleCatalogue("shape-test")
_RULE = _CATALOGUE.add("SHAPE.TEST", severity=Severity.ERROR, layer=Layer.FIELD, title="a test finding",
                       reference="tests/api/test_error_shape.py")


def assert_problem(resp: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is the one problem shape, with ``status`` (and ``code``)."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert set(body) >= PROBLEM_MEMBERS, body
    assert body["status"] == status
    assert isinstance(body["type"], str) and body["type"].startswith(PROBLEM_TYPE)
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and isinstance(body["code"], str)
    if code is not None:
        assert body["code"] == code
    return dict(body)


def _gateway_error_classes() -> list[type[CarbonlinkError]]:
    """Every CarbonlinkError subclass defined in gateway/ or standards/errors.py."""
    for module in pkgutil.walk_packages(gateway.__path__, "gateway."):
        importlib.import_module(module.name)
    seen: list[type[CarbonlinkError]] = []
    todo: list[type[CarbonlinkError]] = [CarbonlinkError]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.append(sub)
                todo.append(sub)
    return [c for c in seen if (c.__module__.startswith("gateway.") or c.__module__ == standards.errors.__name__)
            and c.__name__ not in CLIENT_SIDE]


def _instance(cls: type[CarbonlinkError]) -> CarbonlinkError:
    """An instance of ``cls`` built through its own constructor."""
    finding = _RULE.finding("a finding", Location(pointer="/x"))
    attempts: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        (("refused",), {}), (("refused",), {"findings": [finding]}), (("refused",), {"nonce": "n-1"}),
        (("refused",), {"retry_after": 7}), (("refused",), {"losses": []}), (("REASON", "refused"), {}),
    ]
    for args, kwargs in attempts:
        try:
            return cls(*args, **kwargs)
        except TypeError:
            continue
    raise AssertionError(f"cannot build a {cls.__name__}")


def test_the_status_table_covers_every_error_the_gateway_can_raise() -> None:
    classes = _gateway_error_classes()
    assert len(classes) > 40
    uncovered = [c.__qualname__ for c in classes if not any(k in STATUS_TABLE for k in c.__mro__[:-4])]
    assert uncovered == [], f"no row of the status table (other than the root) answers {uncovered}"
    for cls in classes:
        assert "http_status" not in vars(cls) and "status" not in vars(cls), f"{cls} carries an HTTP status"


@pytest.fixture(scope="module")
def domain_app() -> Iterator[TestClient]:
    """A bare app with the gateway's handlers and a route raising any error class."""
    app = FastAPI()
    install(app)
    by_name = {c.__name__: c for c in _gateway_error_classes()}
    by_name["ValidationFailed"] = ValidationFailed

    @app.get("/raise/{name}")
    def raise_(name: str) -> None:
        raise _instance(by_name[name])

    @app.get("/crash")
    def crash() -> None:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize("cls", _gateway_error_classes(), ids=lambda c: c.__name__)
def test_every_domain_error_is_the_one_problem_shape(domain_app: TestClient, cls: type[CarbonlinkError]) -> None:
    error = _instance(cls)
    resp = domain_app.get(f"/raise/{cls.__name__}")
    body = assert_problem(resp, status_for(error), error.code)
    assert body["title"] == cls.__name__ and body["detail"] == error.message
    if error.findings is not None:
        assert body["errors"] == [f.as_dict() for f in error.findings]
    else:
        assert "errors" not in body
    if answer_for(error).oauth is not None:
        assert body["error"] == answer_for(error).oauth
    if error.retry_after or answer_for(error).retry_after:
        assert int(resp.headers["retry-after"]) == (error.retry_after or answer_for(error).retry_after)


def test_an_unexpected_exception_is_a_bare_500_problem(domain_app: TestClient) -> None:
    body = assert_problem(domain_app.get("/crash"), 500, "SERVER.ERROR")
    assert "boom" not in body["detail"]


@pytest.fixture(scope="module")
def gateway_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data = tmp_path_factory.mktemp("gateway-data")
    settings = Settings(environment="development", transfers=TransferSettings(data_dir=data))
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def test_every_gateway_error_path_is_the_one_problem_shape(gateway_client: TestClient) -> None:
    assert_problem(gateway_client.get("/no/such/path"), 404, "HTTP.NOT_FOUND")
    assert_problem(gateway_client.delete("/healthz"), 405, "HTTP.METHOD_NOT_ALLOWED")
    # a path served by several routes names every method they take (starlette names the first route's only)
    several = gateway_client.request("PATCH", "/v1/feeds/subscriptions/s-1")
    assert_problem(several, 405, "HTTP.METHOD_NOT_ALLOWED")
    assert several.headers["allow"] == "GET, DELETE"
    missing = gateway_client.post("/v1/transfers", content=b"{}", headers={"Carbonlink-Message-Id": "m-1"})
    assert_problem(missing, 401, "TOKEN.MISSING")
    assert missing.headers["www-authenticate"].startswith("DPoP ")
    scheme = gateway_client.get("/v1/peers", headers={"Authorization": "Basic eA=="})
    assert assert_problem(scheme, 401, "TOKEN.SCHEME")["error"] == "invalid_token"
    huge = gateway_client.post("/v1/transfers", content=b"x" * (5 * 1024 * 1024),
                               headers={"Carbonlink-Message-Id": "m-2"})
    assert_problem(huge, 413, "INPUT.TOO_LARGE")


def test_the_token_endpoint_answers_with_oauth_error_bodies(gateway_client: TestClient) -> None:
    resp = gateway_client.post("/oauth/token", data={})
    assert resp.status_code == 400
    body = resp.json()
    assert body["error"] == "invalid_request" and body["code"] and body["error_description"]


def test_maintenance_is_the_one_problem_shape(tmp_path: Path) -> None:
    settings = Settings(environment="development", maintenance=True,
                        transfers=TransferSettings(data_dir=tmp_path))
    with TestClient(create_app(settings)) as client:
        resp = client.get("/v1/peers")
    assert_problem(resp, 503, "SERVICE.MAINTENANCE")
    assert resp.headers["retry-after"] == "30"


@pytest.fixture(scope="module")
def sandbox_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db = tmp_path_factory.mktemp("sandbox") / "sandbox.sqlite3"
    sandbox = Sandbox(SandboxConfig(format="aef", registry_id="dev-che-registry", party="CHE", db=db,
                                    key="development", operator_token="op-token", max_body_bytes=1024))
    with TestClient(create_sandbox_app(sandbox), raise_server_exceptions=False) as client:
        yield client
    sandbox.store.close()


def assert_sandbox_problem(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:
    body = assert_problem(resp, status, code)
    assert body["registry"] == "dev-che-registry"
    assert resp.headers[SIGNATURE_HEADER], "every sandbox answer is signed"
    return body


def test_every_sandbox_error_path_is_the_one_problem_shape(sandbox_client: TestClient) -> None:
    assert_sandbox_problem(sandbox_client.get("/no/such/path"), 404, "SANDBOX.NOT_FOUND")
    assert_sandbox_problem(sandbox_client.get("/journal"), 401, "SANDBOX.OPERATOR_AUTH")
    refused = sandbox_client.post("/messages", content=b"{}")
    assert_sandbox_problem(refused, 401, "SANDBOX.AUTH_MISSING")
    assert refused.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    operator = {"Authorization": "Bearer op-token"}
    assert_sandbox_problem(sandbox_client.post("/outgoing", content=b"{}", headers=operator), 400,
                           "SANDBOX.MESSAGE_ID_MISSING")
    assert_sandbox_problem(sandbox_client.post("/outgoing/m-1/confirm", content=b"", headers=operator), 404,
                           "SANDBOX.NO_PENDING_DEBIT")
    assert_sandbox_problem(sandbox_client.post("/outgoing", content=b"x" * 2048, headers=operator), 413,
                           "SANDBOX.TOO_LARGE")


def test_a_finding_carrying_error_lists_its_findings() -> None:
    finding: Finding = _RULE.finding("a finding", Location(pointer="/x"))
    app = FastAPI()
    install(app)

    @app.get("/")
    def refuse() -> None:
        raise ValidationFailed("invalid", findings=[finding])

    body = assert_problem(TestClient(app).get("/"), 422, "VALIDATION.FAILED")
    assert body["errors"] == [finding.as_dict()]
