"""Running the gateway under uvicorn, optionally terminating TLS with client certificates.

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

from gateway.settings import Settings

_App = Callable[[MutableMapping[str, Any], Any, Any], Awaitable[None]]


class TlsClientCertProtocol(H11Protocol):
    """h11 protocol that exposes the verified client certificate to the app."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        if not der:
            return
        pem = ssl.DER_cert_to_PEM_cert(der)
        inner: _App = self.app

        async def app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
            if scope.get("type") == "http":
                scope.setdefault("extensions", {})["tls"] = {"client_cert_chain": [pem]}
            await inner(scope, receive, send)

        self.app = app


def uvicorn_config(app: Any, settings: Settings, *, log_level: str = "info") -> uvicorn.Config:
    """A uvicorn config for ``app``; with TLS settings it asks for (optional) client certificates."""
    kwargs: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": log_level,
        "lifespan": "on",
        "proxy_headers": False,
        "server_header": False,
    }
    if settings.tls_certfile is not None:
        kwargs.update(
            ssl_certfile=str(settings.tls_certfile),
            ssl_keyfile=str(settings.tls_keyfile) if settings.tls_keyfile else None,
            http=TlsClientCertProtocol,
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
