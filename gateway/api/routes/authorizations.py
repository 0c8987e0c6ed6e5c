"""Article 6.2 authorizations kept by the gateway (docs/governance.md): a national authority issues, amends and
revokes those of its own Party; readers list and show them.

``POST /v1/authorizations`` (issue), ``POST /v1/authorizations/{party}/{authorization_id}/versions`` (amend),
``POST /v1/authorizations/{party}/{authorization_id}/revocation`` (revoke), ``GET /v1/authorizations`` and
``GET /v1/authorizations/{party}/{authorization_id}``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from gateway.api.deps import Caller, CurrentCaller, require_scope
from gateway.api.services import ServiceSlot
from gateway.governance import Authorities, AuthorizationInvalid
from gateway.trust.errors import InsufficientScope
from gateway.trust.roles import AUTHORIZATIONS_ISSUE, AUTHORIZATIONS_READ
from standards.safeio import load_json

router = APIRouter(prefix="/v1/authorizations", tags=["authorizations"])

RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "Token or its DPoP/mTLS binding refused"},
    403: {"description": "No authorizations scope, or the caller is not the national authority of that Party "
                         "(GOVERNANCE.NOT_NATIONAL_AUTHORITY)"},
    404: {"description": "No such authorization (GOVERNANCE.AUTHORIZATION_NOT_FOUND)"},
    409: {"description": "Issued twice, or revoked (GOVERNANCE.AUTHORIZATION_CONFLICT)"},
    422: {"description": "Not a valid AEF T2 authorization statement (GOVERNANCE.AUTHORIZATION_INVALID)"},
}


class Revocation(BaseModel):
    """A revocation: from ``effective`` on, no action may rely on the authorization."""

    model_config = ConfigDict(extra="forbid")

    effective: date
    reason: str = Field("", max_length=1000)


async def get_authorities(request: Request) -> Authorities:
    slot: ServiceSlot[Authorities] = request.app.state.authorizations
    service = slot.ready
    if service is None:
        service = await run_in_threadpool(slot.get)
    return service


AuthoritiesDep = Annotated[Authorities, Depends(get_authorities)]


async def _json(request: Request) -> Any:
    return load_json(await request.body(), what="the request body")


def _readable(caller: Caller, party: str | None) -> str | None:
    """The Party the caller may read (None: every Party); a national authority reads its own Party's."""
    if AUTHORIZATIONS_READ in caller.token.scopes:
        return party
    if AUTHORIZATIONS_ISSUE in caller.token.scopes:
        if party not in (None, caller.participant.party):
            raise InsufficientScope(f"a national authority reads only {caller.participant.party}'s authorizations")
        return caller.participant.party
    raise InsufficientScope(f"this needs the scope {AUTHORIZATIONS_READ!r}")


@router.post("", status_code=201, responses=RESPONSES)
async def issue(request: Request, caller: CurrentCaller, authorities: AuthoritiesDep) -> JSONResponse:
    """Issue version 1 of an authorization of the caller's Party (the body: canonical AEF T2 fields)."""
    require_scope(caller, AUTHORIZATIONS_ISSUE)
    body = await _json(request)
    return JSONResponse(await run_in_threadpool(authorities.issue, caller.participant, body), status_code=201)


@router.post("/{party}/{authorization_id}/versions", status_code=201, responses=RESPONSES)
async def amend(party: str, authorization_id: str, request: Request, caller: CurrentCaller,
                authorities: AuthoritiesDep) -> JSONResponse:
    """Amend: the next version of the authorization, in force from its date of authorization."""
    require_scope(caller, AUTHORIZATIONS_ISSUE)
    body = await _json(request)
    shown = await run_in_threadpool(authorities.amend, caller.participant, party, authorization_id, body)
    return JSONResponse(shown, status_code=201)


@router.post("/{party}/{authorization_id}/revocation", responses=RESPONSES)
async def revoke(party: str, authorization_id: str, request: Request, caller: CurrentCaller,
                 authorities: AuthoritiesDep) -> dict[str, Any]:
    """Revoke the authorization from a date on."""
    require_scope(caller, AUTHORIZATIONS_ISSUE)
    try:
        revocation = Revocation.model_validate(await _json(request))
    except ValidationError as exc:
        raise AuthorizationInvalid(f"the revocation is invalid: {exc.errors()[0]['msg']}") from exc
    return await run_in_threadpool(authorities.revoke, caller.participant, party, authorization_id,
                                   revocation.effective, revocation.reason)


@router.get("", responses=RESPONSES)
async def listing(caller: CurrentCaller, authorities: AuthoritiesDep, party: str | None = None) -> dict[str, Any]:
    """The latest version of every authorization (of one Party)."""
    readable = _readable(caller, party)
    return {"authorizations": await run_in_threadpool(authorities.listing, readable)}


@router.get("/{party}/{authorization_id}", responses=RESPONSES)
async def show(party: str, authorization_id: str, caller: CurrentCaller, authorities: AuthoritiesDep
               ) -> dict[str, Any]:
    """Every version (each a record signed by the gateway), the revocation and the quantity drawn so far."""
    _readable(caller, party)
    return await run_in_threadpool(authorities.show, party, authorization_id)
