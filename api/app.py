"""The application factory: `create_app(settings)` wires the store, the limits and one router per area."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from starlette.routing import Route

from api.encoding import Compression
from api.errors import install_error_handlers
from api.limits import HeaderLimit
from api.observability import install_observability
from api.reconcile import lookup
from api.reconcile import routes as reconcile
from api.routes import catalog, changes, docs, health, pages, resources, rest, sparql
from api.security import ContentSecurity
from api.state import StoreHolder
from graph import __version__
from graph.settings import Settings

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.store = StoreHolder(settings)
        yield
        app.state.store.close()

    app = FastAPI(
        title="smartcity-kg",
        version=__version__,
        summary="An open knowledge graph of smart-city alliances: SPARQL, linked data, REST and a DCAT catalogue.",
        lifespan=lifespan,
        docs_url=None,  # served by api/routes/docs.py with local assets: no page loads anything from another host
        redoc_url=None,
        # Requests are counted and timed by api/observability.py (/metrics); FastAPI's own OpenTelemetry hooks
        # would look up the global providers on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    # Public read-only data: any origin may read, nobody sends credentials.
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=False,
                       allow_methods=["GET", "HEAD", "POST", "QUERY"], allow_headers=["*"],
                       expose_headers=["Link", "Vary", "ETag", "Last-Modified", "Content-Location", "Retry-After",
                                       "X-SPARQL-Truncated", "X-SPARQL-Max-Rows", "X-SPARQL-Max-Bytes"])
    app.add_middleware(ContentSecurity)
    app.add_middleware(Compression, minimum_size=1024)
    app.add_middleware(HeaderLimit, max_bytes=settings.max_header_bytes)
    install_error_handlers(app)
    install_observability(app)
    app.router.routes.append(Route("/sparql", sparql.SparqlApp(), methods=["GET", "HEAD", "POST", "QUERY"]))
    # The lookup route comes before REST's /api/v1/{type}, which would otherwise read `lookup` as a type.
    for module in (health, sparql, resources, lookup, rest, reconcile, catalog, changes, pages, docs):
        app.include_router(module.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI description, with one operationId per operation: a route answering several methods (GET and
    HEAD, or GET and POST) would otherwise give each the same id, which client generators reject."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
        for path in schema.get("paths", {}).values():
            for method, operation in path.items():
                if method != "get" and "operationId" in operation:
                    operation["operationId"] = f"{operation['operationId']}_{method}"
        app.openapi_schema = schema
    return app.openapi_schema
