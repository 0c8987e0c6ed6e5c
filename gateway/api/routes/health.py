"""``/healthz``: deep health (signing key, directory, replay store, and the transfer path's evidence log
and idempotency store); 503 when any check fails.

The stores are probed on every call (the evidence log with a write that is rolled back), so a
store that failed shows as ``degraded`` with its name and code, and as ok again once it works.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gateway.api.deps import TrustDep
from gateway.api.services import ServiceSlot
from gateway.transfers._health import EVIDENCE, IDEMPOTENCY
from gateway.transfers.service import TransferService
from standards.errors import CarbonlinkError

router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    responses={503: {"description": "a check failed, or maintenance mode"}},
    summary="Deep health check",
)
def healthz(request: Request, trust: TrustDep) -> JSONResponse:
    checks: dict[str, Any] = {}
    try:
        trust.keyring.self_test()
        checks["signing_key"] = {"ok": True, "kid": trust.keyring.current.kid}
    except CarbonlinkError as exc:
        checks["signing_key"] = {"ok": False, "code": exc.code, "detail": exc.message}
    try:
        d = trust.directory.current()
        checks["directory"] = {
            "ok": True,
            "sequence": d.sequence,
            "expires_in": int(d.exp - time.time()),
            "participants": len(d.participants),
        }
        if trust.directory.last_error is not None:
            checks["directory"]["last_refresh_error"] = trust.directory.last_error.code
    except CarbonlinkError as exc:
        checks["directory"] = {"ok": False, "code": exc.code, "detail": exc.message}
    try:
        trust.replay.ping()
        checks["replay_store"] = {
            "ok": True,
            "kind": "redis" if trust.settings.replay_store != "memory" else "memory",
        }
    except CarbonlinkError as exc:
        checks["replay_store"] = {"ok": False, "code": exc.code, "detail": exc.message}
    stores = _store_checks(getattr(request.app.state, "transfers", None))
    ok = all(c["ok"] for c in checks.values())
    status = "ok" if ok else "failing"
    if ok and not all(c["ok"] for c in stores.values()):
        status, ok = "degraded", False
    checks.update(stores)
    return JSONResponse(
        {"status": status, "environment": trust.settings.environment, "checks": checks},
        status_code=200 if ok else 503,
        headers={"Cache-Control": "no-store"},
    )


def _store_checks(slot: ServiceSlot[TransferService] | None) -> dict[str, Any]:
    """Probe the transfer path's stores (building the service if a store was down when it started)."""
    if slot is None:
        return {}
    try:
        service = slot.get()
    except CarbonlinkError as exc:
        return {"transfer_service": {"ok": False, "code": exc.code, "detail": exc.message}}
    checks: dict[str, Any] = {}
    for name, probe in ((EVIDENCE, service.recorder.evidence.probe), (IDEMPOTENCY, service.idempotency.ping)):
        try:
            with service.health.watch(name):
                probe()
            checks[name] = {"ok": True}
        except CarbonlinkError as exc:
            checks[name] = {"ok": False, "code": exc.code, "detail": exc.message}
    return checks
