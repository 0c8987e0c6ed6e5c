"""``GET /v1/title?block=SERIES:FIRST-LAST[&vintage=N]``: the legal-title trail of a unit block or ITMO range
(docs/governance.md): every receipted message that moved part of it through this gateway, in the evidence
log's order, with each record's hash and each receipt's signature checked against the gateway's keys. The
hash chain itself is checked offline, on an evidence export (``carbonlink title BLOCK --export FILE``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from gateway.api.deps import CurrentCaller, TrustDep, require_scope
from gateway.api.routes.transfers import get_transfer_service
from gateway.title import parse_block, title_from_log
from gateway.transfers import TransferService
from gateway.trust.roles import TITLE_READ

router = APIRouter(prefix="/v1/title", tags=["title"])

RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "Token or its DPoP/mTLS binding refused"},
    403: {"description": "No title:read scope"},
    422: {"description": "Not a block SERIES:FIRST-LAST (TITLE.BLOCK_INVALID)"},
}


@router.get("", responses=RESPONSES)
async def title(caller: CurrentCaller, trust: TrustDep,
                service: Annotated[TransferService, Depends(get_transfer_service)],
                block: Annotated[str, Query(description="SERIES:FIRST-LAST, e.g. CA0001:GHA:1-100", max_length=200)],
                vintage: Annotated[int | None, Query(ge=1900, le=2200)] = None) -> dict[str, Any]:
    """The chain of signed receipts that moved the block, cut into the parts that moved together."""
    require_scope(caller, TITLE_READ)
    wanted = parse_block(block, vintage)
    return await run_in_threadpool(title_from_log, service.recorder.evidence, wanted, jwks=trust.keyring.jwks(),
                                   verify_chain=False)
