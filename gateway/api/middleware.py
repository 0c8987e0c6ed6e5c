"""Pure ASGI middleware: maintenance mode (503) and the request body size limit (413)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from gateway.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def _send_problem(send: Send, status: int, code: str, detail: str,
                        extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = orjson.dumps({"type": "https://carbonlink.dev/problems/" + code.lower().replace(".", "/"),
                         "title": "Refused", "status": status, "detail": detail, "code": code})
    headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode()),
               (b"cache-control", b"no-store"), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


class GuardMiddleware:
    """503 in maintenance (``settings.maintenance`` or the maintenance file exists);
    413 for bodies over ``settings.max_body_bytes`` (declared or streamed)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    def in_maintenance(self) -> bool:
        s = self.settings
        return s.maintenance or (s.maintenance_file is not None and s.maintenance_file.exists())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.in_maintenance():
            await _send_problem(send, 503, "SERVICE.MAINTENANCE", "the gateway is in maintenance mode",
                                [(b"retry-after", b"30")])
            return
        limit = self.settings.max_body_bytes
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _send_problem(send, 400, "INPUT.MALFORMED", "Content-Length is not a number")
                    return
                if declared > limit:
                    await _send_problem(send, 413, "INPUT.TOO_LARGE", f"the body is larger than {limit} bytes")
                    return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _send_problem(send, 413, "INPUT.TOO_LARGE", f"the body is larger than {limit} bytes")
