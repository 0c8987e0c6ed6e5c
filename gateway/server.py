"""Running the gateway under uvicorn, optionally terminating TLS with client certificates.

uvicorn runs on uvloop (a dependency of the gateway outside Windows; uvicorn's ``loop="auto"`` takes it when it
is installed, else asyncio's own loop): the event loop's work and the relay's thread hand-over cost less CPU
per transfer on it (docs/benchmarks-transfers.md).

uvicorn does not hand the peer certificate to the application, so when TLS terminates here a
small protocol subclass adds the ASGI TLS extension (``scope["extensions"]["tls"]
["client_cert_chain"]``, PEM) for each connection. The certificate has been verified by the TLS
handshake against ``CARBONLINK_TLS_CLIENT_CA``; a client cannot inject it.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway.settings import Settings

_App = Callable[[MutableMapping[str, Any], Any, Any], Awaitable[None]]


def _expose_client_cert(protocol: H11Protocol | HttpToolsProtocol, transport: asyncio.Transport) -> None:
    """Wrap the connection's app so each request's scope carries the TLS client certificate."""
    ssl_object = transport.get_extra_info("ssl_object")
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    if not der:
        return
    pem = ssl.DER_cert_to_PEM_cert(der)
    inner: _App = protocol.app

    async def app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") == "http":
            scope.setdefault("extensions", {})["tls"] = {"client_cert_chain": [pem]}
        await inner(scope, receive, send)

    protocol.app = app


class TlsClientCertProtocol(H11Protocol):
    """h11 protocol that exposes the verified client certificate to the app."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        _expose_client_cert(self, transport)


#: The largest request line plus headers accepted, as uvicorn's h11 protocol bounds them by default.
MAX_REQUEST_HEAD_BYTES = 16 * 1024


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """httptools (llhttp) with the request head bounded as h11 bounds it.

    llhttp itself takes header values of any length and httptools collects them in memory, so a
    client could send megabytes of header; here a head that has not ended within
    :data:`MAX_REQUEST_HEAD_BYTES` (plus one read) is answered 400 and the connection closed.
    """

    _awaiting_head = True
    _head_bytes = 0
    _progress = False

    def data_received(self, data: bytes) -> None:
        self._progress = False
        super().data_received(data)
        if self._progress:
            self._head_bytes = 0
        elif self._awaiting_head and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > MAX_REQUEST_HEAD_BYTES:
                self.send_400_response("Request head too large.")

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._awaiting_head, self._progress = False, True

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._awaiting_head, self._progress = True, True


class TlsClientCertHttpToolsProtocol(BoundedHttpToolsProtocol):
    """httptools protocol that exposes the verified client certificate to the app."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        _expose_client_cert(self, transport)


PROTOCOLS: dict[str, tuple[type[H11Protocol] | type[HttpToolsProtocol], type[Any]]] = {
    "h11": (H11Protocol, TlsClientCertProtocol),
    "httptools": (BoundedHttpToolsProtocol, TlsClientCertHttpToolsProtocol),
}


def uvicorn_config(app: Any, settings: Settings, *, log_level: str = "info") -> uvicorn.Config:
    """A uvicorn config for ``app``; with TLS settings it asks for (optional) client certificates."""
    plain, with_client_cert = PROTOCOLS[settings.http_parser]
    kwargs: dict[str, Any] = {
        "http": plain,
        "host": settings.host,
        "port": settings.port,
        "log_level": log_level,
        "lifespan": "on",
        "proxy_headers": False,
        "server_header": False,
        "access_log": settings.access_log,
    }
    if settings.tls_certfile is not None:
        kwargs.update(
            ssl_certfile=str(settings.tls_certfile),
            ssl_keyfile=str(settings.tls_keyfile) if settings.tls_keyfile else None,
            http=with_client_cert,
        )
        if settings.tls_client_ca is not None:
            kwargs.update(ssl_ca_certs=str(settings.tls_client_ca), ssl_cert_reqs=ssl.CERT_OPTIONAL)
    return uvicorn.Config(app, **kwargs)


def serve(settings: Settings, *, log_level: str = "info") -> None:
    """Build the app from ``settings`` and serve it until interrupted."""
    from gateway import logs
    from gateway.main import create_app

    logs.configure(log_level)
    uvicorn.Server(uvicorn_config(create_app(settings), settings, log_level=log_level)).run()
