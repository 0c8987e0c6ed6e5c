"""The relay's routes served as plain ASGI, ahead of FastAPI's routing.

``POST /v1/transfers`` and ``POST /v1/messages/{kind}`` are the gateway's hot path: every relayed message
comes through them. :class:`RelayEndpoint` sits inside the app's own middleware (maintenance, body size limit,
translation options) and answers these two routes itself, so a message does not walk FastAPI's route table,
its dependency solver, its exception middleware and its exit stack. It runs the route's own functions in the
route's order - :func:`gateway.api.routes.transfers.relay_context` (client certificate, access token and
its DPoP or certificate binding, the directory, the service, the limiter), then
:func:`~gateway.api.routes.transfers.relay_answer` (scope, conformance certificate, rate limit, Content-Type,
body, submit, receipt) - and renders a domain error as the app's exception handler does
(:func:`gateway.errors.domain_error_response`). Anything else reaches FastAPI unchanged: other paths and
methods, a path under a root path, a ``kind`` that is not a message kind and a request without
``Carbonlink-Message-Id`` (FastAPI authenticates the caller first and then answers 400 ``HTTP.INVALID_REQUEST``
as before, so those answers stay exactly FastAPI's). The FastAPI routes stay registered: they document the API (OpenAPI)
and serve the requests passed on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import Request

from gateway.api.routes.transfers import relay_answer, relay_context
from gateway.errors import domain_error_response
from gateway.protocol import MessageKind
from standards.errors import CarbonlinkError

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The paths this endpoint answers and the message kind of each (the FastAPI routes' paths, ``{kind}`` spelled
#: out with every :class:`MessageKind` value, as FastAPI's path parameter accepts them).
RELAY_PATHS: dict[str, MessageKind] = {
    "/v1/transfers": MessageKind.TRANSFERS,
    **{f"/v1/messages/{kind.value}": kind for kind in MessageKind},
}


class RelayEndpoint:
    """Pure ASGI: the relay routes answered directly, every other request passed to ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = RELAY_PATHS.get(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        if kind is None or scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        request: Request = Request(scope, receive)
        headers = request.headers
        message_id = headers.get("carbonlink-message-id")
        if message_id is None:
            await self.app(scope, receive, send)
            return
        try:
            relay = await relay_context(request)
            response = await relay_answer(kind, request, relay, message_id, headers.get("carbonlink-receiver"))
        except CarbonlinkError as exc:
            response = domain_error_response(exc, request)
        await response(scope, receive, send)
