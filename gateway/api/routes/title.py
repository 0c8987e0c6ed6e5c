"""``GET /v1/title?block=SERIES:FIRST-LAST[&vintage=N]``: the legal-title trail of a unit block or ITMO range
(docs/governance.md): every receipted message that moved part of it through this gateway, in the evidence
log's order, with each receipt's signature checked against the gateway's keys. The records are found through the
title index (caught up with the log first; each record it names is checked in the log with the record before it),
or by scanning the log when there is no index. The whole hash chain is checked offline, on an evidence export
(``carbonlink title BLOCK --export FILE``)."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from gateway.api.deps import CurrentCaller, TrustDep, require_scope
from gateway.api.routes.transfers import get_transfer_service
from gateway.api.services import ServiceSlot
from gateway.evidence.log import EvidenceLog
from gateway.title import Block, TitleIndex, TitleIndexUnavailable, parse_block, title_from_log
from gateway.transfers import TransferService
from gateway.trust.roles import TITLE_READ

log_ = logging.getLogger("carbonlink.title")
router = APIRouter(prefix="/v1/title", tags=["title"])

RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "Token or its DPoP/mTLS binding refused"},
    403: {"description": "No title:read scope"},
    422: {"description": "Not a block SERIES:FIRST-LAST (TITLE.BLOCK_INVALID)"},
}


@router.get("", responses=RESPONSES)
async def title(request: Request, caller: CurrentCaller, trust: TrustDep,
                service: Annotated[TransferService, Depends(get_transfer_service)],
                block: Annotated[str, Query(description="SERIES:FIRST-LAST, e.g. CA0001:GHA:1-100", max_length=200)],
                vintage: Annotated[int | None, Query(ge=1900, le=2200)] = None) -> dict[str, Any]:
    """The chain of signed receipts that moved the block, cut into the parts that moved together."""
    require_scope(caller, TITLE_READ)
    wanted = parse_block(block, vintage)
    slot: ServiceSlot[TitleIndex] | None = request.app.state.title_index
    return await run_in_threadpool(_lookup, slot, service.recorder.evidence, wanted, trust.keyring.jwks())


def _lookup(slot: ServiceSlot[TitleIndex] | None, log: EvidenceLog, wanted: Block, jwks: dict[str, Any]
            ) -> dict[str, Any]:
    """Through the title index when there is one that opens, else by scanning the log."""
    index = None
    if slot is not None:
        try:
            index = slot.get()
        except TitleIndexUnavailable as exc:
            log_.warning("title index unavailable, scanning the log: %s", exc.message)
    return title_from_log(log, wanted, jwks=jwks, verify_chain=False, index=index)
