"""What each operation of the document answers and takes: statuses, request bodies, security.

The statuses follow the code paths: every request passes the guard middleware (400 for a malformed
Content-Length, 413 over the body limit, 503 in maintenance); a protected route verifies a token and its
binding (400 for a malformed Authorization or certificate header, 401, 503 when the replay store is
down), then its scope (403); the relay adds the transfer path's answers (:mod:`gateway._status_table`).
"""

from __future__ import annotations

import json
from typing import Any

from adapters import default_catalog
from gateway.apidoc._components import REF, problem_example, receipt_example, security
from gateway.demo import itmo_message
from gateway.protocol import MESSAGE_ID_PATTERN, NOTICE_KINDS, MessageKind
from gateway.transfers._translator import CANONICAL_CONTENT_TYPE, INBOUND_MEDIA_TYPES, NOTICE_CONTENT_TYPE
from standards.codec import Medium

TOKEN_PATH = "/oauth/token"
GUARD = (400, 413, 503)
PROTECTED = (*GUARD, 401)
RELAY = (*PROTECTED, 403, 409, 415, 422, 429, 502, 504)
FEED = (*PROTECTED, 403, 422)
#: The success schema of an operation whose success answers are the route's own declaration.
DECLARED = "declared"

#: path -> method -> (operation id, statuses besides 200, scope or None when public, schema of the 200 body)
OPERATIONS: dict[str, dict[str, tuple[str, tuple[int, ...], str | None, str | None]]] = {
    "/oauth/token": {"post": ("request_token", (*GUARD, 401), None, "TokenResponse")},
    "/.well-known/oauth-authorization-server": {"get": ("get_authorization_server_metadata", GUARD, None,
                                                        "AuthorizationServerMetadata")},
    "/.well-known/jwks.json": {"get": ("get_jwks", GUARD, None, "JWKS")},
    "/healthz": {"get": ("get_health", GUARD, None, "Health")},
    "/v1/whoami": {"get": ("whoami", PROTECTED, "", "Whoami")},
    "/v1/peers": {"get": ("list_peers", (*PROTECTED, 403), "peers:read", "Peers")},
    "/metrics": {"get": ("read_metrics", (*PROTECTED, 403), "metrics:read", None)},
    "/v1/transfers": {"post": ("submit_transfer", (*RELAY, 410), "messages:send", "Receipt")},
    "/v1/messages/{kind}": {"post": ("submit_message", (*RELAY, 410), "messages:send", "Receipt")},
    # conformance runs, harmonized feeds and the console ticket: their success answers are the routes' own
    # (FastAPI's declaration, ``DECLARED``); the rows add every error status the code paths can answer
    "/v1/conformance/runs": {"post": ("start_conformance_run", (*PROTECTED, 403, 404, 422), "conformance:run",
                                      DECLARED)},
    "/v1/conformance/runs/{run_id}": {"get": ("get_conformance_run", (*PROTECTED, 403, 404, 422),
                                              "conformance:run", DECLARED)},
    "/v1/feeds/cadt/v2/{kind}": {"get": ("read_cadt_v2_feed", FEED, "feeds:read", DECLARED)},
    "/v1/feeds/cadt/v1/{kind}": {"get": ("read_cadt_v1_feed", FEED, "feeds:read", DECLARED)},
    "/v1/feeds/canonical/{kind}": {"get": ("read_canonical_feed", FEED, "feeds:read", DECLARED)},
    "/v1/feeds/aef/{party}/{year}": {"get": ("read_aef_feed", FEED, "feeds:read", DECLARED)},
    "/v1/feeds/conflicts": {"get": ("read_feed_conflicts", FEED, "feeds:read", DECLARED)},
    "/v1/feeds/sources": {"get": ("list_feed_sources", FEED, "feeds:read", DECLARED)},
    "/v1/feeds/snapshot": {"put": ("push_feed_snapshot", (*PROTECTED, 403, 415, 422), "feeds:push", DECLARED)},
    "/v1/feeds/changes": {"get": ("stream_feed_changes", FEED, "feeds:read", DECLARED)},
    "/v1/feeds/subscriptions": {"post": ("subscribe_feed_changes", FEED, "feeds:read", DECLARED)},
    "/v1/feeds/subscriptions/{subscription_id}": {
        "get": ("get_feed_subscription", (*FEED, 404), "feeds:read", DECLARED),
        "delete": ("end_feed_subscription", (*FEED, 404), "feeds:read", DECLARED)},
    "/console/tickets": {"post": ("issue_console_ticket", (*PROTECTED, 403), "console:registry", DECLARED)},
    "/v1/mrv/evidence/{sha256}": {
        "put": ("upload_evidence", (*PROTECTED, 403, 404, 413, 422), "mrv:evidence", DECLARED),
        "get": ("read_evidence", (*PROTECTED, 403, 404, 413, 422), "mrv:evidence", DECLARED)},
    "/v1/authorizations": {
        "post": ("issue_authorization", (*PROTECTED, 403, 409, 422), "authorizations:issue", DECLARED),
        "get": ("list_authorizations", (*PROTECTED, 403, 422), "authorizations:read", DECLARED)},
    "/v1/authorizations/{party}/{authorization_id}": {
        "get": ("get_authorization", (*PROTECTED, 403, 404, 422), "authorizations:read", DECLARED)},
    "/v1/authorizations/{party}/{authorization_id}/versions": {
        "post": ("amend_authorization", (*PROTECTED, 403, 404, 409, 422), "authorizations:issue", DECLARED)},
    "/v1/policy": {"get": ("read_policy", (*PROTECTED, 403, 404), "policy:read", DECLARED)},
    "/v1/title": {"get": ("get_title", (*PROTECTED, 403, 422), "title:read", DECLARED)},
    "/v1/transfers/{message_id}/approvals": {
        "post": ("approve_held_message", (*RELAY, 404, 410), "approvals:write", DECLARED)},
    "/v1/transfers/held": {"get": ("list_held_messages", (*PROTECTED, 403, 404, 422), "approvals:write", DECLARED)},
    "/v1/transfers/held/{message_id}": {
        "get": ("get_held_message", (*PROTECTED, 403, 404), "approvals:write", DECLARED)},
    "/v1/authorizations/{party}/{authorization_id}/revocation": {
        "post": ("revoke_authorization", (*PROTECTED, 403, 404, 409, 422), "authorizations:issue", DECLARED)},
}

DEFAULT_DESCRIPTIONS = {
    200: "Success",
    400: "Malformed request (a header, the Content-Length, a parameter or the body); see `code`",
    401: "Token or its DPoP/mTLS binding refused (WWW-Authenticate; DPoP-Nonce when a nonce is needed)",
    403: "The token lacks the scope, or the directory does not allow this",
    404: "No such resource (run, subscription, kit); see `code`",
    409: "Conflict; see `code`",
    410: "Gone for good; see `code`",
    413: "Body larger than the gateway takes",
    415: "A Content-Type this operation does not take",
    422: "Validation findings (`errors[]`)",
    429: "Rate limit (Retry-After)",
    502: "The receiving registry failed (Retry-After)",
    503: "Maintenance mode or a store of the gateway is unavailable (Retry-After when known); see `code`",
    504: "The receiving registry did not answer in time (Retry-After)",
}
EXAMPLE_CODES = {
    400: ("HTTP.INVALID_REQUEST", "header/carbonlink-message-id: Field required"),
    401: ("TOKEN.MISSING", "this endpoint needs an access token (Authorization: DPoP ...)"),
    403: ("TOKEN.INSUFFICIENT_SCOPE", "this needs the scope 'messages:send'"),
    404: ("CONFORMANCE.RUN_UNKNOWN", "no conformance run 'r-0001' of this registry"),
    409: ("IDEMPOTENCY.BODY_MISMATCH", "message id 'che-2024-0001' was already used with a different body"),
    410: ("GOVERNANCE.HOLD_EXPIRED", "message 'che-2024-0001' of 'che-registry' waited for approvals past "
                                     "1764086400 and was not relayed"),
    413: ("INPUT.TOO_LARGE", "the body is larger than 10485760 bytes"),
    415: ("HTTP.CONTENT_TYPE", "a message from a aef registry needs a Content-Type of ..."),
    422: ("VALIDATION.FAILED", "the message is not valid aef (json)"),
    429: ("TRANSFER.RATE_LIMITED", "rate limit exceeded"),
    502: ("UPSTREAM.ERROR", "the receiving registry did not answer"),
    503: ("SERVICE.MAINTENANCE", "the gateway is in maintenance mode"),
    504: ("UPSTREAM.TIMEOUT", "the receiving registry did not answer in time"),
}
_RETRY = (429, 502, 503, 504)
_BINARY = {"type": "string", "format": "binary"}
_JSON_AEF_EXAMPLE = itmo_message(sender_party="CHE", receiver_party="GHA", first=1, last=10)
_NOTICE_EXAMPLE = {"notice_type": "acceptance", "issued_at": "2024-06-03T11:00:00Z",
                   "in_reply_to": {"sender": "che-registry", "message_id": "che-2024-0001"}}


def error_response(status: int, description: str, *, token_endpoint: bool) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if status in _RETRY:
        headers["Retry-After"] = {"$ref": "#/components/headers/RetryAfter"}
    if status == 401 and not token_endpoint:
        headers["WWW-Authenticate"] = {"$ref": "#/components/headers/WWWAuthenticate"}
    if status in (400, 401):
        headers["DPoP-Nonce"] = {"$ref": "#/components/headers/DPoPNonce"}
    code, detail = EXAMPLE_CODES[status]
    if token_endpoint:
        content = {"application/json": {"schema": {"$ref": REF.format(model="OAuthError")},
                                        "example": {"error": "invalid_request", "error_description": detail,
                                                    "code": code}}}
    else:
        content = {"application/problem+json": {"schema": {"$ref": REF.format(model="Problem")},
                                                "example": problem_example(status, code, detail)}}
    answer: dict[str, Any] = {"description": description, "content": content}
    if headers:
        answer["headers"] = headers
    return answer


def success_response(path: str, schema: str | None, description: str) -> dict[str, Any]:
    if schema is None:  # /metrics
        return {"description": description, "content": {"text/plain": {"schema": {"type": "string"}}}}
    media: dict[str, Any] = {"schema": {"$ref": REF.format(model=schema)}}
    answer: dict[str, Any] = {"description": description, "content": {"application/json": media}}
    if schema == "Receipt":
        media["example"] = receipt_example()
        answer["headers"] = {"Carbonlink-Signature": {"$ref": "#/components/headers/CarbonlinkSignature"},
                             "Carbonlink-Replayed": {"$ref": "#/components/headers/CarbonlinkReplayed"}}
    elif path == "/oauth/token":
        answer["headers"] = {"DPoP-Nonce": {"$ref": "#/components/headers/DPoPNonce"}}
    return answer


def _formats_reading(medium: Medium) -> list[str]:
    catalog = default_catalog()
    return sorted(name for name, adapter in catalog.adapters.items()
                  if medium in adapter.media and name != "canonical")


def statement_body() -> dict[str, Any]:
    """The request body of an authorization route: the national authority's statement, signed with its own key."""
    return {"required": True, "content": {"application/jose": {"schema": {
        "type": "string", "pattern": r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$",
        "description": "a compact JWS (typ carbonlink-authority-statement+jwt) signed with a key of the national "
                       "authority's directory entry; payload iss, aud (this gateway's issuer), iat, jti, party, "
                       "action (issue, amend, revoke), authorization_id, version, statement (AEF T2 fields in the "
                       "canonical model) or effective and reason (docs/governance.md)"}}},
            "description": "The statement, signed by the national authority itself."}


def message_body() -> dict[str, Any]:
    """The request body of a relayed message: canonical JSON, or one medium of the sender's format."""
    content: dict[str, Any] = {
        CANONICAL_CONTENT_TYPE: {"schema": {"$ref": REF.format(model="CanonicalDocument")}},
    }
    schemas: dict[Medium, dict[str, Any]] = {Medium.JSON: {"type": "object", "additionalProperties": True},
               Medium.CSV: _BINARY, Medium.XML: _BINARY, Medium.XLSX: _BINARY}
    for medium, media_types in INBOUND_MEDIA_TYPES.items():
        for media_type in media_types:
            schema: dict[str, Any] = dict(schemas[medium])
            schema["description"] = (f"the message in the sender's own format, {medium.value} (formats read "
                                     f"from {medium.value}: {', '.join(_formats_reading(medium))}); taken only when "
                                     "the sender's directory format reads this medium, else 415")
            content[media_type] = {"schema": schema}
    content["application/json"]["example"] = _JSON_AEF_EXAMPLE
    content[CANONICAL_CONTENT_TYPE]["example"] = _canonical_example()
    return {"required": True, "content": content,
            "description": "The message: in the canonical data model, or in the sender registry's own format "
                           "(its directory entry's `format`) in one of the media that format is read from. The "
                           "gateway translates it into the receiver's format."}


def _canonical_example() -> dict[str, Any]:
    result = default_catalog().get("aef").parse(json.dumps(_JSON_AEF_EXAMPLE).encode(), medium=Medium.JSON)
    return result.document.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True)


def notice_body(kind: MessageKind) -> dict[str, Any]:
    example = dict(_NOTICE_EXAMPLE, notice_type="acceptance" if kind is MessageKind.ACCEPTANCES else "completion")
    schema = {"$ref": REF.format(model="Notice")}
    return {"required": True, "description": f"A notice ({kind.value}) about a message relayed earlier.",
            "content": {NOTICE_CONTENT_TYPE: {"schema": schema, "example": example},
                        "application/json": {"schema": schema}}}


#: The MRV document each MRV message kind carries (docs/mrv.md), as its component schema.
MRV_BODIES = {MessageKind.MONITORING_REPORTS: "MonitoringReport", MessageKind.VERIFICATIONS: "VerificationStatement",
              MessageKind.ISSUANCE_REQUESTS: "IssuanceRequest"}


def mrv_body(kind: MessageKind) -> dict[str, Any]:
    schema = {"$ref": REF.format(model=MRV_BODIES[kind])}
    return {"required": True, "description": f"The {MRV_BODIES[kind]} (canonical MRV JSON, docs/mrv.md).",
            "content": {"application/json": {"schema": schema}}}


def token_body() -> dict[str, Any]:
    return {"required": True, "content": {"application/x-www-form-urlencoded": {
        "schema": {"$ref": REF.format(model="TokenRequest")},
        "example": {"grant_type": "client_credentials", "scope": "messages:send",
                    "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    "client_assertion": "eyJhbGciOiJFUzI1NiIsImtpZCI6ImNoZS0xIn0.eyJpc3MiOiJjaGUtcmVnaXN0cnkifQ.c2ln"},
    }}}


def dpop_parameter(required: bool) -> dict[str, Any]:
    return {"name": "DPoP", "in": "header", "required": required, "schema": {"type": "string"},
            "description": "RFC 9449 DPoP proof (a JWT, typ dpop+jwt) for this request's method and URL"}


def message_id_schema() -> dict[str, Any]:
    return {"type": "string", "pattern": MESSAGE_ID_PATTERN, "maxLength": 200}


def relayed_kinds() -> list[str]:
    return [kind.value for kind in MessageKind if kind not in NOTICE_KINDS and kind is not MessageKind.ISSUANCE_NOTICES]


def operation_security(scope: str | None) -> list[dict[str, list[str]]] | None:
    return None if scope is None else security(scope or None)
