"""Article 6.2 authorizations kept by the gateway (docs/governance.md): a national authority issues, amends and
revokes those of its own Party; readers list and show them.

``POST /v1/authorizations`` (issue), ``POST /v1/authorizations/{party}/{authorization_id}/versions`` (amend),
``POST /v1/authorizations/{party}/{authorization_id}/revocation`` (revoke), ``GET /v1/authorizations`` and
``GET /v1/authorizations/{party}/{authorization_id}``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from gateway.api.deps import Caller, CurrentCaller, TrustDep, require_scope
from gateway.api.services import ServiceSlot
from gateway.governance import Authorities, AuthorizationInvalid
from gateway.trust.errors import InsufficientScope
from gateway.trust.roles import AUTHORIZATIONS_ISSUE, AUTHORIZATIONS_READ

router = APIRouter(prefix="/v1/authorizations", tags=["authorizations"])
JOSE = "application/jose"

RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "Token or its DPoP/mTLS binding refused"},
    403: {"description": "No authorizations scope, the caller is not the national authority of that Party "
                         "(GOVERNANCE.NOT_NATIONAL_AUTHORITY), or the statement is not signed by its own directory "
                         "key, not for this gateway, stale or about something else (GOVERNANCE.STATEMENT_*)"},
    404: {"description": "No such authorization (GOVERNANCE.AUTHORIZATION_NOT_FOUND)"},
    409: {"description": "Issued twice, or revoked (GOVERNANCE.AUTHORIZATION_CONFLICT)"},
    422: {"description": "Not a valid AEF T2 authorization statement (GOVERNANCE.AUTHORIZATION_INVALID), not "
                         "signed by the authority (GOVERNANCE.STATEMENT_UNSIGNED, GOVERNANCE.STATEMENT_INVALID)"},
}


async def get_authorities(request: Request) -> Authorities:
    slot: ServiceSlot[Authorities] = request.app.state.authorizations
    service = slot.ready
    if service is None:
        service = await run_in_threadpool(slot.get)
    return service


AuthoritiesDep = Annotated[Authorities, Depends(get_authorities)]


def _readable(caller: Caller, party: str | None) -> str | None:
    """The Party the caller may read (None: every Party); a national authority reads its own Party's."""
    if AUTHORIZATIONS_READ in caller.token.scopes:
        return party
    if AUTHORIZATIONS_ISSUE in caller.token.scopes:
        if party not in (None, caller.participant.party):
            raise InsufficientScope(f"a national authority reads only {caller.participant.party}'s authorizations")
        return caller.participant.party
    raise InsufficientScope(f"this needs the scope {AUTHORIZATIONS_READ!r}")


async def _signed(request: Request) -> str:
    """The compact JWS the authority signed (``application/jose``, RFC 7515 section 9.2.1)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != JOSE:
        raise AuthorizationInvalid(f"send the statement signed with the authority's own key, as {JOSE} "
                                   f"(a compact JWS), not {media or 'no content type'}",
                                   code="GOVERNANCE.STATEMENT_UNSIGNED")
    body = await request.body()
    try:
        return body.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise AuthorizationInvalid("a compact JWS is ASCII", code="GOVERNANCE.STATEMENT_INVALID") from exc


@router.post("", status_code=201, responses=RESPONSES)
async def issue(request: Request, caller: CurrentCaller, authorities: AuthoritiesDep, trust: TrustDep
                ) -> JSONResponse:
    """Issue version 1 of an authorization of the caller's Party: a statement signed with the authority's own
    key (``application/jose``) whose payload carries the canonical AEF T2 fields."""
    require_scope(caller, AUTHORIZATIONS_ISSUE)
    token = await _signed(request)
    shown = await run_in_threadpool(authorities.submit, caller.participant, token,
                                    audience=trust.settings.issuer, action="issue")
    return JSONResponse(shown, status_code=201)


@router.post("/{party}/{authorization_id}/versions", status_code=201, responses=RESPONSES)
async def amend(party: str, authorization_id: str, request: Request, caller: CurrentCaller,
                authorities: AuthoritiesDep, trust: TrustDep) -> JSONResponse:
    """Amend: the next version of the authorization, in force from its date of authorization (a signed
    statement, as for issuing)."""
    require_scope(caller, AUTHORIZATIONS_ISSUE)
    token = await _signed(request)
    shown = await run_in_threadpool(authorities.submit, caller.participant, token, audience=trust.settings.issuer,
                                    action="amend", party=party, authorization_id=authorization_id)
    return JSONResponse(shown, status_code=201)


@router.post("/{party}/{authorization_id}/revocation", responses=RESPONSES)
async def revoke(party: str, authorization_id: str, request: Request, caller: CurrentCaller,
                 authorities: AuthoritiesDep, trust: TrustDep) -> dict[str, Any]:
    """Revoke the authorization from a date on (a signed statement naming ``effective`` and ``reason``)."""
    require_scope(caller, AUTHORIZATIONS_ISSUE)
    token = await _signed(request)
    shown: dict[str, Any] = await run_in_threadpool(
        authorities.submit, caller.participant, token, audience=trust.settings.issuer, action="revoke",
        party=party, authorization_id=authorization_id)
    return shown


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
