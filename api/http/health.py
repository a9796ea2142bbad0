"""`/health`: is a published graph being served (on a remote server: is it answering now), how big, built when."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.http.deps import StoreHolderDep
from api.http.errors import problem_response
from api.http.forms import FormRoute
from graph.published import StoreUnavailableError

__all__ = ["router"]

router = APIRouter(tags=["service"], route_class=FormRoute)
log = logging.getLogger("smartcity_kg.api")


@router.api_route("/health", methods=["GET", "HEAD"], summary="Whether the service has a graph to serve")
def health(holder: StoreHolderDep) -> JSONResponse:
    try:
        store = holder.check()
        manifest = store.manifest
    except StoreUnavailableError as error:  # a remote server unreachable or answering nonsense included
        log.warning("health: %s", error)
        # 503 whatever the kind (nonsense from a remote server is 502 elsewhere): the service cannot answer now.
        return problem_response(StoreUnavailableError(str(error), error.public))
    # `release` is the data's version (2026.12.1), `version` the software's.
    return JSONResponse(
        {
            "status": "ok",
            "triples": manifest.triples,
            "built": manifest.modified,
            "build": manifest.build_id,
            "release": manifest.release or None,
            "previous_release": manifest.previous_release,
            "version": manifest.version,
            "store": store.name,
        }
    )
