"""The committed OpenAPI document is one a vendor can build on: a valid OpenAPI 3.1 document (checked
with openapi-spec-validator), whose examples match its own schemas, that documents for every operation
its security, its request body per medium and every status with the problem+json schema; and a client
generated from it by openapi-python-client talks to the gateway (token, proofs and all)."""

from __future__ import annotations

import importlib
import io
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from adapters import default_catalog
from gateway.demo import itmo_message
from standards.codec import Medium
from tests.api.openapi_world import COMMITTED, ApiWorld

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MESSAGE_MEDIA = {"application/vnd.carbonlink.canonical+json", "application/json", "text/csv", "application/xml",
                 "text/xml", XLSX}
NOTICE_MEDIA = {"application/vnd.carbonlink.notice+json", "application/json"}


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return dict(json.loads(COMMITTED.read_text(encoding="utf-8")))


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def _validator(doc: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A validator of ``schema`` whose ``#/components/...`` references resolve in ``doc``."""
    return Draft202012Validator({**schema, "components": doc["components"]})


def test_the_document_is_valid_openapi_3_1(doc: dict[str, Any]) -> None:
    validator = pytest.importorskip("openapi_spec_validator", reason="a test extra: pip install -e '.[test]'")
    validator.validate(doc)
    assert doc["openapi"].startswith("3.1")


def test_every_example_matches_its_schema(doc: dict[str, Any]) -> None:
    checked = 0
    for path, method, operation in _operations(doc):
        bodies = [operation.get("requestBody", {}).get("content", {})]
        bodies += [answer.get("content", {}) for answer in operation["responses"].values()]
        for content in bodies:
            for media_type, media in content.items():
                if "example" in media:
                    errors = list(_validator(doc, media["schema"]).iter_errors(media["example"]))
                    assert not errors, (path, method, media_type, errors[0].message)
                    checked += 1
    assert checked >= 40


def test_every_operation_says_how_it_is_authorised_and_what_it_answers(doc: dict[str, Any]) -> None:
    schemes = doc["components"]["securitySchemes"]
    assert schemes["oauth2"]["flows"]["clientCredentials"]["tokenUrl"] == "/oauth/token"
    assert set(schemes["oauth2"]["flows"]["clientCredentials"]["scopes"]) == {
        "messages:send", "peers:read", "metrics:read", "conformance:run", "feeds:read", "feeds:read:own",
        "feeds:push", "console:registry", "console:network", "authorizations:issue", "authorizations:read",
        "title:read", "approvals:write"}
    assert (schemes["dpop"]["type"], schemes["dpop"]["scheme"], schemes["mtls"]["type"]) == ("http", "DPoP",
                                                                                               "mutualTLS")
    ids = set()
    for path, _method, operation in _operations(doc):
        ids.add(operation["operationId"])
        statuses = set(operation["responses"])
        assert {"400", "413", "503"} <= statuses and any(s.startswith("2") for s in statuses), (path, statuses)
        for status, answer in operation["responses"].items():
            if status.startswith(("4", "5")):
                media = "application/json" if path == "/oauth/token" else "application/problem+json"
                schema = "OAuthError" if path == "/oauth/token" else "Problem"
                assert answer["content"][media]["schema"]["$ref"].endswith("/" + schema), (path, status)
            if status in ("429", "502", "503", "504"):
                assert "Retry-After" in answer["headers"], (path, status)
        if operation["security"]:
            assert "401" in statuses and {"dpop", "mtls"} == {s for req in operation["security"] for s in req} - {
                "oauth2"}
            assert "DPoP" in [p["name"] for p in operation["parameters"] if p["in"] == "header"]
            assert "WWW-Authenticate" in operation["responses"]["401"]["headers"]
    assert len(ids) == len(list(_operations(doc)))  # one id per operation, for the generated method names


MRV_PATHS = {"/v1/messages/monitoring-reports", "/v1/messages/verifications", "/v1/messages/issuance-requests"}


def test_relay_operations_take_every_medium_and_answer_a_signed_receipt(doc: dict[str, Any]) -> None:
    relays = {path: item["post"] for path, item in doc["paths"].items()
              if path.startswith(("/v1/transfers", "/v1/messages/")) and "post" in item
              and not path.endswith("/approvals")}  # approval messages release held transfers: not a relay
    assert set(relays) == {"/v1/transfers", "/v1/messages/{kind}", "/v1/messages/acceptances",
                           "/v1/messages/completions", *MRV_PATHS}
    for path, operation in relays.items():
        media = set(operation["requestBody"]["content"])
        expected = NOTICE_MEDIA if path.endswith(("acceptances", "completions")) else MESSAGE_MEDIA
        assert media == ({"application/json"} if path in MRV_PATHS else expected), path
        statuses = set(operation["responses"])
        assert {"200", "400", "401", "403", "409", "413", "415", "422", "429", "502", "503", "504"} <= statuses
        ok = operation["responses"]["200"]
        assert ok["content"]["application/json"]["schema"]["$ref"].endswith("/Receipt")
        assert ok["headers"]["Carbonlink-Signature"]["$ref"].endswith("/CarbonlinkSignature")
        message_id = next(p for p in operation["parameters"] if p["name"] == "Carbonlink-Message-Id")
        assert message_id["required"] and message_id["schema"]["pattern"]
    kinds = next(p for p in relays["/v1/messages/{kind}"]["parameters"] if p["name"] == "kind")["schema"]["enum"]
    assert "acceptances" not in kinds and {"transfers", "retirements", "cancellations"} <= set(kinds)


# --- a client generated from the document -------------------------------------------------------------------

#: A registry sending AEF CSV maps that medium onto the generator's byte bodies (the generator has one byte-body
#: type per operation, so a client maps the one medium its registry sends; the JSON media need nothing).
GENERATOR_CONFIG = {"content_type_overrides": {"text/csv": "application/octet-stream"}}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The package openapi-python-client generates from the committed document, imported."""
    generator = shutil.which("openapi-python-client", path=str(Path(sys.executable).parent))
    if generator is None:
        pytest.skip("openapi-python-client is a test extra: pip install -e '.[test]'")
    root = tmp_path_factory.mktemp("generated")
    config = root / "config.json"
    config.write_text(json.dumps(GENERATOR_CONFIG))
    env = {"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin"}  # ruff of the venv formats the output
    done = subprocess.run([generator, "generate", "--path", str(COMMITTED), "--config", str(config), "--meta", "none",
                           "--output-path", str(root / "carbonlink_vendor_client")],
                          capture_output=True, text=True, timeout=300, env=env, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    unsupported = set(re.findall(r"Unsupported content type (\S+)", done.stdout))
    assert unsupported <= {"application/xml", "text/xml", XLSX}, unsupported  # the media this client does not send
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module("carbonlink_vendor_client")
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m.startswith("carbonlink_vendor_client")]:
            del sys.modules[name]


def _client(package: Any, world: ApiWorld, *, token: str | None = None) -> Any:
    transport = world.gateway.http._transport  # the in-process app, as a vendor's client would reach it over HTTP
    args = {"transport": transport}
    if token is None:
        return package.Client(base_url=world.gateway.base, httpx_args=args)
    return package.AuthenticatedClient(base_url=world.gateway.base, token=token, prefix="DPoP", httpx_args=args)


def test_a_generated_client_reads_the_public_operations(generated: Any, vendor_api: ApiWorld) -> None:
    health = importlib.import_module("carbonlink_vendor_client.api.health.get_health")
    models = importlib.import_module("carbonlink_vendor_client.models")
    answer = health.sync_detailed(client=_client(generated, vendor_api))
    assert answer.status_code == 200
    assert isinstance(answer.parsed, models.Health) and answer.parsed.status.value == "ok"


def test_a_generated_client_calls_protected_operations_with_its_token_and_proofs(generated: Any,
                                                                                 vendor_api: ApiWorld) -> None:
    whoami = importlib.import_module("carbonlink_vendor_client.api.peers.whoami")
    transfer = importlib.import_module("carbonlink_vendor_client.api.transfers.submit_transfer")
    models = importlib.import_module("carbonlink_vendor_client.models")
    File = importlib.import_module("carbonlink_vendor_client.types").File
    proof, token = vendor_api.client.proof, vendor_api.token
    client = _client(generated, vendor_api, token=token)
    answer = whoami.sync_detailed(client=client, d_po_p=proof("GET", "/v1/whoami", access_token=token))
    if answer.status_code == 401:  # the server nonce: once
        vendor_api.learn_nonce(httpx.Response(401, headers=answer.headers, content=answer.content))
        answer = whoami.sync_detailed(client=client,
                                      d_po_p=proof("GET", "/v1/whoami", access_token=token))
    assert answer.status_code == 200, answer.content
    assert isinstance(answer.parsed, models.Whoami) and answer.parsed.client_id == "che-registry"
    assert answer.parsed.binding.value == "dpop"

    refused = whoami.sync_detailed(client=_client(generated, vendor_api))  # no token: a parsed problem
    assert refused.status_code == 401 and isinstance(refused.parsed, models.Problem)
    assert refused.parsed.code == "TOKEN.MISSING"

    body = models.SubmitTransferJsonBody.from_dict(  # last < first: findings, nothing delivered
        itmo_message(sender_party="CHE", receiver_party="GHA", first=1, last=0))
    sent = transfer.sync_detailed(client=client, body=body, carbonlink_message_id="vendor-client-1",
                                  d_po_p=proof("POST", "/v1/transfers", access_token=token))
    assert sent.status_code == 422, sent.content
    assert isinstance(sent.parsed, models.Problem) and sent.parsed.errors

    csv = File(payload=io.BytesIO(_aef_csv()), mime_type="text/csv")  # the registry's own medium, as bytes
    sent = transfer.sync_detailed(client=client, body=csv, carbonlink_message_id="vendor-client-2",
                                  d_po_p=proof("POST", "/v1/transfers", access_token=token))
    assert (sent.status_code, sent.parsed.code) == (502, "UPSTREAM.UNAVAILABLE"), sent.content  # read, relayed
    assert sent.headers["retry-after"]


def _aef_csv() -> bytes:
    """A valid AEF transfer written as AEF CSV by the aef adapter."""
    adapter = default_catalog().get("aef")
    message = itmo_message(sender_party="CHE", receiver_party="GHA", first=1, last=10)
    parsed = adapter.parse(json.dumps(message).encode(), medium=Medium.JSON)
    return adapter.serialize(parsed.document, medium=Medium.CSV).data
