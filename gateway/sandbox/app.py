"""The sandbox registry's HTTP face: ``create_app(sandbox) -> FastAPI`` and :func:`serve`.

Routes (every answer body is signed, see docs/sandbox.md):

* ``POST <messages path>`` (default ``/messages``): a message from the gateway;
* ``GET /holdings``: the units held (operator token or gateway token);
* ``POST /outgoing``, ``POST /outgoing/{message_id}/confirm|release``, ``GET /journal``, ``GET /notices``:
  operator;
* ``GET /.well-known/jwks.json``: the sandbox's public signing key; ``GET /health``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.sandbox.errors import BodyTooLarge, SandboxError
from gateway.sandbox.service import Answer, Sandbox

log = logging.getLogger("carbonlink.sandbox")


def _send(answer: Answer) -> Response:
    return Response(answer.body, status_code=answer.status, headers=answer.headers, media_type=answer.media_type)


def _headers(request: Request) -> dict[str, str]:
    return {k.lower(): v for k, v in request.headers.items()}


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
    return b"".join(chunks)


def create_app(sandbox: Sandbox) -> FastAPI:
    """The FastAPI app of one sandbox registry."""
    config = sandbox.config
    app = FastAPI(title=f"carbonlink sandbox registry {config.registry_id}", version="0.1.0",
                  description=f"A sandbox registry speaking {config.format} ({sandbox.medium.value}).")
    app.state.sandbox = sandbox
    limit = config.max_body_bytes

    async def read(request: Request) -> bytes | Response:
        try:
            return await _body(request, limit)
        except BodyTooLarge as exc:
            return _send(sandbox.problem(exc, None))

    @app.post(config.messages_path, summary="A message from the gateway, in this registry's format")
    async def messages(request: Request) -> Response:
        body = await read(request)
        if isinstance(body, Response):
            return body
        return _send(await run_in_threadpool(sandbox.receive, body, _headers(request)))

    @app.get("/holdings", summary="Units held here (operator or gateway token)")
    async def holdings(request: Request) -> Response:
        return _send(await run_in_threadpool(sandbox.holdings, _headers(request)))

    @app.post("/outgoing", summary="Operator: send units out (pending debit until settled)")
    async def outgoing(request: Request) -> Response:
        body = await read(request)
        if isinstance(body, Response):
            return body
        return _send(await run_in_threadpool(sandbox.reserve, body, _headers(request)))

    @app.post("/outgoing/{message_id}/confirm", summary="Operator: the receiver accepted; debit for good")
    async def confirm(message_id: str, request: Request) -> Response:
        body = await read(request)
        if isinstance(body, Response):
            return body
        return _send(await run_in_threadpool(sandbox.settle, message_id, body, _headers(request), confirm=True))

    @app.post("/outgoing/{message_id}/release", summary="Operator: the receiver refused; units back to held")
    async def release(message_id: str, request: Request) -> Response:
        body = await read(request)
        if isinstance(body, Response):
            return body
        return _send(await run_in_threadpool(sandbox.settle, message_id, body, _headers(request), confirm=False))

    @app.get("/journal", summary="Operator: every applied action, seed and settlement")
    async def journal(request: Request) -> Response:
        return _send(await run_in_threadpool(sandbox.journal, _headers(request)))

    @app.get("/notices", summary="Operator: every notice (acceptance, rejection, completion, termination) received")
    async def notices(request: Request) -> Response:
        return _send(await run_in_threadpool(sandbox.notices, _headers(request)))

    @app.get("/.well-known/jwks.json", summary="The sandbox's public signing key")
    def jwks() -> JSONResponse:
        return JSONResponse(sandbox.jwks(), headers={"Cache-Control": "public, max-age=60"})

    @app.get("/health", summary="Liveness")
    def health() -> dict[str, Any]:
        return {"status": "ok", "registry": config.registry_id, "format": config.format,
                "medium": sandbox.medium.value, "messages_path": config.messages_path}

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        names = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
        failure = SandboxError(f"{request.method} {request.url.path}: {exc.detail}",
                               code=f"SANDBOX.{names.get(exc.status_code, f'HTTP_{exc.status_code}')}")
        failure.status = exc.status_code
        return _send(sandbox.problem(failure, None))

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> Response:
        log.exception("sandbox: unexpected error on %s %s", request.method, request.url.path)
        failure = SandboxError("the sandbox failed unexpectedly", code="SANDBOX.INTERNAL")
        failure.status = 500
        return _send(sandbox.problem(failure, None))

    return app


def serve(sandbox: Sandbox, *, log_level: str = "warning") -> None:
    """Run the sandbox with uvicorn on its configured host and port (blocks)."""
    import uvicorn

    uvicorn.run(create_app(sandbox), host=sandbox.config.host, port=sandbox.config.port, log_level=log_level)
