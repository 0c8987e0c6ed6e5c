"""Signing in to the console.

* Through the gateway's own OAuth: a registry (or the network operator's client) whose directory entry
  lists ``console:registry`` or ``console:network`` asks ``POST /console/tickets`` with a DPoP- or
  mTLS-bound access token carrying that scope, and gets a one-time login link for a person
  (``carbonlink console login`` does both steps).
* The development login: pick a role without keys. On in development only; production refuses it.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from gateway.api.deps import CurrentCaller
from gateway.console import _actions
from gateway.console._session import LOGIN_COOKIE, SCOPES, SESSION_COOKIE, Role
from gateway.console._web import (
    PREFIX,
    ConsoleRoute,
    checked_form,
    evidence_log,
    login_sid,
    render,
    state_of,
    trust_of,
)
from gateway.console.errors import ConsoleInputInvalid, DevLoginDisabled, TicketRefused
from gateway.trust.errors import InsufficientScope

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)
tickets = APIRouter(prefix=PREFIX, tags=["console"])


async def _signed_in(request: Request, subject: str, role: Role, registry: str | None, via: Any) -> Response:
    """A session for the operator, on record first (``console.signin``): no record, no session."""
    state = state_of(request)
    cookie, operator = state.sealer.session(subject, role, registry, seconds=state.section.console_session_seconds,
                                            via=via)
    log = await run_in_threadpool(evidence_log, request)
    await run_in_threadpool(lambda: _actions.signed(log, operator, signing_in=True))
    response = RedirectResponse(PREFIX + "/messages", status_code=303)
    response.set_cookie(SESSION_COOKIE, cookie, max_age=state.section.console_session_seconds, path=PREFIX,
                        httponly=True, samesite="strict", secure=state.secure_cookies)
    response.delete_cookie(LOGIN_COOKIE, path=PREFIX)
    return response


def _login_form_sid(request: Request) -> tuple[str, bool]:
    sid = login_sid(request)
    return (sid, False) if sid and len(sid) < 64 else (secrets.token_urlsafe(16), True)


def _with_login_cookie(request: Request, response: Response, sid: str, fresh: bool) -> Response:
    if fresh:
        response.set_cookie(LOGIN_COOKIE, sid, max_age=900, path=PREFIX, httponly=True, samesite="strict",
                            secure=state_of(request).secure_cookies)
    return response


@router.get("")
def root() -> Response:
    return RedirectResponse(PREFIX + "/messages", status_code=303)


@router.get("/login")
def login_page(request: Request) -> Response:
    state = state_of(request)
    sid, fresh = _login_form_sid(request)
    participants = []
    if state.dev_login:
        participants = [p.id for p in trust_of(request).directory.current().participants]
    page = render(request, "login.html", dev_login=state.dev_login, participants=participants,
                  login_csrf=state.sealer.csrf_token(sid))
    return _with_login_cookie(request, page, sid, fresh)


@router.post("/login/dev")
async def dev_login(request: Request) -> Response:
    state = state_of(request)
    if not state.dev_login:
        raise DevLoginDisabled("the development login is off (it is never on in production)")
    form = await checked_form(request, login_sid(request))
    role = form.get("role", "")
    if role == "network":
        return await _signed_in(request, "dev:network-operator", "network", None, "development")
    participant = form.get("registry", "")
    if role != "registry" or trust_of(request).directory.current().get(participant) is None:
        raise ConsoleInputInvalid("choose the network operator, or a registry of the directory")
    return await _signed_in(request, f"dev:{participant}", "registry", participant, "development")


@router.get("/login/ticket")
def ticket_page(request: Request, ticket: str = "") -> Response:
    claims = state_of(request).sealer.open_ticket(ticket)
    sid, fresh = _login_form_sid(request)
    page = render(request, "ticket.html", ticket=ticket, subject=claims["sub"], role=claims["role"],
                  registry=claims.get("registry"), login_csrf=state_of(request).sealer.csrf_token(sid))
    return _with_login_cookie(request, page, sid, fresh)


@router.post("/login/ticket")
async def redeem_ticket(request: Request) -> Response:
    form = await checked_form(request, login_sid(request))
    claims = state_of(request).sealer.open_ticket(form.get("ticket", ""))
    replay = trust_of(request).replay  # shared through Redis when scaled out: not on the event loop
    if not await run_in_threadpool(replay.first_use, "console-ticket", claims["jti"], float(claims["exp"])):
        raise TicketRefused("this login link was used already; ask for a new one")
    return await _signed_in(request, str(claims["sub"]), claims["role"], claims.get("registry"), "oauth")


@router.post("/logout")
async def logout(request: Request) -> Response:
    operator = state_of(request).sealer.operator(request.cookies.get(SESSION_COOKIE))
    await checked_form(request, operator.sid)
    log = await run_in_threadpool(evidence_log, request)
    await run_in_threadpool(lambda: _actions.signed(log, operator, signing_in=False))
    response = RedirectResponse(PREFIX + "/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response


@tickets.post("/tickets", summary="A one-time console login link for a registry holding a console scope",
              responses={401: {"description": "token or its binding refused"},
                         403: {"description": "the token has neither console:network nor console:registry"}})
def issue_ticket(request: Request, caller: CurrentCaller) -> JSONResponse:
    """Scope ``console:network`` signs in as the network operator (sees every registry's traffic);
    ``console:registry`` as the operator of the caller's own registry."""
    role: Role
    if SCOPES["network"] in caller.token.scopes:
        role = "network"
    elif SCOPES["registry"] in caller.token.scopes:
        role = "registry"
    else:
        raise InsufficientScope("this needs the scope 'console:network' or 'console:registry'")
    participant = caller.participant.id
    ticket = state_of(request).sealer.ticket(participant, role, None if role == "network" else participant)
    url = f"{trust_of(request).settings.issuer}{PREFIX}/login/ticket?ticket={ticket}"
    return JSONResponse({"login_url": url, "role": role, "subject": participant,
                         "expires_at": int(time.time()) + 120}, headers={"Cache-Control": "no-store"})
