"""The console's conformance page: the runs made through the gateway (``POST /v1/conformance/runs``) and the
conformance certificates the directory lists for each participant, checked against the suite operator's keys.

Runs are read through the runs route's public read (:func:`gateway.api.routes.conformance.runs_of`, newest
first); certificates through :func:`conformance.certificate.verify`. Text in results comes from the registry
under test (observations quote what it answered), so it goes to the templates as data and is escaped there.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from joserfc.jwk import Key

from gateway.api.routes.conformance import Run, runs_of
from gateway.console._web import PREFIX, SECURITY_HEADERS, ConsoleRoute, OperatorDep, render
from gateway.console.errors import ConsoleNotFound
from standards.errors import CarbonlinkError

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

#: Results of a run shown on its page (the JSON report has them all), and observations per result.
SHOWN_RESULTS = 100
SHOWN_OBSERVATIONS = 10
_RANK = {"error": 0, "fail": 1, "skip": 2}
_STYLE = re.compile(rb"<style>(.*?)</style>", re.DOTALL)


# -- certificates -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CertificateView:
    """One certificate of a directory entry as the console shows it: ``status`` is ``valid``, ``expired``,
    ``invalid`` or ``unchecked`` (no suite operator keys configured)."""

    status: str
    kit: str
    issuer: str
    subject: str
    expires: str
    code: str
    message: str


class OperatorKeys:
    """The suite operator's public keys (``CARBONLINK_CONFORMANCE_OPERATOR_KEYS``), read again when the file
    changes; ``None`` when not configured."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cached: tuple[Path, int, dict[str, Key]] | None = None

    def get(self, path: Path | None) -> dict[str, Key] | None:
        if path is None:
            return None
        from conformance.certificate import load_public_keys

        stamp = path.stat().st_mtime_ns if path.exists() else -1
        with self._lock:
            if self._cached is not None and self._cached[:2] == (path, stamp):
                return self._cached[2]
        keys = load_public_keys(path)
        with self._lock:
            self._cached = (path, stamp, keys)
        return keys


OPERATOR_KEYS = OperatorKeys()


def _claims(token: str) -> dict[str, Any]:
    """The claims of a compact JWS, unverified (only to name a certificate whose check failed)."""
    try:
        payload = token.strip().split(".")[1]
        claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def _day(seconds: Any) -> str:
    if not isinstance(seconds, int):
        return "-"
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d")


def _kit_name(claims: Mapping[str, Any]) -> str:
    kit = claims.get("kit")
    if isinstance(kit, Mapping):
        return f"{kit.get('name', '?')}@{kit.get('version', '?')}"
    return "-"


def certificate_views(tokens: Iterable[str], keys_path: Path | None, now: int | None = None) -> list[CertificateView]:
    """Each certificate verified against the operator's keys: signature, ``typ``, validity window."""
    from conformance.certificate import verify

    moment = int(time.time()) if now is None else now
    try:
        keys = OPERATOR_KEYS.get(keys_path)
        keys_problem = None
    except CarbonlinkError as exc:
        keys, keys_problem = None, exc
    views = []
    for token in tokens:
        claims = _claims(token)
        named = {"kit": _kit_name(claims), "issuer": str(claims.get("iss", "-")),
                 "subject": str(claims.get("sub", "-")), "expires": _day(claims.get("exp"))}
        if keys is None:
            why = (f"{keys_problem.code}: {keys_problem.message}" if keys_problem is not None
                   else "no suite operator keys are configured (CARBONLINK_CONFORMANCE_OPERATOR_KEYS)")
            views.append(CertificateView("unchecked", code="-", message=why, **named))
            continue
        try:
            cert = verify(token, keys, now=moment)
        except CarbonlinkError as exc:
            status = "expired" if exc.code == "CONFORMANCE.CERTIFICATE_EXPIRED" else "invalid"
            views.append(CertificateView(status, code=exc.code, message=exc.message, **named))
            continue
        views.append(CertificateView("valid", kit=f"{cert.kit}@{cert.kit_version}", issuer=cert.issuer,
                                     subject=cert.target, expires=_day(cert.expires_at), code="-",
                                     message=f"verified against the suite operator's keys; valid until "
                                             f"{_day(cert.expires_at)}"))
    return views


# -- runs -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResultView:
    verdict: str
    test: str
    title: str
    required: bool
    subject: str
    clause: str
    reason: str
    observations: list[dict[str, str]]
    more: int


@dataclass(slots=True)
class RunView:
    run: Run
    counts: dict[str, int] = field(default_factory=dict)
    passed: bool | None = None
    failures: list[ResultView] = field(default_factory=list)
    failures_total: int = 0

    @property
    def started(self) -> str:
        return datetime.fromtimestamp(self.run.started_at, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _tests(document: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    suite = document.get("suite") or {}
    return {str(t.get("id")): t for g in suite.get("groups") or [] for t in g.get("tests") or []}


def run_view(run: Run, *, with_failures: bool) -> RunView:
    """A run's summary and (``with_failures``) its failures first: errors and failures of required tests, then
    of optional ones, then skips; each with its clause and observations (rule, location, expected, found)."""
    view = RunView(run)
    document = run.result
    if document is None:
        return view
    view.counts = {str(k): int(v) for k, v in (document.get("counts") or {}).items()}
    view.passed = bool(document.get("passed"))
    tests = _tests(document)
    picked = [r for r in document.get("results") or [] if r.get("verdict") in _RANK]
    view.failures_total = len(picked)
    if not with_failures:
        return view
    picked.sort(key=lambda r: (not tests.get(str(r.get("test")), {}).get("required", True), _RANK[r["verdict"]]))
    for result in picked[:SHOWN_RESULTS]:
        spec = tests.get(str(result.get("test")), {})
        observations = [o for o in result.get("observations") or [] if isinstance(o, Mapping)]
        view.failures.append(ResultView(
            verdict=str(result["verdict"]), test=str(result.get("test")), title=str(spec.get("title", "")),
            required=bool(spec.get("required", True)), subject=str(result.get("subject", "")),
            clause=str((spec.get("clause") or {}).get("id", "-")), reason=str(result.get("reason", "")),
            observations=[{k: str(o.get(k, "")) for k in ("rule", "location", "expected", "found", "message")}
                          for o in observations[:SHOWN_OBSERVATIONS]],
            more=max(0, len(observations) - SHOWN_OBSERVATIONS)))
    return view


def _run(request: Request, run_id: str, operator: OperatorDep) -> Run:
    for run in runs_of(request.app).listing(None if operator.sees_all else operator.registry):
        if run.id == run_id:
            return run
    raise ConsoleNotFound(f"there is no conformance run {run_id[:40]!r} for you to see")


@router.get("/conformance")
def conformance(request: Request, operator: OperatorDep) -> Response:
    runs = runs_of(request.app).listing(None if operator.sees_all else operator.registry)
    return render(request, "conformance.html", operator=operator,
                  runs=[run_view(r, with_failures=False) for r in runs])


@router.get("/conformance/runs/{run_id}")
def conformance_run(request: Request, run_id: str, operator: OperatorDep) -> Response:
    view = run_view(_run(request, run_id, operator), with_failures=True)
    return render(request, "conformance_run.html", operator=operator, view=view,
                  shown_observations=SHOWN_OBSERVATIONS)


@router.get("/conformance/runs/{run_id}/results.json")
def conformance_json(request: Request, run_id: str, operator: OperatorDep) -> Response:
    """The results document (``conformance/schema/result.schema.json``), as the runs route returns it."""
    run = _run(request, run_id, operator)
    if run.result is None:
        raise ConsoleNotFound("this run has no results (it is running, or the suite could not run)")
    return Response(orjson.dumps(run.result, option=orjson.OPT_INDENT_2), media_type="application/json",
                    headers={"Content-Disposition": f'inline; filename="results-{run.id}.json"'})


@router.get("/conformance/runs/{run_id}/report.html")
def conformance_html(request: Request, run_id: str, operator: OperatorDep) -> Response:
    """The suite's own HTML report of the run. It is one self-contained page with one ``<style>`` element and
    no script; its Content-Security-Policy allows exactly that style (by its SHA-256) and nothing else."""
    from conformance.reports import html_report

    run = _run(request, run_id, operator)
    if run.outcome is None:
        raise ConsoleNotFound("this run has no results (it is running, or the suite could not run)")
    page = html_report(run.outcome)
    styles = " ".join("'sha256-" + base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode() + "'"
                      for m in _STYLE.finditer(page))
    allowed = styles or "'none'"
    policy = SECURITY_HEADERS["Content-Security-Policy"].replace("style-src 'self'", f"style-src {allowed}")
    return Response(page, media_type="text/html; charset=utf-8",
                    headers={"Content-Security-Policy": policy.replace("script-src 'self'", "script-src 'none'")})
