"""The transaction-controls policy in force (docs/governance.md, Policy): ``GET /v1/policy``.

The network operator reads the whole document and its signed token; a registry operator reads the network's
terms (version, validity, controlled kinds, defaults) and its own controls only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from gateway.api.deps import CurrentCaller, require_scope
from gateway.api.routes.transfers import get_transfer_service
from gateway.governance import PolicyNotConfigured, TransactionControls
from gateway.trust.roles import POLICY_READ, Role

router = APIRouter(prefix="/v1", tags=["governance"])

RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "Token or its DPoP/mTLS binding refused"},
    403: {"description": "No policy:read scope"},
    404: {"description": "This gateway applies no policy (GOVERNANCE.POLICY_NOT_CONFIGURED)"},
    503: {"description": "No valid policy is in force (GOVERNANCE.POLICY_UNAVAILABLE; the controlled kinds fail "
                         "closed meanwhile)"},
}


@router.get("/policy", responses=RESPONSES)
async def read_policy(request: Request, caller: CurrentCaller) -> dict[str, Any]:
    """The policy version in force: its validity, the kinds it controls and the controls the caller may see."""
    require_scope(caller, POLICY_READ)
    service = await get_transfer_service(request)
    controls = service.controls
    if not isinstance(controls, TransactionControls):
        raise PolicyNotConfigured("this gateway is configured with no transaction-controls policy")
    policy, token = await run_in_threadpool(controls.policies.current)
    body = policy.model_dump(mode="json", exclude_none=True)
    if caller.participant.holds(Role.NETWORK_OPERATOR):
        return {"policy": body, "token": token,
                "upcoming": [p.summary() for p in controls.policies.versions() if p.version > policy.version]}
    own = policy.controls(caller.participant.id).model_dump(mode="json", exclude_none=True)
    body["participants"] = {caller.participant.id: own}
    return {"policy": body}
