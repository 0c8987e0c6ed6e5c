"""The gateway application: ``create_app(settings) -> FastAPI``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from gateway import errors
from gateway.api.middleware import GuardMiddleware
from gateway.api.routes import health, metrics, oauth, peers, transfers, wellknown
from gateway.settings import Settings, get_settings
from gateway.transfers.ratelimit import Limit, make_limiter
from gateway.transfers.settings import get_transfer_settings
from gateway.trust.setup import Trust, build_trust

log = logging.getLogger("carbonlink.gateway")

API_VERSION = "0.1.0"


async def _refresh_loop(trust: Trust) -> None:
    """Reload the directory every interval; a refused or failing refresh never stops the loop."""
    interval = trust.settings.directory_refresh_seconds
    while True:
        await asyncio.sleep(interval)
        try:
            error = await asyncio.to_thread(trust.directory.refresh)
        except Exception:  # the loop must survive anything; the store keeps the last good directory
            log.exception("directory refresh failed unexpectedly")
            continue
        if error is not None:
            log.warning("directory refresh refused (%s): %s", error.code, error.message)


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
    for module in (oauth, wellknown, peers, health, transfers, metrics):
        app.include_router(module.router)
    transfer_settings = get_transfer_settings()
    app.state.transfer_settings = transfer_settings
    app.state.rate_limiter = make_limiter(
        transfer_settings.rate_limit_store,
        transfer_settings.rate_limit_per_minute,
        transfer_settings.rate_limit_burst,
        {peer: Limit(p.per_minute, p.burst) for peer, p in transfer_settings.rate_limit_peers.items()},
    )
    limit = transfer_settings.transfer_max_body_bytes
    app.add_middleware(
        GuardMiddleware, settings=settings, path_limits={"/v1/transfers": limit, "/v1/messages/": limit}
    )
    return app
