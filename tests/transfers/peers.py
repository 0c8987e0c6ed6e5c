"""Misbehaving registries for fault tests, served for real on loopback.

* :class:`FaultyRegistry`: ``/messages/5xx`` answers 503, ``/garbage`` 200 with a non-JSON body,
  ``/unsigned`` a well-formed verdict without signature, ``/slow`` answers after ``slow_seconds``;
* :class:`CuttingServer`: a raw TCP server that reads the request and closes the connection;
* :class:`FlakyProxy`: forwards to a real sandbox, but drops the first N answers (503 instead) after
  the sandbox has applied the message: the nasty case for exactly-once delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.processes import ThreadedServer


class _Served(ThreadedServer):
    def __init__(self, app: Any) -> None:
        super().__init__(app, log_level="error")

    def start(self) -> Any:
        self.start_serving(timeout=10)
        return self

    def stop(self) -> None:
        self.stop_serving(timeout=5)


class FaultyRegistry(_Served):
    def __init__(self, slow_seconds: float = 3.0) -> None:
        self.calls: dict[str, int] = {}

        async def messages(request: Request) -> Response:
            mode = request.path_params["mode"]
            self.calls[mode] = self.calls.get(mode, 0) + 1
            await request.body()
            if mode == "5xx":
                return JSONResponse({"error": "maintenance"}, status_code=503)
            if mode == "garbage":
                return Response(b"\x00\x01 not json at all", media_type="application/octet-stream")
            if mode == "unsigned":
                return JSONResponse({"verdict": "accepted", "message_id": "x"})
            if mode == "slow":
                await asyncio.sleep(slow_seconds)
                return JSONResponse({"verdict": "accepted"})
            return JSONResponse({"error": "unknown mode"}, status_code=404)

        super().__init__(Starlette(routes=[Route("/messages/{mode}", messages, methods=["POST"])]))


class FlakyProxy(_Served):
    """Forwards to ``target``; the first ``drop`` answers are replaced by a 503 after forwarding."""

    def __init__(self, target: str, drop: int = 1) -> None:
        self.target = target
        self.drop = drop
        self.forwarded = 0

        async def messages(request: Request) -> Response:
            body = await request.body()
            headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
            async with httpx.AsyncClient(timeout=10) as client:
                upstream = await client.post(self.target, content=body, headers=headers)
            self.forwarded += 1
            if self.drop > 0:
                self.drop -= 1
                return JSONResponse({"error": "proxy lost the answer"}, status_code=503)
            dropped = ("content-length", "transfer-encoding", "content-encoding")
            keep = {k: v for k, v in upstream.headers.items() if k.lower() not in dropped}
            return Response(upstream.content, status_code=upstream.status_code, headers=keep)

        super().__init__(Starlette(routes=[Route("/messages", messages, methods=["POST"])]))


class CuttingServer:
    """Accepts a connection, reads what comes, then closes it without answering."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])
        self.accepted = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.settimeout(1)
            with contextlib.suppress(OSError):
                conn.recv(65536)
            conn.close()

    def start(self) -> CuttingServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.sock.close()
