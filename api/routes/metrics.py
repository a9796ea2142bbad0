"""`/metrics`: the service's counters and latencies in the Prometheus text format."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import Response

if TYPE_CHECKING:  # api.observability includes this router: importing it here at run time would be circular
    from api.observability import Metrics

__all__ = ["router"]

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"

router = APIRouter(tags=["service"])


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    # Async on purpose: the registry is only ever touched on the event loop, so it is read there too.
    registry: Metrics = request.app.state.metrics
    return Response(registry.render(), media_type=PROMETHEUS_TEXT)
