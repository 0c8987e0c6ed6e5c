"""The gateway's vendor OpenAPI document: FastAPI's document of the routes, completed with what a
registry vendor needs to generate a client (request bodies per kind and medium, the OAuth 2.0 / DPoP /
mTLS security schemes, every status each operation can answer with its problem+json schema, examples).

:func:`install` makes the app serve it at ``/openapi.json``; ``python -m gateway.openapi`` writes the
committed copy (``openapi/openapi.json``), which ``tests/api/test_openapi_drift.py`` compares with the app.

Module map::

    _components.py  schemas, security schemes, headers and examples
    _operations.py  statuses, bodies and security of each operation
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from gateway.apidoc import _operations as ops
from gateway.apidoc._components import HEADERS, SCOPES, schemas, security_schemes
from gateway.protocol import NOTICE_KINDS, MessageKind

__all__ = ["SCOPES", "enrich", "install"]

TOKEN_URL = "/oauth/token"
DESCRIPTION = (
    "carbonlink relays messages between carbon-market registries (UNFCCC Article 6.2 AEF, CAD Trust, registry "
    "formats): a registry sends a message in its own format, the gateway validates it, translates it into the "
    "receiver's format, delivers it signed, and answers with a signed receipt. Every answer that is not a "
    "2xx is RFC 9457 problem+json with a stable `code` (OAuth error bodies at /oauth/token). "
    "Connecting a registry: docs/onboarding.md."
)


def _operation(path: str, method: str, operation: dict[str, Any]) -> None:
    operation_id, statuses, scope, success_schema = ops.OPERATIONS[path][method]
    operation["operationId"] = operation_id
    declared = operation.get("responses", {})
    token_endpoint = path == ops.TOKEN_PATH
    responses: dict[str, Any]
    if success_schema == ops.DECLARED:
        responses = {status: answer for status, answer in declared.items() if int(status) < 400}
    else:
        responses = {"200": ops.success_response(path, success_schema,
                                                 _description(declared, 200, ops.DEFAULT_DESCRIPTIONS[200]))}
        responses.update({s: a for s, a in declared.items() if s.startswith("2") and s != "200"})
    for status in sorted(statuses):
        responses[str(status)] = ops.error_response(
            status, _description(declared, status, ops.DEFAULT_DESCRIPTIONS[status]), token_endpoint=token_endpoint)
    operation["responses"] = responses
    security = ops.operation_security(scope)
    parameters = [p for p in operation.get("parameters", []) if p.get("in") != "header" or p["name"] != "DPoP"]
    if security is not None:
        operation["security"] = security
        parameters.append(ops.dpop_parameter(required=False))
    elif token_endpoint:
        parameters.append(ops.dpop_parameter(required=False))
        operation["requestBody"] = ops.token_body()
        operation["security"] = []
    else:
        operation["security"] = []
    for parameter in parameters:
        if parameter["name"] == "Carbonlink-Message-Id":
            parameter["schema"] = ops.message_id_schema()
        elif parameter["name"] == "kind" and path == "/v1/messages/{kind}":
            parameter["schema"] = {"type": "string", "enum": ops.relayed_kinds()}
    if parameters:
        operation["parameters"] = parameters
    if success_schema == "Receipt":
        operation["requestBody"] = ops.message_body()
    if method == "post" and path.startswith("/v1/authorizations"):
        operation["requestBody"] = ops.statement_body()


def _description(declared: dict[str, Any], status: int, default: str) -> str:
    text = declared.get(str(status), {}).get("description")
    return str(text) if text and text != "Successful Response" else default


def _notice_paths(message_path: dict[str, Any]) -> dict[str, Any]:
    """``/v1/messages/acceptances`` and ``/completions``: the same operation with a notice body."""
    paths: dict[str, Any] = {}
    for kind in sorted(NOTICE_KINDS, key=lambda k: k.value):
        operation = copy.deepcopy(message_path["post"])
        operation["operationId"] = f"submit_{kind.value}"
        operation["summary"] = f"Send a notice ({kind.value})"
        operation["description"] = _NOTICE_DESCRIPTIONS[kind]
        operation["parameters"] = [p for p in operation["parameters"] if p["name"] != "kind"]
        operation["requestBody"] = ops.notice_body(kind)
        paths[f"/v1/messages/{kind.value}"] = {"post": operation}
    return paths


def _mrv_paths(message_path: dict[str, Any]) -> dict[str, Any]:
    """``/v1/messages/monitoring-reports``, ``verifications`` and ``issuance-requests``: the same operation with an
    MRV document body (docs/mrv.md)."""
    paths: dict[str, Any] = {}
    for kind in ops.MRV_BODIES:
        operation = copy.deepcopy(message_path["post"])
        operation["operationId"] = f"submit_{kind.value.replace('-', '_')}"
        operation["summary"] = f"Send an MRV document ({kind.value})"
        operation["description"] = _MRV_DESCRIPTIONS[kind]
        operation["parameters"] = [p for p in operation["parameters"] if p["name"] != "kind"]
        operation["requestBody"] = ops.mrv_body(kind)
        paths[f"/v1/messages/{kind.value}"] = {"post": operation}
    return paths


_MRV_DESCRIPTIONS = {
    MessageKind.MONITORING_REPORTS: f"An MRV system's {ops.MRV_BODIES[MessageKind.MONITORING_REPORTS]} to the "
                                    "registry listing the project; its evidence files are uploaded first.",
    MessageKind.VERIFICATIONS: "A verifier's statement on a report relayed through this gateway (by digest).",
    MessageKind.ISSUANCE_REQUESTS: "An MRV system asks the project's registry to issue on a verification relayed "
                                   "through this gateway; the receipt carries the registry's issuance notice.",
}

_NOTICE_DESCRIPTIONS = {
    MessageKind.ACCEPTANCES: "The registry that received a message accepts or rejects it (notice_type acceptance or "
                             "rejection); the gateway relays the notice to the message's sender.",
    MessageKind.COMPLETIONS: "The registry that sent a message completes or terminates it (notice_type completion "
                             "or termination); the gateway relays the notice to the message's receiver.",
}


def enrich(spec: dict[str, Any]) -> dict[str, Any]:
    """The vendor document built on FastAPI's ``spec`` (not changed)."""
    doc = copy.deepcopy(spec)
    doc["info"]["description"] = DESCRIPTION
    doc["info"]["license"] = {"name": "Apache-2.0", "identifier": "Apache-2.0"}
    components = doc.setdefault("components", {})
    components.setdefault("schemas", {}).update(schemas())
    components["securitySchemes"] = security_schemes(TOKEN_URL)
    components["headers"] = HEADERS
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            _operation(path, method, operation)
    doc["paths"].update(_notice_paths(doc["paths"]["/v1/messages/{kind}"]))
    doc["paths"].update(_mrv_paths(doc["paths"]["/v1/messages/{kind}"]))
    doc["paths"] = dict(sorted(doc["paths"].items()))
    components["schemas"].pop("MessageKind", None)  # the kind parameter lists the relayed kinds itself
    return doc


def install(app: FastAPI) -> None:
    """Serve the vendor document at ``/openapi.json`` (built once, on first use)."""
    plain: Callable[[], dict[str, Any]] = app.openapi
    built: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        if not built:
            built.append(enrich(plain()))
        return built[0]

    app.openapi = openapi  # type: ignore[method-assign]
