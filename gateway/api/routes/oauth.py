"""``POST /oauth/token``: client credentials grant, sender-constrained tokens only."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gateway.api.deps import ClientCertDep, TrustDep
from gateway.trust.client_auth import cert_thumbprint, form_scope
from gateway.trust.errors import InvalidRequest, UnsupportedGrantType
from standards.errors import MalformedInput

router = APIRouter(tags=["oauth"])

MAX_FORM_FIELDS = 16


def parse_form(body: bytes, content_type: str | None) -> dict[str, str]:
    """Strict ``application/x-www-form-urlencoded`` parsing; repeated parameters are refused."""
    if (content_type or "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        raise InvalidRequest(
            "the token request must be application/x-www-form-urlencoded", code="OAUTH.CONTENT_TYPE"
        )
    try:
        pairs = parse_qsl(
            body.decode("ascii"),
            keep_blank_values=True,
            strict_parsing=bool(body),
            max_num_fields=MAX_FORM_FIELDS,
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedInput(
            "the token request body is not a valid form", code="OAUTH.MALFORMED_BODY"
        ) from exc
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise InvalidRequest(
                f"parameter {name!r} appears more than once", code="OAUTH.DUPLICATE_PARAMETER"
            )
        form[name] = value
    return form


_TOKEN_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {
        "description": "OAuth error (invalid_request, unsupported_grant_type, invalid_scope, "
        "invalid_dpop_proof, use_dpop_nonce)"
    },
    401: {"description": "OAuth error invalid_client"},
    413: {"description": "body too large"},
}


@router.post(
    "/oauth/token",
    responses=_TOKEN_RESPONSES,
    summary="Client credentials grant (private_key_jwt or tls_client_auth; DPoP or mTLS binding)",
)
async def token(request: Request, trust: TrustDep, cert: ClientCertDep) -> JSONResponse:
    form = parse_form(await request.body(), request.headers.get("content-type"))
    if "grant_type" not in form:
        raise InvalidRequest("grant_type is required", code="OAUTH.GRANT_TYPE_MISSING")
    if form.get("grant_type") != "client_credentials":
        raise UnsupportedGrantType("only grant_type=client_credentials is supported")
    proofs = request.headers.getlist("dpop")
    jkt = None
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if proofs:
        jkt = trust.dpop.verify(proofs, method="POST", url=trust.settings.issuer + "/oauth/token")
    client = trust.clients.authenticate(form, cert)
    scopes = form_scope(form, client.participant)
    if jkt is not None:
        access = trust.tokens.issue(client.participant, scopes, jkt=jkt)
        token_type = "DPoP"
        if trust.settings.dpop_nonce_required:
            headers["DPoP-Nonce"] = trust.dpop.nonces.issue()
    elif cert is not None:
        access = trust.tokens.issue(client.participant, scopes, x5t=cert_thumbprint(cert))
        token_type = "Bearer"
    else:
        raise InvalidRequest(
            "tokens are sender-constrained: send a DPoP proof or use a TLS client certificate",
            code="OAUTH.BINDING_REQUIRED",
        )
    body = {
        "access_token": access,
        "token_type": token_type,
        "expires_in": trust.tokens.ttl,
        "scope": " ".join(scopes),
    }
    return JSONResponse(body, headers=headers)
