"""The one place where domain errors become HTTP answers.

Domain errors carry a ``code``, a message and, when they have them, ``findings`` and
``retry_after`` (:class:`standards.errors.CarbonlinkError`); they carry no HTTP status. The
:data:`STATUS_TABLE` below maps each error class onto its HTTP status and OAuth error name; an
error's entry is that of the first class of its MRO listed in the table (as starlette looks up
exception handlers), so a subclass inherits its parent's answer unless it is listed itself.

* ``/oauth/*``: RFC 6749 §5.2 error bodies (``error``, ``error_description``) plus our ``code``;
  DPoP refusals there are 400 ``invalid_dpop_proof`` / ``use_dpop_nonce`` with a ``DPoP-Nonce``
  header (RFC 9449 §8).
* everything else: RFC 9457 ``application/problem+json`` with ``code`` (and ``error`` when an
  OAuth error name fits, ``errors[]`` when the error carries findings); 401s carry
  ``WWW-Authenticate: DPoP ...`` (RFC 6750 §3, RFC 9449 §7.1).

Header values are built from codes and fixed text only, never from the request: the challenge's
``error_description`` is the error's code (the message, which may quote attacker text such as a
``kid`` or a path, goes into the JSON body only), so no header can fail to encode or carry a NUL.

The sandbox registry installs the same handlers with its own :class:`ProblemWriter` (signed
answers, its own problem type URIs): :mod:`gateway.sandbox.app`.

No traceback ever reaches a client: unexpected exceptions become a bare 500 problem.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from gateway._status_table import STATUS_TABLE, HttpAnswer
from gateway.trust.errors import ConfigurationError, InvalidRequest, ReplayStoreUnavailable, UseDPoPNonce
from gateway.trust.jose import ALLOWED_ALGORITHMS
from standards.errors import CarbonlinkError

__all__ = ["PROBLEM_TYPE", "STATUS_TABLE", "HttpAnswer", "ProblemWriter", "answer_for", "domain_error_response",
           "error_response", "install", "problem", "status_for"]

log = logging.getLogger("carbonlink.gateway")

PROBLEM_TYPE = "https://carbonlink.dev/problems/"
_DPOP_ALGS = " ".join(ALLOWED_ALGORITHMS)


def answer_for(exc: CarbonlinkError) -> HttpAnswer:
    """The table entry of ``exc``: that of the first class of its MRO in :data:`STATUS_TABLE`."""
    for cls in type(exc).__mro__:
        answer = STATUS_TABLE.get(cls)
        if answer is not None:
            return answer
    return STATUS_TABLE[CarbonlinkError]


def status_for(exc: CarbonlinkError, *, at_token_endpoint: bool = False) -> int:
    """HTTP status of a domain error (token endpoint and resource endpoints differ for DPoP)."""
    return answer_for(exc).status_at(at_token_endpoint)


#: What may go into a header value built here: codes and fixed text only (RFC 6750 §3 limits
#: ``error_description`` to printable ASCII without ``"`` and ``\\``).
_HEADER_SAFE = re.compile(r"[A-Za-z0-9._-]{1,64}")


def _header_code(code: str) -> str:
    """``code`` when it is a plain code, else a fixed placeholder (a header never carries request text)."""
    return code if _HEADER_SAFE.fullmatch(code) else "ERROR"


@dataclass(frozen=True)
class Rendered:
    """A domain error resolved for one request: status, OAuth name, headers and problem document."""

    status: int
    oauth: str | None
    headers: dict[str, str]
    problem: dict[str, Any]


class ProblemWriter:
    """How an app writes its error answers. This one is the gateway's; the sandbox registry's
    subclass signs its answers and names its own problem types."""

    problem_type = PROBLEM_TYPE
    cache_control: str | None = "no-store"
    #: Whether problems name the OAuth error (``error``) of the status table.
    names_oauth_errors = True

    def type_uri(self, code: str) -> str:
        return self.problem_type + code.lower().replace(".", "/")

    def challenge(self, exc: CarbonlinkError, status: int, oauth: str | None) -> str | None:
        """The ``WWW-Authenticate`` header of a refusal (401 on a resource endpoint)."""
        if status != 401:
            return None
        params = f'algs="{_DPOP_ALGS}"'
        if oauth and exc.code != "TOKEN.MISSING":
            params = f'error="{_header_code(oauth)}", error_description="{_header_code(exc.code)}", ' + params
        return f"DPoP {params}"

    def document(self, status: int, code: str, detail: str, title: str) -> dict[str, Any]:
        """The RFC 9457 members every problem has."""
        return {"type": self.type_uri(code), "title": title, "status": status, "detail": detail, "code": code}

    def respond(self, request: Request | None, problem: dict[str, Any], status: int,
                headers: dict[str, str] | None = None) -> Response:
        return JSONResponse(problem, status_code=status, headers=headers, media_type="application/problem+json")

    def render(self, exc: CarbonlinkError, *, at_token_endpoint: bool) -> Rendered:
        entry = answer_for(exc)
        status = entry.status_at(at_token_endpoint)
        oauth = entry.oauth_at(at_token_endpoint)
        headers: dict[str, str] = {"Cache-Control": self.cache_control} if self.cache_control else {}
        if isinstance(exc, UseDPoPNonce):
            headers["DPoP-Nonce"] = exc.nonce
        challenge = None if at_token_endpoint else self.challenge(exc, status, oauth)
        if challenge is not None:
            headers["WWW-Authenticate"] = challenge
        retry_after = exc.retry_after or entry.retry_after
        if retry_after is not None and retry_after > 0:
            headers["Retry-After"] = str(int(retry_after))
        problem = self.document(status, exc.code, exc.message, type(exc).__name__)
        if oauth and self.names_oauth_errors:
            problem["error"] = oauth
        if exc.findings is not None:
            problem["errors"] = [f.as_dict() for f in exc.findings]
        return Rendered(status, oauth, headers, problem)

    def http_error(self, request: Request, exc: StarletteHTTPException) -> Response:
        """404, 405 and the other errors starlette raises itself."""
        code = {404: "HTTP.NOT_FOUND", 405: "HTTP.METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP.ERROR")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # starlette names the first route's methods; the path may have several routes
            headers["Allow"] = ", ".join(_allowed_methods(request)) or headers.get("Allow", "")
        return self.respond(request, self.document(exc.status_code, code, str(exc.detail), "HTTP error"),
                            exc.status_code, headers)

    def unexpected(self, request: Request) -> Response:
        return self.respond(request, self.document(500, "SERVER.ERROR", "the gateway failed to answer; the "
                                                   "incident is logged", "Internal error"), 500)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app serves at the request's path (RFC 9110 section 15.5.6)."""
    routes = getattr(request.app, "routes", ())
    return [method for method in _METHODS
            if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)]


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


GATEWAY_PROBLEMS = ProblemWriter()


def error_response(exc: CarbonlinkError, request: Request, writer: ProblemWriter = GATEWAY_PROBLEMS) -> Response:
    """Render ``exc`` for ``request`` (OAuth body on /oauth, problem+json elsewhere)."""
    at_token = request.url.path.startswith("/oauth/")
    rendered = writer.render(exc, at_token_endpoint=at_token)
    if at_token:
        body: dict[str, Any] = {
            "error": rendered.oauth or "invalid_request",
            "error_description": exc.message,
            "code": exc.code,
        }
        return JSONResponse(body, status_code=rendered.status, headers=rendered.headers)
    return writer.respond(request, rendered.problem, rendered.status, rendered.headers)


def domain_error_response(exc: CarbonlinkError, request: Request, writer: ProblemWriter = GATEWAY_PROBLEMS
                          ) -> Response:
    """The answer to a domain error a route raised (the handler :func:`install` registers): the rendering of
    :func:`error_response`, and a log line when the gateway's own configuration or replay store failed."""
    if isinstance(exc, ConfigurationError | ReplayStoreUnavailable):
        log.error("%s %s: %s", request.method, request.url.path, exc)
    return error_response(exc, request, writer)


def problem(
    status: int, code: str, detail: str, *, title: str = "Error", headers: dict[str, str] | None = None
) -> Response:
    """A bare RFC 9457 problem of the gateway (used where there is no domain error)."""
    return GATEWAY_PROBLEMS.respond(None, GATEWAY_PROBLEMS.document(status, code, detail, title), status, headers)


def install(app: FastAPI, writer: ProblemWriter = GATEWAY_PROBLEMS) -> None:
    """Register the exception handlers on ``app`` (the gateway's, or the sandbox's with its writer)."""

    async def domain(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, CarbonlinkError)
        return domain_error_response(exc, request, writer)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return writer.http_error(request, exc)

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = "/".join(str(p) for p in first.get("loc", ()))
        return error_response(
            InvalidRequest(f"{where}: {first.get('msg')}", code="HTTP.INVALID_REQUEST"), request, writer
        )

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return writer.unexpected(request)

    app.add_exception_handler(CarbonlinkError, domain)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(Exception, unexpected)
