"""Pure ASGI middleware: maintenance mode (503) and the request body size limit (413)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import Request

from gateway.errors import error_response
from gateway.settings import Settings
from gateway.trust.errors import ServiceUnavailable
from standards.errors import CarbonlinkError, InputTooLarge, MalformedInput

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def _refuse(scope: Scope, receive: Receive, send: Send, exc: CarbonlinkError) -> None:
    """Answer with the same rendering as the exception handlers (:mod:`gateway.errors`)."""
    response = error_response(exc, Request(scope))
    await response(scope, receive, send)


class GuardMiddleware:
    """503 in maintenance (``settings.maintenance`` or the maintenance file exists);
    413 for bodies over ``settings.max_body_bytes`` (declared or streamed)."""

    def __init__(self, app: ASGIApp, settings: Settings, path_limits: dict[str, int] | None = None) -> None:
        self.app = app
        self.settings = settings
        self.path_limits = path_limits or {}

    def limit_for(self, path: str) -> int:
        """The body limit of a path: the first matching prefix in ``path_limits``, else the default."""
        for prefix, limit in self.path_limits.items():
            if path.startswith(prefix):
                return limit
        return self.settings.max_body_bytes

    def in_maintenance(self) -> bool:
        s = self.settings
        return s.maintenance or (s.maintenance_file is not None and s.maintenance_file.exists())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.in_maintenance():
            await _refuse(scope, receive, send, ServiceUnavailable("the gateway is in maintenance mode"))
            return
        limit = self.limit_for(str(scope.get("path", "")))
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _refuse(scope, receive, send, MalformedInput("Content-Length is not a number"))
                    return
                if declared > limit:
                    await _refuse(
                        scope, receive, send, InputTooLarge(f"the body is larger than {limit} bytes")
                    )
                    return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise InputTooLarge(f"the body is larger than {limit} bytes")
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except InputTooLarge:
            if not started:
                await _refuse(scope, receive, send, InputTooLarge(f"the body is larger than {limit} bytes"))
