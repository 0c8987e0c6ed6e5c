"""The one place where domain errors become HTTP answers.

* ``/oauth/*``: RFC 6749 §5.2 error bodies (``error``, ``error_description``) plus our ``code``;
  DPoP refusals there are 400 ``invalid_dpop_proof`` / ``use_dpop_nonce`` with a ``DPoP-Nonce``
  header (RFC 9449 §8).
* everything else: RFC 9457 ``application/problem+json`` with ``code`` (and ``error`` when an
  OAuth error name fits); 401s carry ``WWW-Authenticate: DPoP ...`` (RFC 6750 §3, RFC 9449 §7.1).

No traceback ever reaches a client: unexpected exceptions become a bare 500 problem.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.evidence.errors import EvidenceError
from gateway.idempotency.store import ClaimInProgress, IdempotencyConflict, IdempotencyStoreUnavailable
from gateway.transfers.errors import OutputInvalid, TransferError
from gateway.trust.errors import (
    ConfigurationError,
    DirectoryError,
    InsufficientScope,
    InvalidClient,
    InvalidDPoPProof,
    InvalidRequest,
    InvalidScope,
    InvalidToken,
    ParticipantUnknown,
    PeerError,
    ReplayStoreUnavailable,
    ServiceUnavailable,
    TrustError,
    UnsupportedGrantType,
    UseDPoPNonce,
)
from gateway.trust.jose import ALLOWED_ALGORITHMS
from standards.errors import CarbonlinkError, InputError, InputTooLarge, ValidationFailed

log = logging.getLogger("carbonlink.gateway")

PROBLEM_TYPE = "https://carbonlink.dev/problems/"
_DPOP_ALGS = " ".join(ALLOWED_ALGORITHMS)


def _oauth_name(exc: CarbonlinkError, *, at_token_endpoint: bool) -> str | None:
    if isinstance(exc, TrustError) and exc.oauth_error:
        return exc.oauth_error
    if isinstance(exc, DirectoryError | ParticipantUnknown):
        return "invalid_client" if at_token_endpoint else "invalid_token"
    if isinstance(exc, InputError):
        return "invalid_request"
    return None


def status_for(exc: CarbonlinkError, *, at_token_endpoint: bool) -> int:
    """HTTP status of a domain error (token endpoint and resource endpoints differ for DPoP)."""
    if isinstance(exc, InputTooLarge):
        return 413
    if isinstance(exc, TransferError):
        return exc.http_status
    if isinstance(exc, ValidationFailed):
        return 422
    if isinstance(exc, IdempotencyConflict | ClaimInProgress):
        return 409
    if isinstance(exc, IdempotencyStoreUnavailable | EvidenceError):
        return 503
    if isinstance(exc, InvalidDPoPProof):
        return 400 if at_token_endpoint else 401
    if isinstance(exc, InvalidClient | InvalidToken | DirectoryError | ParticipantUnknown):
        return 401
    if isinstance(exc, InsufficientScope):
        return 403
    if isinstance(exc, InvalidRequest | UnsupportedGrantType | InvalidScope | InputError):
        return 400
    if isinstance(exc, ServiceUnavailable | ReplayStoreUnavailable):
        return 503
    if isinstance(exc, PeerError):
        return 502
    if isinstance(exc, ConfigurationError):
        return 500
    return 400


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', "'")


def error_response(exc: CarbonlinkError, request: Request) -> JSONResponse:
    """Render ``exc`` for ``request`` (OAuth body on /oauth, problem+json elsewhere)."""
    at_token = request.url.path.startswith("/oauth/")
    status = status_for(exc, at_token_endpoint=at_token)
    oauth = _oauth_name(exc, at_token_endpoint=at_token)
    headers: dict[str, str] = {"Cache-Control": "no-store"}
    if isinstance(exc, UseDPoPNonce):
        headers["DPoP-Nonce"] = exc.nonce
    if status == 401 and not at_token:
        params = f'algs="{_DPOP_ALGS}"'
        if oauth and exc.code != "TOKEN.MISSING":
            params = f'error="{oauth}", error_description="{_quote(exc.message)}", ' + params
        headers["WWW-Authenticate"] = f"DPoP {params}"
    if isinstance(exc, ServiceUnavailable):
        headers["Retry-After"] = "30"
    retry_after = getattr(exc, "retry_after", None)
    if isinstance(retry_after, int | float) and retry_after > 0:
        headers["Retry-After"] = str(int(retry_after))
    if at_token:
        body: dict[str, Any] = {
            "error": oauth or "invalid_request",
            "error_description": exc.message,
            "code": exc.code,
        }
        return JSONResponse(body, status_code=status, headers=headers)
    problem: dict[str, Any] = {
        "type": PROBLEM_TYPE + exc.code.lower().replace(".", "/"),
        "title": type(exc).__name__,
        "status": status,
        "detail": exc.message,
        "code": exc.code,
    }
    if oauth:
        problem["error"] = oauth
    findings = getattr(exc, "findings", None)
    if isinstance(exc, ValidationFailed | OutputInvalid) and findings is not None:
        problem["errors"] = [f.as_dict() for f in findings]
    return JSONResponse(problem, status_code=status, headers=headers, media_type="application/problem+json")


def problem(
    status: int, code: str, detail: str, *, title: str = "Error", headers: dict[str, str] | None = None
) -> JSONResponse:
    """A bare RFC 9457 problem (used where there is no domain error, e.g. 404)."""
    body = {
        "type": PROBLEM_TYPE + code.lower().replace(".", "/"),
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type="application/problem+json")


def install(app: FastAPI) -> None:
    """Register the exception handlers on ``app``."""

    async def domain(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, CarbonlinkError)
        if isinstance(exc, ConfigurationError | ReplayStoreUnavailable):
            log.error("%s %s: %s", request.method, request.url.path, exc)
        return error_response(exc, request)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "HTTP.NOT_FOUND", 405: "HTTP.METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP.ERROR")
        return problem(
            exc.status_code, code, str(exc.detail), title="HTTP error", headers=dict(exc.headers or {})
        )

    async def invalid(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = "/".join(str(p) for p in first.get("loc", ()))
        return error_response(
            InvalidRequest(f"{where}: {first.get('msg')}", code="HTTP.INVALID_REQUEST"), request
        )

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(
            500,
            "SERVER.ERROR",
            "the gateway failed to answer; the incident is logged",
            title="Internal error",
        )

    app.add_exception_handler(CarbonlinkError, domain)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(Exception, unexpected)
