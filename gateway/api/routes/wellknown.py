"""RFC 8414 metadata and the gateway's JWKS."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from gateway.api.deps import TrustDep
from gateway.trust.errors import DirectoryError
from gateway.trust.jose import ALLOWED_ALGORITHMS

router = APIRouter(tags=["discovery"])


@router.get("/.well-known/oauth-authorization-server", summary="RFC 8414 authorization server metadata")
def metadata(trust: TrustDep) -> dict[str, Any]:
    issuer = trust.settings.issuer
    try:
        scopes = sorted({s for p in trust.directory.current().participants for s in p.scopes})
    except DirectoryError:
        scopes = []
    algs = list(ALLOWED_ALGORITHMS)
    return {
        "issuer": issuer,
        "token_endpoint": f"{issuer}/oauth/token",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "grant_types_supported": ["client_credentials"],
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": ["private_key_jwt", "tls_client_auth"],
        "token_endpoint_auth_signing_alg_values_supported": algs,
        "dpop_signing_alg_values_supported": algs,
        "tls_client_certificate_bound_access_tokens": True,
        "scopes_supported": scopes,
        "resource": trust.settings.resource_audience,
    }


@router.get("/.well-known/jwks.json", summary="The gateway's public signing keys (current, next, retiring)")
def jwks(trust: TrustDep) -> JSONResponse:
    return JSONResponse(trust.keyring.jwks(), headers={"Cache-Control": "public, max-age=60"})
