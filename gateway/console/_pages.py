"""The console's pages: messages (and one message), evidence, participants, health; and its static files.

Every page needs a console session (:data:`OperatorDep`); an operator of one registry sees the records its
registry sent or received, the network operator sees all. Forms (suspend, reinstate, verify, export) are
POSTs checked for CSRF, and each action goes on record first (:mod:`gateway.console._actions`).
"""

from __future__ import annotations

import shutil
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from gateway.console import _actions, _plots
from gateway.console._conformance import certificate_views
from gateway.console._reader import MessageFilter, WindowRow
from gateway.console._session import Operator
from gateway.console._views import OUTCOME_WORDS, message_view
from gateway.console._web import (
    PREFIX,
    STATIC_FILES,
    ConsoleRoute,
    OperatorDep,
    StateDep,
    checked_form,
    evidence_log,
    render,
    static_file,
    transfer_slot,
    trust_of,
)
from gateway.console.errors import ConsoleInputInvalid, ConsoleNotFound
from gateway.protocol import MessageKind
from gateway.transfers._health import EVIDENCE, IDEMPOTENCY
from gateway.transfers.ratelimit import Limiter, Usage
from standards.errors import CarbonlinkError

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

FILTER_OUTCOMES = ("accepted", "rejected", "fault", "delivering")
MAX_FILTER_CHARS = 128
#: The latency plot reads at most this many of the latest receipts in the window.
LATENCY_RECEIPTS = 1000


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ConsoleInputInvalid(f"{name} is a date like 2026-12-06") from exc


def _message_filter(kind: str, counterpart: str, outcome: str, day_from: str, day_to: str) -> MessageFilter:
    if kind and kind not in {k.value for k in MessageKind}:
        raise ConsoleInputInvalid(f"there is no message kind {kind[:40]!r}")
    if outcome and outcome not in FILTER_OUTCOMES:
        raise ConsoleInputInvalid(f"the outcome is one of {', '.join(FILTER_OUTCOMES)}")
    if len(counterpart) > MAX_FILTER_CHARS:
        raise ConsoleInputInvalid("the counterpart is a participant id")
    return MessageFilter(kind=kind or None, counterpart=counterpart.strip() or None, outcome=outcome or None,
                         day_from=_day(day_from, "from"), day_to=_day(day_to, "to"))


@router.get("/messages")
def messages(request: Request, operator: OperatorDep, state: StateDep, kind: str = "", counterpart: str = "",
             outcome: str = "", day_from: str = "", day_to: str = "", before: int | None = None) -> Response:
    wanted = _message_filter(kind, counterpart, outcome, day_from, day_to)
    size = state.section.console_page_size
    rows = state.reader.messages(wanted, operator.registry, before, size + 1)
    more = rows[size - 1].seq if len(rows) > size else None
    query = {"kind": kind, "counterpart": counterpart, "outcome": outcome, "day_from": day_from, "day_to": day_to}
    participants = [p.id for p in trust_of(request).directory.current().participants]
    return render(request, "messages.html", operator=operator, rows=rows[:size], more=more, query=query,
                  kinds=[k.value for k in MessageKind], outcomes=FILTER_OUTCOMES, participants=participants,
                  outcome_words=OUTCOME_WORDS, partial=request.headers.get("hx-request") == "true")


@router.get("/messages/{seq}")
def message(request: Request, seq: int, operator: OperatorDep, state: StateDep) -> Response:
    record = state.reader.record(seq)
    if record is None or record.kind.startswith("console.") or not operator.may_see(record.sender, record.receiver):
        raise ConsoleNotFound(f"there is no message record {seq} for you to see")
    view = message_view(record, state.reader.next_hash(seq))
    related = [r for r in state.reader.message_records(record.sender, record.message_id) if r.seq != seq]
    return render(request, "message.html", operator=operator, view=view, related=related)


@router.get("/evidence")
def evidence(request: Request, operator: OperatorDep, state: StateDep) -> Response:
    head_seq, head_hash, head_ts = state.reader.head()
    verifications = state.reader.audit(1, kind=_actions.VERIFY)
    audit = state.reader.audit(25)
    if not operator.sees_all:
        audit = [r for r in audit if r.receiver == operator.registry or r.sender == operator.subject]
    return render(request, "evidence.html", operator=operator, head_seq=head_seq, head_hash=head_hash,
                  head_ts=head_ts, first_ts=state.reader.first_ts(),
                  last=verifications[0] if verifications else None, audit=audit, url=_public_url(state.reader.url))


def _public_url(url: str) -> str:
    """The store's URL without credentials (no secrets in pages)."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rpartition('@')[2]}" if sep else url


@router.post("/evidence/verify")
async def verify(request: Request, operator: OperatorDep) -> Response:
    await checked_form(request, operator.sid)
    log = await run_in_threadpool(evidence_log, request)
    await run_in_threadpool(_actions.verify, trust_of(request), log, operator)
    return RedirectResponse(PREFIX + "/evidence", status_code=303)


@router.post("/evidence/export")
async def export(request: Request, operator: OperatorDep) -> Response:
    await checked_form(request, operator.sid)
    log = await run_in_threadpool(evidence_log, request)
    done = await run_in_threadpool(_actions.export, trust_of(request), log, operator)
    folder = done.path.parent
    return FileResponse(done.path, media_type="application/x-ndjson", filename=done.path.name,
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


@router.get("/participants")
def participants(request: Request, operator: OperatorDep) -> Response:
    store = trust_of(request).directory
    operator_keys = trust_of(request).settings.conformance.conformance_operator_keys
    directory = store.current()
    signed = store.signed() or directory
    now = time.time()
    entries = []
    for entry in signed.participants:
        keys = [{"kid": k.get("kid", "-"), "alg": k.get("alg", "-"), "kty": k.get("kty", "-"),
                 "expires": _expiry(k.get("exp"), now)} for k in (entry.jwks or {}).get("keys", [])]
        entries.append({"entry": entry, "keys": keys, "held": entry.id in store.held,
                        "roles": _roles(entry.scopes), "own": entry.id == operator.registry,
                        "certificates": certificate_views(entry.conformance_certificates, operator_keys, int(now))})
    expires_in = int(directory.exp - now)
    return render(request, "participants.html", operator=operator, entries=entries, directory=signed,
                  expires_in=expires_in, source=_public_url(store.describe))


def _roles(scopes: list[str]) -> list[str]:
    words = {"messages:send": "sends messages", "peers:read": "reads the directory", "metrics:read": "reads metrics",
             "console:registry": "console: own registry", "console:network": "console: network operator"}
    return [words.get(s, s) for s in scopes]


def _expiry(value: Any, now: float) -> str:
    """A key's expiry from its JWK ``exp`` (seconds since the epoch), when it has one."""
    if not isinstance(value, int):
        return "no expiry in the directory (valid while the directory lists it)"
    when = datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M UTC")
    days = (value - now) / 86400
    return f"{when} (expired)" if days < 0 else f"{when} (in {days:.0f} days)"


@router.post("/participants/{participant_id}/{action}")
async def hold(request: Request, participant_id: str, action: str, operator: OperatorDep) -> Response:
    if action not in ("suspend", "reinstate"):
        raise ConsoleNotFound("the action is suspend or reinstate")
    form = await checked_form(request, operator.sid)
    log = await run_in_threadpool(evidence_log, request)
    await run_in_threadpool(lambda: _actions.set_hold(trust_of(request), log, operator, participant_id,
                                                      suspend=action == "suspend", reason=form.get("reason", "")))
    return RedirectResponse(PREFIX + "/participants", status_code=303)


@router.get("/health")
def health(request: Request, operator: OperatorDep, state: StateDep) -> Response:
    trust = trust_of(request)
    settings = state.settings
    stores = _stores(request)
    since = (datetime.now(UTC) - timedelta(days=state.section.console_plot_days)).strftime("%Y-%m-%d")
    lease = settings.transfers.delivery_lease_seconds
    recent = (datetime.now(UTC) - timedelta(seconds=lease)).strftime("%Y-%m-%dT%H:%M:%S")
    window = state.reader.window(operator.registry, state.section.console_plot_records, since, recent)
    in_flight = _in_flight(window)
    faults = [(row, settings.transfers.policy_for(row.receiver).retry_after)
              for row in state.reader.faults(operator.registry, 20)]
    transfers = settings.transfers
    limits = [("default", transfers.rate_limit_per_minute, transfers.rate_limit_burst)] + [
        (peer, p.per_minute, p.burst) for peer, p in sorted(transfers.rate_limit_peers.items())
        if operator.may_see(peer)]
    usage, usage_error = _usage(request, operator)
    times = state.reader.receipt_times(operator.registry, state.section.console_plot_records, since,
                                       LATENCY_RECEIPTS)
    plots = [_plots.per_day(window), _plots.latency(times), _plots.faults(window, operator.registry)]
    return render(request, "health.html", operator=operator, stores=stores, faults=faults, limits=limits,
                  limit_store="shared (Redis)" if transfers.rate_limit_store != "memory" else "this process",
                  in_flight=in_flight, plots=plots, usage=usage, usage_error=usage_error,
                  window=sum(r.count for r in window), since=since,
                  receipts=len(times),
                  plot_records=state.section.console_plot_records, replay=trust.settings.replay_store != "memory")


def _usage(request: Request, operator: Operator) -> tuple[list[Usage], str | None]:
    """Each sending registry's rate-limit budget in use now (the operator's own, or every one)."""
    senders = [p.id for p in trust_of(request).directory.current().participants
               if p.message_kinds and operator.may_see(p.id)]
    limiter: Limiter = request.app.state.rate_limiter
    try:
        return limiter.usage(senders), None
    except CarbonlinkError as exc:
        return [], f"{exc.code}: {exc.message}"


def _stores(request: Request) -> list[dict[str, Any]]:
    """The stores of the transfer path, as the health check sees them (probed now)."""
    trust = trust_of(request)
    rows: list[dict[str, Any]] = []
    try:
        directory = trust.directory.current()
        rows.append({"name": "participant directory", "ok": True,
                     "detail": f"sequence {directory.sequence}, expires in {int(directory.exp - time.time())} s"})
    except CarbonlinkError as exc:
        rows.append({"name": "participant directory", "ok": False, "detail": f"{exc.code}: {exc.message}"})
    try:
        trust.replay.ping()
        rows.append({"name": "replay store", "ok": True, "detail": "reachable"})
    except CarbonlinkError as exc:
        rows.append({"name": "replay store", "ok": False, "detail": f"{exc.code}: {exc.message}"})
    try:
        service = transfer_slot(request).get()
    except CarbonlinkError as exc:
        return [*rows, {"name": "transfer service", "ok": False, "detail": f"{exc.code}: {exc.message}"}]
    for name, probe in ((EVIDENCE, service.recorder.evidence.probe), (IDEMPOTENCY, service.idempotency.ping)):
        try:
            with service.health.watch(name):
                probe()
            rows.append({"name": name.replace("_", " "), "ok": True, "detail": "written and read now"})
        except CarbonlinkError as exc:
            rows.append({"name": name.replace("_", " "), "ok": False, "detail": f"{exc.code}: {exc.message}"})
    return rows


def _in_flight(window: list[WindowRow]) -> int:
    """Deliveries under way: intents (``delivering``) within the lease not yet closed by a receipt or a fault
    (each closed delivery has one intent and one closing record; the window starts at a record boundary)."""
    opened = sum(r.count for r in window if r.recent and r.outcome == "delivering")
    closed = sum(r.count for r in window if r.recent and r.outcome in ("accepted", "rejected", "fault"))
    return max(0, opened - closed)


@router.get("/static/{name}")
def static(name: str) -> Response:
    content = static_file(name)
    if content is None:
        raise ConsoleNotFound("no such file")
    return Response(content, media_type=STATIC_FILES[name], headers={"Cache-Control": "public, max-age=3600"})
