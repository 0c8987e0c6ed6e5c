"""The committed OpenAPI document matches the application (regenerate with
``python -m gateway.openapi > openapi/openapi.json``)."""

from __future__ import annotations

import json
from pathlib import Path

from gateway.openapi import document, render

COMMITTED = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


def test_committed_openapi_document_has_not_drifted() -> None:
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    current = document()
    assert sorted(committed["paths"]) == sorted(current["paths"]), (
        "paths differ: regenerate openapi/openapi.json"
    )
    assert committed == json.loads(render()), "the API changed: regenerate openapi/openapi.json"


def test_document_lists_the_endpoints_and_their_error_answers() -> None:
    paths = document()["paths"]
    assert set(paths) == {
        "/oauth/token",
        "/.well-known/oauth-authorization-server",
        "/.well-known/jwks.json",
        "/v1/whoami",
        "/v1/peers",
        "/healthz",
        "/metrics",
        "/v1/transfers",
        "/v1/messages/{kind}",
        "/v1/conformance/runs",
        "/v1/conformance/runs/{run_id}",
        "/v1/feeds/cadt/v1/{kind}",
        "/v1/feeds/cadt/v2/{kind}",
        "/v1/feeds/canonical/{kind}",
        "/v1/feeds/aef/{party}/{year}",
        "/v1/feeds/conflicts",
        "/v1/feeds/sources",
        "/v1/feeds/snapshot",
        "/v1/feeds/changes",
        "/v1/feeds/subscriptions",
        "/v1/feeds/subscriptions/{subscription_id}",
        "/console/tickets",
        "/v1/messages/acceptances",
        "/v1/messages/completions",
        "/v1/authorizations",
        "/v1/authorizations/{party}/{authorization_id}",
        "/v1/authorizations/{party}/{authorization_id}/versions",
        "/v1/authorizations/{party}/{authorization_id}/revocation",
        "/v1/policy",
        "/v1/title",
        "/v1/transfers/held",
        "/v1/transfers/held/{message_id}",
        "/v1/transfers/{message_id}/approvals",
        "/v1/mrv/evidence/{sha256}",
        "/v1/messages/monitoring-reports",
        "/v1/messages/verifications",
        "/v1/messages/issuance-requests",
    }
    assert {"400", "401", "413"} <= set(paths["/oauth/token"]["post"]["responses"])
    assert {"401", "403"} <= set(paths["/v1/peers"]["get"]["responses"])


def test_transfer_routes_document_their_coded_answers() -> None:
    paths = document()["paths"]
    for path in ("/v1/transfers", "/v1/messages/{kind}", "/v1/messages/acceptances", "/v1/messages/completions"):
        expected = {"200", "401", "403", "409", "413", "422", "429", "502", "504"}
        assert expected <= set(paths[path]["post"]["responses"])


def test_the_app_serves_the_committed_document() -> None:
    from starlette.testclient import TestClient

    from gateway.main import create_app
    from gateway.settings import Settings

    served = TestClient(create_app(Settings(environment="development"))).get("/openapi.json")
    assert served.status_code == 200
    assert served.json() == json.loads(COMMITTED.read_text(encoding="utf-8"))
