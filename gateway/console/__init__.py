"""The operator console: the network as a registry operator sees it, in a browser (docs/console.md).

Server-rendered pages (Jinja2, autoescaped) under ``/console`` with a little htmx, behind the gateway's own
OAuth (a console scope per role) or, in development only, a development login. The gateway includes
:data:`router` like its other routers; ``CARBONLINK_CONSOLE_ENABLED=0`` leaves every console route out.
Other areas add pages with :func:`add_section` and render them with :func:`render`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import APIRouter, FastAPI

from gateway.console import _authorizations, _conformance, _feeds, _login, _pages, _policy
from gateway.console._actions import holds_on_record
from gateway.console._reader import ensure_indexes
from gateway.console._session import SCOPES, Operator
from gateway.console._web import PREFIX, SECURITY_HEADERS, OperatorDep, add_section, build_state, render
from standards.errors import CarbonlinkError

__all__ = ["PREFIX", "SCOPES", "SECURITY_HEADERS", "Operator", "OperatorDep", "add_section", "render", "router"]

log = logging.getLogger("carbonlink.console")


async def _follow_holds(app: FastAPI, interval: float) -> None:
    """Apply the suspensions on record (made by any gateway process sharing the log) every ``interval``."""
    state = app.state.console
    while True:
        await asyncio.sleep(interval)
        try:
            held = await asyncio.to_thread(holds_on_record, state.reader)
            app.state.trust.directory.hold(held)
            state.last_holds_error = None
        except CarbonlinkError as exc:
            if state.last_holds_error != exc.code:
                log.warning("cannot read the console's suspensions from the evidence log (%s): %s", exc.code,
                            exc.message)
            state.last_holds_error = exc.code


async def _index(url: str, table: str) -> None:
    """Add the console's indexes in the background (a large table takes a while; the gateway serves meanwhile)."""
    try:
        await asyncio.to_thread(ensure_indexes, url, table)
    except Exception as exc:  # the console works without its indexes, only slower on large logs
        log.warning("the console could not add its indexes to the evidence log: %s", exc)


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    trust = app.state.trust
    if not trust.settings.console.console_enabled:
        yield
        return
    state = build_state(trust)
    app.state.console = state
    indexing = asyncio.create_task(_index(trust.settings.transfers.evidence_url(), state.reader.table))
    try:  # the suspensions on record apply from the first request on
        trust.directory.hold(await asyncio.to_thread(holds_on_record, state.reader))
    except CarbonlinkError as exc:
        log.warning("cannot read the console's suspensions from the evidence log (%s): %s", exc.code, exc.message)
    task = asyncio.create_task(_follow_holds(app, trust.settings.directory_refresh_seconds))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        with contextlib.suppress(asyncio.CancelledError):
            await indexing  # an index build under way is finished, not left half-done
        state.reader.close()


router = APIRouter(lifespan=_lifespan)
router.include_router(_login.router)
router.include_router(_login.tickets)
router.include_router(_pages.router)
router.include_router(_conformance.router)
router.include_router(_feeds.router)
router.include_router(_authorizations.router)
router.include_router(_policy.router)
add_section("/conformance", "Conformance")
add_section("/feeds", "Feeds")
add_section("/authorizations", "Authorizations")
add_section("/policy", "Policy")
