"""The reusable parts of the vendor OpenAPI document: schemas, security schemes, headers and examples.

Schemas of bodies the gateway builds by hand (problems, OAuth errors, receipts, tokens, health) are
written here next to the code that builds them is named; the canonical data model and the notice are
taken from their pydantic models, so they cannot drift from what the gateway parses.
"""

from __future__ import annotations

from typing import Any

from gateway.protocol import MESSAGE_ID_PATTERN
from gateway.transfers.notices import _RFC3339 as RFC3339
from gateway.transfers.notices import NEEDS_REASONS, Notice
from gateway.trust.jose import ALLOWED_ALGORITHMS
from standards.model import CanonicalDocument
from standards.mrv import IssuanceNotice, IssuanceRequest, MonitoringReport, VerificationStatement

REF = "#/components/schemas/{model}"
#: What every coded answer's ``code`` looks like (``FAMILY.REASON``).
CODE_PATTERN = r"^[A-Z][A-Z0-9_]*(\.[A-Z0-9_]+)+$"
#: The scopes a directory entry may grant (docs/trust.md).
SCOPES = {
    "messages:send": "send messages and notices to other registries (POST /v1/transfers, /v1/messages/*)",
    "peers:read": "read the participant directory (GET /v1/peers)",
    "metrics:read": "scrape the Prometheus counters (GET /metrics)",
    "conformance:run": "run the registry-endpoint conformance kit against the caller's own endpoint",
    "feeds:read": "read the harmonized feeds of every registry (GET /v1/feeds/*); feeds:read:own limits a "
                  "registry to its own records",
    "feeds:read:own": "read the harmonized feeds, limited to the caller's own registry",
    "feeds:push": "push a snapshot of the caller's own records (PUT /v1/feeds/snapshot)",
    "console:registry": "sign a person in to the operator console as the operator of the caller's registry",
    "console:network": "sign a person in to the operator console as the network operator",
    "authorizations:issue": "issue, amend and revoke the Article 6.2 authorizations of the caller's own Party "
                            "(the national-authority role only)",
    "authorizations:read": "read every Party's Article 6.2 authorizations",
    "title:read": "read the legal-title trail of a unit block or ITMO range",
    "approvals:write": "send officers' approvals of the caller's held messages and read its held queue (four eyes)",
}

_STRING: dict[str, Any] = {"type": "string"}
_FINDING = {
    "type": "object",
    "description": "One finding of a validation layer (docs/rules.md lists the rules).",
    "required": ["rule", "severity", "location", "pointer", "message"],
    "properties": {
        "rule": {"type": "string", "description": "stable rule id, e.g. AEF.REQUIRED"},
        "severity": {"type": "string", "enum": ["error", "warning", "info"]},
        "location": _STRING, "pointer": {"type": "string", "description": "RFC 6901 JSON pointer"},
        "message": _STRING, "reference": {"type": ["string", "null"]},
    },
}
_PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details with the gateway's stable `code` (every answer that is not a "
                   "2xx, except at /oauth/token).",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "format": "uri-reference"},
        "title": _STRING,
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": _STRING,
        "code": {"type": "string", "pattern": CODE_PATTERN},
        "error": {"type": "string", "description": "the OAuth error name, where one fits (RFC 6750 §3.1, RFC 9449)"},
        "errors": {"type": "array", "items": {"$ref": REF.format(model="Finding")}},
    },
}
_OAUTH_ERROR = {
    "type": "object",
    "description": "RFC 6749 §5.2 error body with the gateway's stable `code`.",
    "required": ["error", "error_description", "code"],
    "properties": {
        "error": {"type": "string", "examples": ["invalid_client", "invalid_dpop_proof", "use_dpop_nonce"]},
        "error_description": _STRING,
        "code": {"type": "string", "pattern": CODE_PATTERN},
    },
}
_TOKEN = {
    "type": "object",
    "required": ["access_token", "token_type", "expires_in", "scope"],
    "properties": {
        "access_token": {"type": "string", "description": "RFC 9068 JWT access token"},
        "token_type": {"type": "string", "enum": ["DPoP", "Bearer"],
                       "description": "DPoP when the request carried a DPoP proof; Bearer for a certificate-bound "
                                      "token (RFC 8705)"},
        "expires_in": {"type": "integer"},
        "scope": {"type": "string", "description": "granted scopes, space separated"},
    },
}
_TOKEN_REQUEST = {
    "type": "object",
    "required": ["grant_type"],
    "properties": {
        "grant_type": {"type": "string", "enum": ["client_credentials"]},
        "client_id": {"type": "string", "description": "the registry's participant id (tls_client_auth)"},
        "client_assertion_type": {"type": "string",
                                  "enum": ["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]},
        "client_assertion": {"type": "string",
                             "description": "private_key_jwt (RFC 7523): iss = sub = participant id, aud = the "
                                            "gateway's issuer, exp, iat, a unique jti; signed with a key of the "
                                            "registry's directory JWKS"},
        "scope": {"type": "string", "description": "space-separated subset of the directory entry's scopes"},
    },
}
_PARTY = {"type": "object", "required": ["id"], "properties": {
    "id": _STRING, "party": {"type": ["string", "null"]}, "registry": {"type": ["string", "null"]}}}
_BODY_DIGEST = {"type": "object", "required": ["sha256", "bytes", "format", "medium"], "properties": {
    "sha256": _STRING, "bytes": {"type": "integer"}, "format": {"type": ["string", "null"]}, "medium": _STRING}}
_RECEIPT = {
    "type": "object",
    "description": "The gateway's signed receipt of one message: the bytes of this body are signed by the detached "
                   "JWS in the Carbonlink-Signature header (typ carbonlink-receipt+jws, a key of "
                   "/.well-known/jwks.json). One message id has one receipt: a retry gets these bytes again.",
    "required": ["type", "version", "receipt_id", "gateway", "message_id", "kind", "outcome", "sender", "receiver",
                 "inbound", "outbound", "receiver_answer", "received_at", "delivered_at", "answered_at"],
    "properties": {
        "type": {"const": "carbonlink-receipt"}, "version": {"type": "integer"},
        "receipt_id": {"type": "string", "format": "uuid"}, "gateway": _STRING,
        "message_id": {"type": "string", "pattern": MESSAGE_ID_PATTERN}, "kind": _STRING,
        "outcome": {"type": "string", "enum": ["accepted", "rejected"],
                    "description": "what the receiving registry answered"},
        "sender": _PARTY, "receiver": _PARTY, "inbound": _BODY_DIGEST, "outbound": _BODY_DIGEST,
        "receiver_answer": {"type": "object", "properties": {
            "status": {"type": "integer"}, "sha256": _STRING, "signature": {"type": ["string", "null"]},
            "attempts": {"type": "integer"}, "body": {}}},
        "losses": {"type": "array", "items": {"type": "object"}},
        "warnings": {"type": "array", "items": {"$ref": REF.format(model="Finding")}},
        "warnings_total": {"type": "integer"},
        "received_at": _STRING, "delivered_at": _STRING, "answered_at": _STRING,
        "request_sha256_b64": _STRING,
        "units": {"type": "array", "description": "the serial ranges the message moves (the legal-title trail)",
                  "items": {"type": "object", "required": ["series", "first", "last"], "properties": {
                      "series": _STRING, "first": {"type": "integer"}, "last": {"type": "integer"},
                      "vintage": {"type": ["integer", "null"]}, "action": _STRING}}},
    },
}
_CHECK = {"type": "object", "required": ["ok"], "properties": {"ok": {"type": "boolean"}, "code": _STRING,
                                                               "detail": _STRING}}
_HEALTH = {
    "type": "object", "required": ["status", "checks"],
    "properties": {"status": {"type": "string", "enum": ["ok", "degraded", "failing"]},
                   "environment": _STRING,
                   "checks": {"type": "object", "additionalProperties": {"$ref": REF.format(model="HealthCheck")}}},
}
_WHOAMI = {
    "type": "object", "required": ["client_id", "scopes", "token_expires_at", "binding"],
    "properties": {"client_id": _STRING, "party": {"type": ["string", "null"]},
                   "party_registry_id": {"type": ["string", "null"]},
                   "scopes": {"type": "array", "items": _STRING}, "token_expires_at": {"type": "integer"},
                   "binding": {"type": "string", "enum": ["dpop", "mtls"]}},
}
_PEERS = {
    "type": "object", "required": ["directory", "participants"],
    "properties": {"directory": {"type": "object", "properties": {
        "iss": _STRING, "environment": _STRING, "sequence": {"type": "integer"}, "iat": {"type": "integer"},
        "exp": {"type": "integer"}}},
        "participants": {"type": "array", "items": {"type": "object", "required": ["id"]}}},
}
_JWKS = {"type": "object", "required": ["keys"],
         "properties": {"keys": {"type": "array", "items": {"type": "object", "required": ["kty", "kid"]}}}}
_METADATA = {"type": "object", "required": ["issuer", "token_endpoint", "jwks_uri"],
             "properties": {name: _STRING for name in ("issuer", "token_endpoint", "jwks_uri", "resource")}}


def schemas() -> dict[str, Any]:
    """Every schema of the document's ``components``: hand-built bodies and the pydantic models' own."""
    out: dict[str, Any] = {
        "Problem": _PROBLEM, "Finding": _FINDING, "OAuthError": _OAUTH_ERROR, "TokenResponse": _TOKEN,
        "TokenRequest": _TOKEN_REQUEST, "Receipt": _RECEIPT, "Health": _HEALTH, "HealthCheck": _CHECK,
        "Whoami": _WHOAMI, "Peers": _PEERS, "JWKS": _JWKS, "AuthorizationServerMetadata": _METADATA,
    }
    for model in (CanonicalDocument, Notice, MonitoringReport, VerificationStatement, IssuanceRequest, IssuanceNotice):
        schema = model.model_json_schema(ref_template=REF, by_alias=True)
        out.update(schema.pop("$defs", {}))
        out[model.__name__] = schema
    _notice_rules(out["Notice"])
    return out


def _notice_rules(notice: dict[str, Any]) -> None:
    """What the notice's validators check, said in the schema: an RFC 3339 time with a zone, and reasons
    for a rejection or a termination."""
    notice["properties"]["issued_at"].update({"format": "date-time", "pattern": RFC3339.pattern})
    notice["if"] = {"properties": {"notice_type": {"enum": sorted(NEEDS_REASONS)}}, "required": ["notice_type"]}
    notice["then"] = {"required": ["reasons"], "properties": {"reasons": {"minItems": 1}}}


def security_schemes(token_url: str) -> dict[str, Any]:
    """OAuth 2.0 client credentials (private_key_jwt or tls_client_auth) and the two token bindings."""
    algs = ", ".join(ALLOWED_ALGORITHMS)
    return {
        "oauth2": {
            "type": "oauth2",
            "description": "Client credentials grant at /oauth/token. The registry authenticates with private_key_jwt "
                           f"(RFC 7523 client assertion, {algs}, a key of its directory JWKS) or tls_client_auth "
                           "(RFC 8705, its directory certificate). Tokens are sender-constrained: send a DPoP "
                           "proof with the token request (token_type DPoP) or present the client certificate "
                           "(token_type Bearer, certificate-bound). See docs/onboarding.md.",
            "flows": {"clientCredentials": {"tokenUrl": token_url, "scopes": dict(SCOPES)}},
        },
        "dpop": {
            "type": "http", "scheme": "DPoP",
            "description": "RFC 9449: `Authorization: DPoP <token>` and a `DPoP` header with a fresh proof "
                           "(typ dpop+jwt, htm, htu = issuer + path, iat, jti, ath; the server nonce when a "
                           f"DPoP-Nonce header asked for one; {algs}).",
        },
        "mtls": {
            "type": "mutualTLS",
            "description": "RFC 8705 certificate-bound token: `Authorization: Bearer <token>` over TLS with the "
                           "client certificate the token was issued to (cnf x5t#S256).",
        },
    }


def security(scope: str | None) -> list[dict[str, list[str]]]:
    """A token of the client credentials flow (with ``scope``), bound by DPoP or by the TLS client certificate."""
    scopes = [scope] if scope else []
    return [{"oauth2": scopes, "dpop": []}, {"oauth2": scopes, "mtls": []}]


HEADERS: dict[str, Any] = {
    "RetryAfter": {"description": "seconds to wait before retrying", "schema": {"type": "integer", "minimum": 0}},
    "WWWAuthenticate": {"description": "RFC 6750 / RFC 9449 challenge (`DPoP algs=...`, with error and the "
                                       "code as error_description)", "schema": _STRING},
    "DPoPNonce": {"description": "RFC 9449 server nonce: put it in the next proof's `nonce` claim",
                  "schema": _STRING},
    "CarbonlinkSignature": {"description": "detached JWS (RFC 7515 Appendix F) of the gateway over the response "
                                           "body", "required": True, "schema": _STRING},
    "CarbonlinkReplayed": {"description": "`true` when this is the receipt handed out earlier for the same message "
                                          "id and body", "schema": {"type": "string", "enum": ["true"]}},
}


def receipt_example() -> dict[str, Any]:
    """A receipt as the gateway writes it (digests and times made up)."""
    digest = "9f2b5c0e" * 8
    return {
        "type": "carbonlink-receipt", "version": 1, "receipt_id": "0b8f5b8e-3c1d-4a5e-9d7e-2f4c6a8b1c3d",
        "gateway": "https://gateway.example", "message_id": "che-2024-0001", "kind": "transfers",
        "outcome": "accepted",
        "sender": {"id": "che-registry", "party": "CHE", "registry": "CHE01"},
        "receiver": {"id": "gha-registry", "party": "GHA", "registry": "GHA01"},
        "inbound": {"sha256": digest, "bytes": 812, "format": "aef", "medium": "json"},
        "outbound": {"sha256": digest, "bytes": 1024, "format": "cadt", "medium": "json"},
        "receiver_answer": {"status": 200, "sha256": digest, "signature": "eyJhbGciOiJFUzI1NiJ9..c2ln",
                            "attempts": 1, "body": {"outcome": "accepted"}},
        "losses": [], "warnings": [], "warnings_total": 0,
        "received_at": "2024-06-03T10:00:00.120Z", "delivered_at": "2024-06-03T10:00:00.180Z",
        "answered_at": "2024-06-03T10:00:00.240Z", "request_sha256_b64": "nytcDqVQ6wqbnSC5qk0yP6OcJU3mW5aNQ6sM8Y2yA1k",
    }


def problem_example(status: int, code: str, detail: str) -> dict[str, Any]:
    return {"type": "https://carbonlink.dev/problems/" + code.lower().replace(".", "/"), "title": "Error",
            "status": status, "detail": detail, "code": code}
