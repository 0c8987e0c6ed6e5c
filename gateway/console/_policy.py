"""The console's policy page: the signed transaction-controls policy in force (docs/governance.md, Policy) and the
controls' counters today.

Shown: the version, who signed it (the key's ``kid`` and the network operator of the directory that holds it, or
a directory anchor), its validity, the kinds it controls, the versions waiting for their time; then, per
participant, its controls (the participant's own entry over the defaults: kill switch, business hours, daily
limits, four eyes and its officers with their key ids, trusted counterparts and the holding period) and what it
has sent today against its daily limits (the controls store's totals, on the participant's own calendar day).

Who sees what follows ``GET /v1/policy``: the network operator sees every participant; an operator of one registry
sees the network's terms and its own registry's controls and counters. Read-only: the network operator signs a
new version with ``carbonlink policy sign``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from gateway.api.routes.transfers import get_transfer_service
from gateway.console._session import Operator
from gateway.console._web import PREFIX, ConsoleRoute, OperatorDep, render, trust_of
from gateway.governance import TransactionControls
from gateway.governance._controls_store import ALL
from gateway.governance._policy import Controls, Policy
from gateway.trust import jose
from gateway.trust.directory import Directory
from gateway.trust.errors import JwsRejected
from gateway.trust.keys import public_key_set
from gateway.trust.roles import Role
from standards.errors import CarbonlinkError

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)


def _moment(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _signer(token: str, directory: Directory | None) -> dict[str, str]:
    """The kid the policy is signed with and whose key it is in the directory."""
    try:
        kid = str(jose.peek_header(token).get("kid") or "-")
    except JwsRejected:
        kid = "-"
    for participant in directory.participants if directory else ():
        if participant.holds(Role.NETWORK_OPERATOR) and participant.jwks and kid in public_key_set(
                participant.jwks, what=f"participant {participant.id} jwks"):
            return {"kid": kid, "who": f"{participant.id} (network operator)"}
    return {"kid": kid, "who": "a directory anchor"}


def _limit(value: Decimal | None) -> str:
    return "none" if value is None else str(value)


def _controls_row(pid: str, controls: Controls, own: bool, controls_store: Any, now: datetime) -> dict[str, Any]:
    """One participant's controls and today's counters (``own``: it has an entry of its own in the policy)."""
    day = now.astimezone(controls.zone()).date().isoformat()
    hours = controls.business_hours
    counterparts = sorted(set(controls.counterparty_limits) | set(controls.trusted))
    sent = controls_store.used(pid, day, ALL)
    per = [{"counterpart": cp, "sent": controls_store.used(pid, day, cp),
            "limit": _limit(controls.counterparty_limit(cp))} for cp in counterparts]
    return {
        "id": pid, "own": own, "day": day, "timezone": controls.timezone,
        "kill_switch": controls.kill_switch, "kill_reason": controls.kill_reason,
        "hours": f"{', '.join(hours.days)} {hours.start}-{hours.end}" if hours else "any time",
        "daily_limit": _limit(controls.daily_limit), "sent": sent,
        "left": None if controls.daily_limit is None else max(controls.daily_limit - sent, Decimal(0)),
        "counterparty_daily_limit": _limit(controls.counterparty_daily_limit), "counterparts": per,
        "four_eyes": "off" if controls.four_eyes_above is None else
                     f"above {controls.four_eyes_above} units: {controls.approvals} officers",
        "officers": [{"id": o.id, "kids": [str(k.get("kid")) for k in o.keys]} for o in controls.officers],
        "trusted": controls.trusted, "holding_seconds": controls.holding_seconds}


def _view(policy: Policy, token: str, operator: Operator, controls: TransactionControls,
          directory: Directory | None) -> dict[str, Any]:
    """The page's facts (blocking: reads the controls store)."""
    now = datetime.now(UTC)
    if operator.sees_all:
        shown = sorted(set(policy.participants) | {p.id for p in (directory.participants if directory else ())})
        upcoming = [p.summary() for p in controls.policies.versions() if p.version > policy.version]
    else:
        known = directory is not None and directory.get(operator.registry or "") is not None
        shown, upcoming = [operator.registry or ""] if known else [], []
    rows = [_controls_row(pid, policy.controls(pid), pid in policy.participants, controls.store, now)
            for pid in shown if pid]
    return {"version": policy.version, "environment": policy.environment, "signer": _signer(token, directory),
            "iss": policy.iss, "issued": _moment(policy.iat), "valid_from": _moment(policy.nbf),
            "valid_until": _moment(policy.exp), "days_left": max(0, (policy.exp - int(now.timestamp())) // 86400),
            "kinds": [k.value for k in policy.kinds], "rows": rows,
            "upcoming": [{**u, "valid_from": _moment(u["nbf"])} for u in upcoming]}


@router.get("/policy")
async def policy_page(request: Request, operator: OperatorDep) -> Response:
    try:
        service = await get_transfer_service(request)
        controls = service.controls
        if not isinstance(controls, TransactionControls):
            return render(request, "policy.html", operator=operator, view=None, unavailable=None)
        directory = trust_of(request).directory.current()
        await run_in_threadpool(controls.policies.maybe_refresh, time.time())
        policy, token = await run_in_threadpool(controls.policies.current)
        view = await run_in_threadpool(_view, policy, token, operator, controls, directory)
    except CarbonlinkError as exc:
        return render(request, "policy.html", operator=operator, view=None, unavailable=f"{exc.code}: {exc.message}")
    return render(request, "policy.html", operator=operator, view=view, unavailable=None)
