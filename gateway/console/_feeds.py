"""The console's feeds page: each source registry's state in the harmonized view, the double-counting findings,
and the webhook subscriptions with their delivery state.

Read through the feeds' public API (:class:`gateway.feeds.FeedService`: ``store.sources()``,
``view.coverage()``, :func:`gateway.feeds.detect`, ``webhooks.subscriptions()``). The console never pulls a
registry: the view's own refresher keeps it fresh. The double-counting sweep reads the whole view (seconds for a
million blocks), so the console runs it in a worker thread and keeps its findings until a source's content
changes (the sources' sequences are the key); a page waits at most :data:`SWEEP_WAIT` seconds for a new sweep
and otherwise shows the previous one, saying a new one is under way. Finding text and error details come from
registries; the templates escape them.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from gateway.api.services import ServiceSlot
from gateway.console._session import Operator
from gateway.console._web import PREFIX, ConsoleRoute, OperatorDep, render
from gateway.feeds import CODES, FeedService, detect
from gateway.feeds.changes import render_position
from standards.errors import CarbonlinkError

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

#: Seconds a page waits for a sweep it started before showing the previous one.
SWEEP_WAIT = 0.1
#: Findings kept per sweep (the rest are counted; ``GET /v1/feeds/conflicts`` streams them all), and shown on
#: the page (of those the operator may see).
KEPT_FINDINGS = 1000
SHOWN_FINDINGS = 200


@dataclass(frozen=True, slots=True)
class Sweep:
    """One double-counting sweep: over which sources at which sequences, its findings, when and how long."""

    key: tuple[Any, ...]
    findings: list[dict[str, Any]]
    total: int
    finished: float
    seconds: float
    error: str | None = None


@dataclass
class ConflictSweeps:
    """The latest sweep of an app's view and the one under way (one at a time)."""

    latest: Sweep | None = None
    running: tuple[Any, ...] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    done: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.done = threading.Condition(self.lock)

    def _sweep(self, service: FeedService, key: tuple[Any, ...], sources: list[str]) -> None:
        started = time.perf_counter()
        findings: list[dict[str, Any]] = []
        total, error = 0, None
        try:
            for finding in detect(service.store, sources, threshold=service.threshold):
                total += 1
                if len(findings) < KEPT_FINDINGS:
                    findings.append(finding.as_dict())
        except Exception as exc:  # shown on the page; the next page load tries again
            error = f"{getattr(exc, 'code', type(exc).__name__)}: {exc}"
        sweep = Sweep(key, findings, total, time.time(), time.perf_counter() - started, error)
        with self.done:
            self.latest, self.running = sweep, None
            self.done.notify_all()

    def current(self, service: FeedService, included: dict[str, int], wait: float) -> tuple[Sweep | None, bool]:
        """The sweep for the sources' current sequences if it is done within ``wait`` seconds, else the previous
        one; and whether a newer sweep is under way."""
        key = (tuple(sorted(included.items())), service.threshold)
        with self.done:
            if self.latest is None or self.latest.key != key or self.latest.error is not None:
                if self.running is None:
                    self.running = key
                    threading.Thread(target=self._sweep, args=(service, key, sorted(included)),
                                     name="carbonlink-console-sweep", daemon=True).start()
                self.done.wait_for(lambda: self.running is None, timeout=wait)
            return self.latest, self.running is not None


def _sweeps(request: Request) -> ConflictSweeps:
    sweeps = getattr(request.app.state, "console_sweeps", None)
    if sweeps is None:
        sweeps = request.app.state.console_sweeps = ConflictSweeps()
    assert isinstance(sweeps, ConflictSweeps)
    return sweeps


def _public_url(url: str) -> str:
    """A subscriber's URL without user information or query (either may carry a secret)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", "")) + ("?..." if parts.query else "")


def _when(seconds: float | None) -> str:
    if not seconds:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds))


def _read(service: FeedService, operator: Operator, sweeps: ConflictSweeps) -> dict[str, Any]:
    states = service.store.sources()
    coverage = service.view.coverage()
    seen = (lambda source: True) if operator.sees_all else (lambda source: source == operator.registry)
    missing = {m.source: m for m in coverage.missing}
    sources = []
    for name in sorted(set(states) | set(missing)):
        if not seen(name):
            continue
        state, gap = states.get(name), missing.get(name)
        sources.append({"registry": name, "state": state, "missing": gap})
    sweep, sweeping = sweeps.current(service, coverage.included, SWEEP_WAIT)
    findings = [] if sweep is None else [
        f for f in sweep.findings if operator.sees_all or any(r.get("registry") == operator.registry
                                                               for r in f["records"])]
    shown = findings[:SHOWN_FINDINGS]
    subscriptions = []
    for sub in service.webhooks.subscriptions(None if operator.sees_all else operator.registry):
        followed = sub.sources if sub.sources is not None else sorted(states)
        behind = sum(max(0, states[s].seq - sub.position.get(s, 0)) for s in followed if s in states)
        subscriptions.append({"sub": sub, "url": _public_url(sub.url), "position": render_position(sub.position),
                              "behind": behind, "last_attempt": _when(sub.last_attempt_at),
                              "next_attempt": _when(sub.next_attempt) if sub.attempts else "-"})
    return {"sources": sources, "sweep": sweep, "sweeping": sweeping, "findings": shown, "seen": len(findings),
            "sweep_at": _when(sweep.finished) if sweep else "-", "subscriptions": subscriptions,
            "complete": coverage.complete, "codes": CODES}


@router.get("/feeds")
async def feeds(request: Request, operator: OperatorDep) -> Response:
    slot: ServiceSlot[FeedService] = request.app.state.feeds
    try:
        ready = slot.ready
        service = ready if ready is not None else await run_in_threadpool(slot.get)
        data = await run_in_threadpool(_read, service, operator, _sweeps(request))
    except CarbonlinkError as exc:
        return render(request, "feeds.html", operator=operator, unavailable=f"{exc.code}: {exc.message}")
    return render(request, "feeds.html", operator=operator, unavailable=None, **data)
