"""Four eyes by separate approval messages (docs/governance.md, "Four eyes"): a registry's held messages and its
officers' approvals of them.

* ``POST /v1/transfers/{message_id}/approvals``: officers' approvals (JSON ``{"approvals": [JWS, ...]}`` and/or
  ``Carbonlink-Approval`` headers) of a held message of the caller; relays it (200, the signed receipt) when
  they are enough, else answers the hold (202);
* ``GET /v1/transfers/held`` (``?state=held|released|expired|policy_changed|all``) and
  ``GET /v1/transfers/held/{message_id}``: the caller's held queue, for its sender and approvers.
"""

from __future__ import annotations

import threading
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from gateway.api.blocking import run_blocking
from gateway.api.deps import CurrentCaller, require_scope
from gateway.api.routes.transfers import get_transfer_service
from gateway.governance import (
    APPROVAL_HEADER,
    HeldTransfers,
    HoldAnswer,
    PolicyNotConfigured,
    held_transfers,
    split_approvals,
)
from gateway.transfers.service import Outcome, TransferService
from gateway.trust.outbound import SIGNATURE_HEADER
from gateway.trust.roles import APPROVALS_WRITE
from standards.errors import InputError

router = APIRouter(prefix="/v1", tags=["governance"])

#: The largest approval message read (four compact JWS and some JSON).
MAX_APPROVAL_BODY = 64 * 1024
_LOCK = threading.Lock()


def _holds_of(service: TransferService, request: Request) -> HeldTransfers | None:
    with _LOCK:  # one store per service, even when the first requests come together
        built: tuple[TransferService, HeldTransfers | None] | None = getattr(request.app.state, "held_transfers",
                                                                              None)
        if built is None or built[0] is not service:
            built = (service, held_transfers(service, request.app.state.trust))
            request.app.state.held_transfers = built
        return built[1]


async def holds_for(request: Request, service: TransferService) -> HeldTransfers | None:
    """The app's held transfers on ``service`` (``None`` when the gateway applies no policy)."""
    built = getattr(request.app.state, "held_transfers", None)
    if built is not None and built[0] is service:
        return built[1]  # type: ignore[no-any-return]  # app.state is untyped
    return await run_in_threadpool(_holds_of, service, request)


async def _required(request: Request) -> HeldTransfers:
    holds = await holds_for(request, await get_transfer_service(request))
    if holds is None:
        raise PolicyNotConfigured("this gateway is configured with no transaction-controls policy: it holds no "
                                  "messages")
    return holds


def answer(outcome: Outcome | HoldAnswer) -> Response:
    """A relayed message's signed receipt, or a hold's 202."""
    if isinstance(outcome, HoldAnswer):
        held = outcome.held
        return JSONResponse(outcome.body(), status_code=202,
                            headers={"Cache-Control": "no-store", "Location": f"/v1/transfers/held/{held.message_id}"})
    headers = {SIGNATURE_HEADER: outcome.signature, "Cache-Control": "no-store"}
    if outcome.replayed:
        headers["Carbonlink-Replayed"] = "true"
    return Response(outcome.body, status_code=outcome.status, headers=headers, media_type="application/json")


def _approvals_in(body: bytes, headers: list[str]) -> list[str]:
    tokens = split_approvals(headers)
    if body.strip():
        if len(body) > MAX_APPROVAL_BODY:
            raise InputError(f"an approval message is at most {MAX_APPROVAL_BODY} bytes")
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise InputError("an approval message is JSON: {\"approvals\": [\"<JWS>\", ...]}") from exc
        listed = doc.get("approvals") if isinstance(doc, dict) else None
        if not isinstance(listed, list) or not all(isinstance(t, str) for t in listed):
            raise InputError("an approval message is JSON: {\"approvals\": [\"<JWS>\", ...]}")
        tokens += [t.strip() for t in listed if t.strip()]
    if not tokens:
        raise InputError("the approval message carries no approval")
    return tokens


@router.post("/transfers/{message_id}/approvals", status_code=200, responses={
    200: {"description": "The approvals were enough: the message was relayed; the signed receipt (as "
                         "`POST /v1/transfers`)"},
    202: {"description": "Approvals taken; the message still waits for more (the hold)"},
    403: {"description": "No approvals:write scope, or an approval refused (GOVERNANCE.POLICY_APPROVAL_INVALID, "
                         "_MISMATCH, _SAME_OFFICER, _REPLAYED), or a control refuses the message at release time"},
    404: {"description": "No held message of the caller with this id (GOVERNANCE.HOLD_NOT_FOUND)"},
    410: {"description": "The hold expired (GOVERNANCE.HOLD_EXPIRED) or the policy changed "
                         "(GOVERNANCE.HOLD_POLICY_CHANGED): the message was not relayed"}})
async def approve_held_message(message_id: str, request: Request, caller: CurrentCaller) -> Response:
    """Officers' approvals of one of the caller's held messages, each a JWS bound to its id and body digest
    (docs/governance.md, Four eyes)."""
    require_scope(caller, APPROVALS_WRITE)
    holds = await _required(request)
    tokens = _approvals_in(await request.body(), request.headers.getlist(APPROVAL_HEADER))
    return answer(await run_blocking(holds.approve, caller.participant, message_id, tokens))


@router.get("/transfers/held")
async def list_held_messages(request: Request, caller: CurrentCaller,
                             state: Literal["held", "released", "expired", "policy_changed", "all"] = "held"
                             ) -> dict[str, Any]:
    """The caller's held messages (default: those still waiting for approvals)."""
    require_scope(caller, APPROVALS_WRITE)
    holds = await _required(request)
    rows = await run_in_threadpool(holds.listing, caller.participant.id, None if state == "all" else state)
    return {"held": rows}


@router.get("/transfers/held/{message_id}")
async def get_held_message(message_id: str, request: Request, caller: CurrentCaller) -> dict[str, Any]:
    """One of the caller's held messages: its state, the officers who approved it, when it expires."""
    require_scope(caller, APPROVALS_WRITE)
    holds = await _required(request)
    return await run_in_threadpool(holds.show, caller.participant.id, message_id)
