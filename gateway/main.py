"""The gateway application: ``create_app(settings) -> FastAPI``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from gateway import errors
from gateway.api.middleware import GuardMiddleware
from gateway.api.routes import health, oauth, peers, wellknown
from gateway.settings import Settings, get_settings
from gateway.trust.setup import Trust, build_trust

log = logging.getLogger("carbonlink.gateway")

API_VERSION = "0.1.0"


async def _refresh_loop(trust: Trust) -> None:
    interval = trust.settings.directory_refresh_seconds
    while True:
        await asyncio.sleep(interval)
        error = await asyncio.to_thread(trust.directory.refresh)
        if error is not None:
            log.warning(
                "directory refresh refused (%s): %s; keeping sequence %s",
                error.code,
                error.message,
                trust.directory.token and trust.directory.current().sequence
                if trust.directory.token
                else None,
            )


def create_app(settings: Settings | None = None, *, trust: Trust | None = None) -> FastAPI:
    """Build the gateway. ``trust`` defaults to :func:`build_trust` on ``settings``."""
    settings = settings or (trust.settings if trust else get_settings())
    trust = trust or build_trust(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_refresh_loop(trust))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = FastAPI(
        title="carbonlink gateway",
        version=API_VERSION,
        lifespan=lifespan,
        description="Trust layer of the carbonlink gateway: participant directory, mutual OAuth "
        "(private_key_jwt / tls_client_auth, DPoP- or mTLS-bound RFC 9068 tokens).",
    )
    app.state.trust = trust
    errors.install(app)
    for module in (oauth, wellknown, peers, health):
        app.include_router(module.router)
    app.add_middleware(GuardMiddleware, settings=settings)
    return app
