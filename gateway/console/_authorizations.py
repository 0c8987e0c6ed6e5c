"""The console's authorizations page: the Article 6.2 authorizations the gateway keeps (docs/governance.md),
each with the version in force today, the quantity drawn by relayed first transfers, its revocation, and a
page with every version. Read-only: national authorities issue, amend and revoke through
``/v1/authorizations``.

Read through the governance API (:meth:`gateway.governance.Authorities.overview`, ``summary`` and ``show``).
The network operator sees every Party's authorizations; an operator of one registry sees those of its
registry's Party (its directory entry's ``party``). Statements come from national authorities, so their text
goes to the templates as data and is escaped there.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from gateway.api.services import ServiceSlot
from gateway.console._session import Operator
from gateway.console._web import PREFIX, ConsoleRoute, OperatorDep, render, trust_of
from gateway.console.errors import ConsoleNotFound
from gateway.governance import Authorities
from standards.errors import CarbonlinkError

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

#: The statement's fields in the order the detail page lists them (AEF T2, the canonical model's names).
FIELDS = ("date", "cooperative_approach", "authorized_quantity", "metric", "gwp_values", "non_ghg_metric",
          "sectors", "activity_types", "purposes", "authorized_parties", "authorized_entities", "oimp_authorized",
          "timeframe", "terms", "documentation", "first_transfer_definition", "additional_information")


def _party_of(request: Request, operator: Operator) -> str | None:
    """The Party whose authorizations the operator sees (``None``: every Party; ``""``: none, as the
    operator's registry is no longer in the directory)."""
    if operator.sees_all:
        return None
    entry = trust_of(request).directory.current().get(operator.registry or "")
    return entry.party if entry is not None else ""


def _state(summary: dict[str, Any], today: date) -> str:
    """``in force``, ``not yet in force``, ``revoked`` or ``in force, revoked from <date>``."""
    revocation = summary["revocation"]
    if revocation is not None and date.fromisoformat(revocation["effective"]) <= today:
        return "revoked"
    words = "in force" if summary["in_force_version"] is not None else "not yet in force"
    return f"{words}, revoked from {revocation['effective']}" if revocation is not None else words


def _row(summary: dict[str, Any], today: date) -> dict[str, Any]:
    statement = summary["statement"]
    return {**summary, "state": _state(summary, today), "date": statement.get("date", "-"),
            "cooperative_approach": statement.get("cooperative_approach", "-"),
            "authorized_quantity": statement.get("authorized_quantity"),
            "timeframe": statement.get("timeframe") or "-", "purposes": statement.get("purposes") or "-",
            "authorized_parties": statement.get("authorized_parties") or []}


async def _authorities(request: Request) -> Authorities:
    slot: ServiceSlot[Authorities] = request.app.state.authorizations
    ready = slot.ready
    return ready if ready is not None else await run_in_threadpool(slot.get)


@router.get("/authorizations")
async def authorizations(request: Request, operator: OperatorDep) -> Response:
    party = _party_of(request, operator)
    today = datetime.now(UTC).date()
    rows: list[dict[str, Any]] = []
    try:
        if party != "":
            authorities = await _authorities(request)
            rows = [_row(s, today) for s in await run_in_threadpool(authorities.overview, today, party)]
    except CarbonlinkError as exc:
        return render(request, "authorizations.html", operator=operator, party=party,
                      unavailable=f"{exc.code}: {exc.message}")
    return render(request, "authorizations.html", operator=operator, party=party, unavailable=None, rows=rows,
                  today=today.isoformat())


@router.get("/authorizations/{party}/{authorization_id}")
async def authorization(request: Request, party: str, authorization_id: str, operator: OperatorDep) -> Response:
    if _party_of(request, operator) not in (None, party):
        raise ConsoleNotFound(f"there is no authorization {authorization_id[:100]!r} of {party[:3]!r} for you to see")
    authorities = await _authorities(request)
    today = datetime.now(UTC).date()
    summary = await run_in_threadpool(authorities.summary, party, authorization_id, today)
    shown = await run_in_threadpool(authorities.show, party, authorization_id)
    versions = [{"version": v["version"], "issued_by": v["issued_by"], "recorded_at": v["recorded_at"],
                 "fields": [(name, v["statement"].get(name)) for name in FIELDS
                            if v["statement"].get(name) not in (None, "", [])]}
                for v in reversed(shown["versions"])]
    return render(request, "authorization.html", operator=operator, row=_row(summary, today), versions=versions,
                  revocation=summary["revocation"], today=today.isoformat())
