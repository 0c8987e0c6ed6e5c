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
from starlette.responses import Response

from gateway.api import deps
from gateway.api.blocking import run_blocking
from gateway.api.routes.holds import answer
from gateway.api.routes.transfers import admit, content_type_of, relay_answer, relay_context
from gateway.errors import domain_error_response
from gateway.governance import APPROVAL_HEADER, split_approvals
from gateway.protocol import MessageKind
from gateway.transfers.ratelimit import Limiter
from gateway.transfers.service import Outcome, TransferService
from gateway.trust.replay import MemoryReplayStore
from gateway.trust.setup import Trust
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
            service = at_once(request)
            if service is None:
                relay = await relay_context(request)
                response = await relay_answer(kind, request, relay, message_id, headers.get("carbonlink-receiver"))
            else:
                response = await relay_at_once(kind, request, service, message_id, headers.get("carbonlink-receiver"))
        except CarbonlinkError as exc:
            response = domain_error_response(exc, request)
        await response(scope, receive, send)


#: Whether a relay with a shared replay cache runs in one hand-over to a worker thread (False only in the tests that
#: compare it with the two hand-overs it replaces).
_one_hand_over = True


def at_once(request: Request) -> TransferService | None:
    """The transfer service, when this request is relayed by :func:`relay_at_once`; otherwise None.

    That is when the caller's checks need a worker thread anyway (the replay cache is shared: a Redis round trip),
    the service is built and applies no transaction controls (a hold is looked up on the event loop), and the body
    has a declared length and no ``Expect`` header (it is read before the caller is checked, so a client waiting
    for ``100 Continue`` would be told to send it before a refusal).
    """
    state = request.app.state
    if not _one_hand_over or isinstance(state.trust.replay, MemoryReplayStore):
        return None
    service: TransferService | None = state.transfers.ready
    headers = request.headers
    if (service is None or service.controls is not None or "content-length" not in headers
            or "transfer-encoding" in headers or "expect" in headers):
        return None
    return service


async def relay_at_once(kind: MessageKind, request: Request, service: TransferService, message_id: str,
                        receiver: str | None) -> Response:
    """The relay with one hand-over to a worker thread instead of two: the body (of a declared length, within the
    limit the guard middleware checked) is read first, then one thread runs the caller's checks and everything
    :func:`relay_answer` runs after them, in the same order, and the submission. Every check and every answer is the
    two-step path's; only a body is read before a refusal where it was not before."""
    trust: Trust = request.app.state.trust
    cert = await deps.client_certificate(request, trust.settings)
    body = await request.body()
    return answer(await run_blocking(_relay, kind, request, trust, cert, service, request.app.state.rate_limiter,
                                     message_id, receiver, body))


def _relay(kind: MessageKind, request: Request, trust: Trust, cert: bytes | None, service: TransferService,
           limiter: Limiter, message_id: str, receiver: str | None, body: bytes) -> Outcome:
    """In the worker thread: the caller, scope and certificate gate, rate limit, Content-Type, submission."""
    caller = deps.verify_caller(request, trust, cert)
    admit(kind, request, caller)
    limiter.take(caller.participant.id)
    content_type = content_type_of(request)
    approvals = split_approvals(request.headers.getlist(APPROVAL_HEADER))
    return service.submit(caller.participant, kind, message_id, body, content_type, receiver, approvals)
