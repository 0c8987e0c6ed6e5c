"""Prometheus exposition: ``GET /metrics``."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.transfers.metrics import METRICS

router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=Response, include_in_schema=True)
def read_metrics() -> Response:
    """Counters and latencies per registry and message kind, in the Prometheus text format."""
    return Response(generate_latest(METRICS.registry), media_type=CONTENT_TYPE_LATEST)
