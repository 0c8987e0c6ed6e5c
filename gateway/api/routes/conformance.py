"""``POST /v1/conformance/runs`` and ``GET /v1/conformance/runs/{id}``: a registry asks the gateway to run
an endpoint kit against its own endpoint (scope ``conformance:run``).

The gateway runs ``registry-endpoint`` with its own keyring and issuer against the messages endpoint
the directory lists for the caller - never a URL the caller names, so the route cannot be turned
against another host - in a worker thread, and keeps the last runs in memory. The result is the same
document as ``carbonlink conformance run`` writes (``conformance/schema/result.schema.json``).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from gateway.api.deps import CurrentCaller, TrustDep, require_scope
from gateway.trust.setup import Trust

if TYPE_CHECKING:
    from conformance import RunResult

router = APIRouter(prefix="/v1", tags=["conformance"])

RUN_SCOPE = "conformance:run"
#: Kits the gateway runs itself: those that need no file and no private key of the caller's.
SERVER_KITS = ("registry-endpoint",)
MAX_RUNS = 200
_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing, invalid or unbound token / DPoP proof (problem+json)"},
    403: {"description": "insufficient scope"},
    404: {"description": "no such run of the caller's, or no such kit (CONFORMANCE.RUN_UNKNOWN, "
                         "CONFORMANCE.UNKNOWN_KIT)"},
    422: {"description": "a kit the gateway does not run, or no messages endpoint in the caller's directory entry"},
}


class RunRequest(BaseModel):
    kit: str = Field("registry-endpoint", max_length=100, pattern=r"^[a-z0-9-]+(@[0-9A-Za-z.]+)?$",
                     description="NAME[@VERSION]; the gateway runs registry-endpoint only")
    max_answer_seconds: float = Field(2.0, gt=0, le=60)


@dataclass
class Run:
    id: str
    owner: str
    kit: str
    target: str
    status: str = "running"
    result: dict[str, Any] | None = None
    error: dict[str, str] | None = None
    started_at: float = field(default_factory=time.time)
    #: the run's results as the suite returned them (for the HTML report); ``result`` is their document
    outcome: RunResult | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def view(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "kit": self.kit, "target": self.target,
                "result": self.result, "error": self.error, "links": {"self": f"/v1/conformance/runs/{self.id}"}}


class Runs:
    """The last :data:`MAX_RUNS` runs, by id."""

    def __init__(self) -> None:
        self._runs: OrderedDict[str, Run] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, run: Run) -> None:
        with self._lock:
            self._runs[run.id] = run
            while len(self._runs) > MAX_RUNS:
                self._runs.popitem(last=False)

    def get(self, run_id: str, owner: str) -> Run:
        from conformance.errors import RunUnknown

        with self._lock:
            run = self._runs.get(run_id)
        if run is None or run.owner != owner:
            raise RunUnknown(f"no conformance run {run_id!r} of yours")
        return run

    def listing(self, owner: str | None = None) -> list[Run]:
        """The runs kept (of ``owner``, or every run), newest first: a read for the operator console."""
        with self._lock:
            runs = list(self._runs.values())
        return [run for run in reversed(runs) if owner is None or run.owner == owner]


def runs_of(app: Any) -> Runs:
    """The runs an app keeps (created on first use)."""
    runs = getattr(app.state, "conformance_runs", None)
    if runs is None:
        runs = app.state.conformance_runs = Runs()
    assert isinstance(runs, Runs)
    return runs


def _runs(request: Request) -> Runs:
    return runs_of(request.app)


def _execute(run: Run, trust: Trust, options: dict[str, Any]) -> None:
    from conformance import Target, default_kits, run_kit
    from standards.errors import CarbonlinkError

    try:
        result = run_kit(default_kits().get(run.kit), Target(run.target, options))
        run.outcome, run.result, run.status = result, result.as_dict(), "done"
    except CarbonlinkError as exc:
        run.error, run.status = {"code": exc.code, "message": exc.message}, "failed"
    except Exception as exc:  # the suite failed: reported on the run, never a 500 later
        run.error, run.status = {"code": "CONFORMANCE.ERROR", "message": f"{type(exc).__name__}: {exc}"}, "failed"
    finally:
        run.done.set()


@router.post("/conformance/runs", status_code=202, responses=_RESPONSES,
             summary="Run an endpoint kit against the caller's own registry endpoint (scope conformance:run)")
def start_run(body: RunRequest, caller: CurrentCaller, trust: TrustDep, request: Request) -> JSONResponse:
    from conformance import default_kits
    from conformance.errors import KitNotServed, TargetUnusable

    require_scope(caller, RUN_SCOPE)
    kit = default_kits().get(body.kit)
    if kit.name not in SERVER_KITS:
        raise KitNotServed(f"the gateway runs {', '.join(SERVER_KITS)} only; run {kit.name} with "
                           "`carbonlink conformance run`")
    participant = caller.participant
    target = participant.endpoints.messages
    if not target:
        raise TargetUnusable("your directory entry names no messages endpoint")
    options = {"registry_id": participant.id, "audience": participant.issuer or participant.id,
               "party": participant.party, "gateway_keyring": trust.keyring, "gateway_issuer": trust.outbound.client_id,
               "max_answer_seconds": body.max_answer_seconds}
    if participant.jwks_uri:
        options["jwks"] = participant.jwks_uri
    run = Run(id=secrets.token_urlsafe(12), owner=participant.id, kit=f"{kit.name}@{kit.version}", target=str(target))
    _runs(request).add(run)
    threading.Thread(target=_execute, args=(run, trust, options), name=f"conformance-{run.id}", daemon=True).start()
    return JSONResponse(run.view(), status_code=202, headers={"Location": f"/v1/conformance/runs/{run.id}"})


@router.get("/conformance/runs/{run_id}", responses=_RESPONSES,
            summary="A conformance run of the caller's: status, then the results document")
def get_run(run_id: str, caller: CurrentCaller, request: Request) -> dict[str, Any]:
    require_scope(caller, RUN_SCOPE)
    return _runs(request).get(run_id, caller.participant.id).view()
