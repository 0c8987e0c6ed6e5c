"""The gateway application: ``create_app(settings) -> FastAPI``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

import adapters
import standards
from adapters import default_catalog
from gateway import apidoc, console, errors
from gateway.api.middleware import GuardMiddleware
from gateway.api.relay import RelayEndpoint
from gateway.api.routes import (
    authorizations,
    conformance,
    feeds,
    health,
    holds,
    metrics,
    mrv,
    oauth,
    peers,
    policy,
    title,
    transfers,
    wellknown,
)
from gateway.api.services import ServiceSlot
from gateway.evidence.log import EvidenceLog
from gateway.feeds import FeedService, build_feeds
from gateway.governance import Authorities, open_authorization_store
from gateway.mrv import EvidenceService, evidence_service
from gateway.settings import CarbonlinkSettings, Settings, TranslationSettings, get_settings
from gateway.title import IndexKeeper, open_title_index
from gateway.transfers import TransferService, build_service
from gateway.transfers.ratelimit import Limit, Limiter, make_limiter
from gateway.transfers.settings import TransferSettings
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


def _rate_limiter(config: TransferSettings) -> Limiter:
    peers = {peer: Limit(p.per_minute, p.burst) for peer, p in config.rate_limit_peers.items()}
    return make_limiter(config.rate_limit_store, config.rate_limit_per_minute, config.rate_limit_burst, peers)


class TranslationOptionsMiddleware:
    """Puts the settings' ``translation`` section in force (:meth:`TranslationSettings.in_force`) for
    every request and for the lifespan, so the standards and adapters layers see this app's options
    (and never the environment), in the event loop and in the threads a request starts."""

    def __init__(self, app: ASGIApp, translation: TranslationSettings) -> None:
        self.app = app
        self.translation = translation
        # both layers' options are frozen models of frozen settings: built once, put in force per request
        self._standards = translation.standards_options()
        self._adapters = translation.adapter_options()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with standards.use_options(self._standards), adapters.use_options(self._adapters):
            await self.app(scope, receive, send)


def _service_settings(settings: CarbonlinkSettings | None, trust: Trust | None) -> Settings:
    """The given settings checked for the service, else the trust layer's, else the environment's."""
    if settings is not None:
        return Settings.for_service(settings)
    return trust.settings if trust else get_settings()


def _evidence_of(slot: ServiceSlot[TransferService]) -> EvidenceLog | None:
    service = slot.ready
    return service.recorder.evidence if service is not None else None


def create_app(settings: CarbonlinkSettings | None = None, *, trust: Trust | None = None) -> FastAPI:
    """Build the gateway from ``settings`` alone (default: the environment's, read once here at the edge).

    ``settings`` are checked for the service here (:meth:`Settings.for_service`: production rules).
    ``trust`` defaults to :func:`build_trust` on them. The transfer service (and its stores) is built
    when the app starts (its lifespan) and closed when it stops (:class:`ServiceSlot`); the adapters
    it translates with are the catalogue of the settings' ``translation`` section.
    """
    service_settings = _service_settings(settings, trust)
    trust = trust or build_trust(service_settings)
    settings = service_settings
    transfer_settings = settings.transfers
    adapter_options = settings.translation.adapter_options()
    transfer_slot: ServiceSlot[TransferService] = ServiceSlot(
        "transfer", lambda: build_service(trust, transfer_settings, adapters=default_catalog(adapter_options)))
    feed_slot: ServiceSlot[FeedService] = ServiceSlot("feeds", lambda: build_feeds(
        trust, settings.feeds, default_catalog(adapter_options), data_dir=str(transfer_settings.data_dir)))
    authorization_slot: ServiceSlot[Authorities] = ServiceSlot("authorizations", lambda: Authorities(
        open_authorization_store(settings.governance.authorization_url(
            transfer_settings.data_dir, transfer_settings.evidence_url())), trust.keyring,
        jwks_cache=trust.clients.jwks_cache))
    index_url = settings.governance.title_index_url(transfer_settings.data_dir, transfer_settings.evidence_url())
    index_slot = ServiceSlot("title-index", lambda: open_title_index(index_url or "")) if index_url else None
    evidence_slot: ServiceSlot[EvidenceService] = ServiceSlot("mrv-evidence", lambda: evidence_service(
        settings.mrv, transfer_settings.data_dir, trust.keyring))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(transfer_slot.start)
        keeper = IndexKeeper(index_slot.get, lambda: _evidence_of(transfer_slot)).start() if index_slot else None
        task = asyncio.create_task(_refresh_loop(trust))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            if keeper is not None:
                await asyncio.to_thread(keeper.stop)
            await asyncio.to_thread(transfer_slot.close)
            await asyncio.to_thread(feed_slot.close)
            await asyncio.to_thread(authorization_slot.close)
            await asyncio.to_thread(evidence_slot.close)
            if index_slot is not None:
                await asyncio.to_thread(index_slot.close)

    app = FastAPI(
        title="carbonlink gateway",
        version=API_VERSION,
        lifespan=lifespan,
        redirect_slashes=False,  # an API route never redirects (no Location built from the Host header)
        description="Trust layer of the carbonlink gateway: participant directory, mutual OAuth "
        "(private_key_jwt / tls_client_auth, DPoP- or mTLS-bound RFC 9068 tokens).",
    )
    app.state.trust = trust
    app.state.transfers = transfer_slot
    app.state.feeds = feed_slot
    app.state.authorizations = authorization_slot
    app.state.mrv_evidence = evidence_slot
    app.state.title_index = index_slot
    app.state.feed_page_limit = settings.feeds.feeds_page_limit
    errors.install(app)
    apidoc.install(app)
    for module in (oauth, wellknown, peers, health, transfers, metrics, conformance, feeds, authorizations, policy,
                   holds, title, mrv, console):
        app.include_router(module.router)
    app.state.rate_limiter = _rate_limiter(transfer_settings)
    limit = transfer_settings.transfer_max_body_bytes
    app.add_middleware(RelayEndpoint)  # innermost: the relay routes behind the guard and the translation options
    app.add_middleware(
        GuardMiddleware, settings=settings, path_limits={"/v1/transfers": limit, "/v1/messages/": limit,
                                                "/v1/feeds/snapshot": limit,
                                                "/v1/mrv/evidence/": settings.mrv.mrv_evidence_max_bytes}
    )
    app.add_middleware(TranslationOptionsMiddleware, translation=settings.translation)
    return app
