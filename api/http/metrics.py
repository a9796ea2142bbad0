"""`/metrics`: the service's counters and latencies in the Prometheus text format."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response

from api.http.forms import FormRoute

if TYPE_CHECKING:  # api.http.observability includes this router: importing it here at run time would be circular
    from api.http.observability import Metrics

__all__ = ["router"]

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """With several server processes, this one's figures are written for the others while it runs."""
    registry: Metrics = app.state.metrics
    if registry.shared is None:
        yield
        return
    sharing = asyncio.get_running_loop().create_task(registry.share())
    try:
        yield
    finally:
        sharing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sharing


router = APIRouter(tags=["service"], lifespan=lifespan, route_class=FormRoute)


@router.api_route("/metrics", methods=["GET", "HEAD"], include_in_schema=False)
async def metrics(request: Request) -> Response:
    # Async on purpose: the registry is only ever touched on the event loop, so it is read there too.
    registry: Metrics = request.app.state.metrics
    return Response(registry.render(), media_type=PROMETHEUS_TEXT)
