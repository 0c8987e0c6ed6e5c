"""The sandbox registry's HTTP face: ``create_app(sandbox) -> FastAPI`` and :func:`serve`.

Routes (every answer body is signed, see docs/sandbox.md):

* ``POST <messages path>`` (default ``/messages``): a message from the gateway;
* ``GET /holdings``: the units held (operator token or gateway token);
* ``GET /read/{kind}``: the read side, paged (operator token or gateway token; :mod:`gateway.sandbox.listing`);
* ``POST /outgoing``, ``POST /outgoing/{message_id}/confirm|release``, ``GET /journal``, ``GET /notices``:
  operator;
* ``GET /.well-known/jwks.json``: the sandbox's public signing key; ``GET /health``.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway import errors
from gateway.sandbox.auth import TLS_CLIENT_X5T
from gateway.sandbox.errors import BodyTooLarge, GatewayAuthError, SandboxError
from gateway.sandbox.service import Answer, Sandbox, dumps_sorted
from gateway.trust.client_auth import cert_thumbprint
from standards.errors import CarbonlinkError

log = logging.getLogger("carbonlink.sandbox")

PROBLEM_TYPE = "https://carbonlink.dev/problems/sandbox/"
#: Where a route keeps the request body it read, so an error answer can be signed over it.
REQUEST_BODY = "carbonlink.sandbox.request_body"

#: A sandbox handler run in a worker thread: (request body, lower-cased headers) -> signed answer.
Handler = Callable[[bytes, dict[str, str]], Answer]


class SandboxProblems(errors.ProblemWriter):
    """The sandbox's problem answers: signed like every answer, with the registry id, typed under
    ``/problems/sandbox/`` and challenging with ``Bearer`` (RFC 6750 §3) when the gateway's token is refused."""

    problem_type = PROBLEM_TYPE
    cache_control = None
    names_oauth_errors = False

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def type_uri(self, code: str) -> str:
        return self.problem_type + code.lower().replace("sandbox.", "").replace("_", "-")

    def challenge(self, exc: CarbonlinkError, status: int, oauth: str | None) -> str | None:
        if isinstance(exc, GatewayAuthError):
            return f'Bearer error="invalid_token", error_description="{exc.code}"'
        return None

    def document(self, status: int, code: str, detail: str, title: str) -> dict[str, Any]:
        return {**super().document(status, code, detail, title), "registry": self.sandbox.config.registry_id}

    def respond(self, request: Request | None, problem: dict[str, Any], status: int,
                headers: dict[str, str] | None = None) -> Response:
        request_body = request.scope.get(REQUEST_BODY) if request is not None else None
        return _send(self.sandbox.signed(status, dumps_sorted(problem), request_body,
                                         media_type="application/problem+json", extra=headers or None))

    def http_error(self, request: Request, exc: StarletteHTTPException) -> Response:
        names = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
        code = f"SANDBOX.{names.get(exc.status_code, f'HTTP_{exc.status_code}')}"
        detail = f"{request.method} {request.url.path}: {exc.detail}"
        return self.respond(request, self.document(exc.status_code, code, detail, SandboxError.__name__),
                            exc.status_code)

    def unexpected(self, request: Request) -> Response:
        return self.respond(request, self.document(500, "SANDBOX.INTERNAL", "the sandbox failed unexpectedly",
                                                   SandboxError.__name__), 500)


def _send(answer: Answer) -> Response:
    return Response(answer.body, status_code=answer.status, headers=answer.headers, media_type=answer.media_type)


def _headers(request: Request) -> dict[str, str]:
    """The request's headers (lower-cased names) and, over TLS with a verified client certificate, its
    ``x5t#S256`` under :data:`TLS_CLIENT_X5T` (from the ASGI TLS extension ``gateway.server`` fills in)."""
    headers = {k.lower(): v for k, v in request.headers.items()}
    headers.pop(TLS_CLIENT_X5T, None)
    chain = ((request.scope.get("extensions") or {}).get("tls") or {}).get("client_cert_chain") or []
    if chain:
        headers[TLS_CLIENT_X5T] = cert_thumbprint(ssl.PEM_cert_to_DER_cert(str(chain[0])))
    return headers


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"the body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"the body is larger than {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    request.scope[REQUEST_BODY] = body
    return body


def _posting(handler: Handler, limit: int) -> Callable[[Request], Awaitable[Response]]:
    """A route that reads the (capped) body and runs ``handler`` on it in a worker thread."""

    async def route(request: Request) -> Response:
        body = await _body(request, limit)
        return _send(await run_in_threadpool(handler, body, _headers(request)))

    return route


def _reading(handler: Callable[[dict[str, str]], Answer]) -> Callable[[Request], Awaitable[Response]]:
    """A route without a body that runs ``handler`` in a worker thread."""

    async def route(request: Request) -> Response:
        return _send(await run_in_threadpool(handler, _headers(request)))

    return route


def _settling(sandbox: Sandbox, limit: int, *, confirm: bool) -> Callable[..., Awaitable[Response]]:
    async def route(message_id: str, request: Request) -> Response:
        body = await _body(request, limit)
        return _send(await run_in_threadpool(sandbox.settle, message_id, body, _headers(request), confirm=confirm))

    return route


def create_app(sandbox: Sandbox) -> FastAPI:
    """The FastAPI app of one sandbox registry."""
    config = sandbox.config
    app = FastAPI(title=f"carbonlink sandbox registry {config.registry_id}", version="0.1.0",
                  description=f"A sandbox registry speaking {config.format} ({sandbox.medium.value}).")
    app.state.sandbox = sandbox
    limit = config.max_body_bytes
    errors.install(app, SandboxProblems(sandbox))
    app.add_api_route(config.messages_path, _posting(sandbox.receive, limit), methods=["POST"],
                      summary="A message from the gateway, in this registry's format")
    app.add_api_route("/holdings", _reading(sandbox.holdings), methods=["GET"],
                      summary="Units held here (operator or gateway token)")
    async def read(kind: str, request: Request) -> Response:
        return _send(await run_in_threadpool(sandbox.read, kind, dict(request.query_params), _headers(request)))

    app.add_api_route("/read/{kind}", read, methods=["GET"],
                      summary="The read side: one page of projects, units, issuances or actions (gateway token)")
    app.add_api_route("/outgoing", _posting(sandbox.reserve, limit), methods=["POST"],
                      summary="Operator: send units out (pending debit until settled)")
    app.add_api_route("/outgoing/{message_id}/confirm", _settling(sandbox, limit, confirm=True), methods=["POST"],
                      summary="Operator: the receiver accepted; debit for good")
    app.add_api_route("/outgoing/{message_id}/release", _settling(sandbox, limit, confirm=False), methods=["POST"],
                      summary="Operator: the receiver refused; units back to held")
    app.add_api_route("/journal", _reading(sandbox.journal), methods=["GET"],
                      summary="Operator: every applied action, seed and settlement")
    app.add_api_route("/notices", _reading(sandbox.notices), methods=["GET"],
                      summary="Operator: every notice (acceptance, rejection, completion, termination) received")

    @app.get("/.well-known/jwks.json", summary="The sandbox's public signing key")
    def jwks() -> JSONResponse:
        return JSONResponse(sandbox.jwks(), headers={"Cache-Control": "public, max-age=60"})

    @app.get("/health", summary="Liveness")
    def health() -> dict[str, Any]:
        return {"status": "ok", "registry": config.registry_id, "format": config.format,
                "medium": sandbox.medium.value, "messages_path": config.messages_path}

    return app


def uvicorn_options(sandbox: Sandbox) -> dict[str, Any]:
    """uvicorn options for TLS: the server certificate, and client certificates verified against
    ``tls_client_ca`` (optional for the client) handed to the app (RFC 8705 certificate-bound tokens)."""
    config = sandbox.config
    if config.tls_certfile is None:
        return {}
    from gateway.server import TlsClientCertProtocol

    options: dict[str, Any] = {"ssl_certfile": str(config.tls_certfile), "http": TlsClientCertProtocol,
                               "ssl_keyfile": str(config.tls_keyfile) if config.tls_keyfile else None}
    if config.tls_client_ca is not None:
        options.update(ssl_ca_certs=str(config.tls_client_ca), ssl_cert_reqs=ssl.CERT_OPTIONAL)
    return options


def serve(sandbox: Sandbox, *, log_level: str = "warning") -> None:
    """Run the sandbox with uvicorn on its configured host and port (blocks)."""
    import uvicorn

    uvicorn.run(create_app(sandbox), host=sandbox.config.host, port=sandbox.config.port, log_level=log_level,
                **uvicorn_options(sandbox))
