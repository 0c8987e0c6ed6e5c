"""Prometheus exposition: ``GET /metrics``, for callers whose token carries the ``metrics:read`` scope.

The counters name registries and their message volumes, so they are not public: a scraper is a
participant of the directory with the ``metrics:read`` scope and scrapes with a sender-constrained token
(an mTLS-bound ``Bearer`` token suits Prometheus' ``authorization`` and ``tls_config``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.api.deps import CurrentCaller, require_scope
from gateway.transfers.metrics import METRICS

router = APIRouter(tags=["operations"])

METRICS_SCOPE = "metrics:read"
_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing, invalid or unbound token / DPoP proof (problem+json)"},
    403: {"description": "the token lacks the metrics:read scope"},
}


@router.get("/metrics", response_class=Response, include_in_schema=True, responses=_RESPONSES)
def read_metrics(caller: CurrentCaller) -> Response:
    """Counters and latencies per registry and message kind, in the Prometheus text format (scope
    ``metrics:read``)."""
    require_scope(caller, METRICS_SCOPE)
    return Response(generate_latest(METRICS.registry), media_type=CONTENT_TYPE_LATEST,
                    headers={"Cache-Control": "no-store"})
