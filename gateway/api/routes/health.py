"""``/healthz``: deep health (signing key, directory, replay store); 503 when any check fails."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from gateway.api.deps import TrustDep
from standards.errors import CarbonlinkError

router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    responses={503: {"description": "a check failed, or maintenance mode"}},
    summary="Deep health check",
)
def healthz(trust: TrustDep) -> JSONResponse:
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
    ok = all(c["ok"] for c in checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "failing", "environment": trust.settings.environment, "checks": checks},
        status_code=200 if ok else 503,
        headers={"Cache-Control": "no-store"},
    )
