"""The application factory: `create_app(settings)` wires the store, the limits and one router per area."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import re
import signal
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from api.catalog import changes
from api.catalog import routes as catalog
from api.catalog.dataset import STATISTICS
from api.catalog.landing import LANDING_FIGURES
from api.catalog.releases import HISTORY
from api.http import health
from api.http.cache import BuildCache, PerBuildValues, Rendered
from api.http.client_limit import ClientLimit
from api.http.encoding import Compression
from api.http.errors import install_error_handlers
from api.http.limits import HeaderLimit, RequestDeadline, apply_limits
from api.http.methods import UnknownMethods
from api.http.observability import enable_access_log, install_observability
from api.http.security import ContentSecurity
from api.http.server import SERVE_SETTINGS
from api.http.state import StoreHolder
from api.linked_data import routes as resources
from api.pages import routes as pages
from api.pages.editor import VOCABULARY
from api.pages.ontology import ONTOLOGY
from api.pages.render import error_page
from api.reconcile import routes as reconcile
from api.reconcile.index import RECONCILE_INDEX
from api.rest import by_identifier, docs
from api.rest import routes as rest
from api.rest.by_identifier import Identified
from api.rest.listing import LABEL_INDEX
from api.sparql import routes as sparql
from api.sparql.answers import answer_cache
from api.sparql.readings import readings_cache
from api.sparql.worker import PR_SET_PDEATHSIG
from graph import __version__
from graph.settings import Settings
from graph.store import ReadStore

__all__ = ["create_app", "serve_app"]

KIB, MIB = 2**10, 2**20


class _Service(FastAPI):
    """FastAPI, with requests to `/sparql` sent past its routing, to the route's own app.

    A SPARQL lookup costs the engine a few tens of microseconds; FastAPI's layers around every request (its
    telemetry and body-limit middleware, the exit stack, matching the path against every route) cost more than
    that. Requests to `/sparql` go through the same error handling and the same middleware (request id, metrics,
    access log, header limit, CORS), built from the same list, straight to the one `SparqlRoute` of the router;
    everything else through the whole stack.
    """

    def build_middleware_stack(self) -> ASGIApp:
        everything = super().build_middleware_stack()
        route = next(route for route in self.router.routes if isinstance(route, sparql.SparqlRoute))
        handlers = {key: value for key, value in self.exception_handlers.items() if key not in (500, Exception)}
        chain: ASGIApp = ExceptionMiddleware(route.app, handlers=handlers, debug=self.debug)
        for cls, args, kwargs in reversed(self.user_middleware):
            chain = cls(chain, *args, **kwargs)
        chain = ServerErrorMiddleware(chain, handler=self.exception_handlers.get(Exception), debug=self.debug)
        return _SparqlFirst(everything, chain, route)


class _SparqlFirst:
    def __init__(self, everything: ASGIApp, sparql: ASGIApp, route: sparql.SparqlRoute) -> None:
        self.everything, self.sparql, self.route = everything, sparql, route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/sparql":
            scope["route"] = self.route  # what the router would have set: the metrics count it under /sparql
            await self.sparql(scope, receive, send)
        else:
            await self.everything(scope, receive, send)


def _operation_id(route: APIRoute) -> str:
    """FastAPI's operation id (the route's name and path, then a method), from the route's GET when it answers
    one, else from its first method in alphabetical order: FastAPI takes whichever method the route's set of
    methods gives first, which differs between processes, and clients generated from one description would not
    find their operations in the next."""
    methods = route.methods or {"GET"}
    method = "GET" if "GET" in methods else min(methods)
    return re.sub(r"\W", "_", f"{route.name}{route.path_format}") + f"_{method.lower()}"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.store = StoreHolder(settings)
        yield
        app.state.store.close()

    app = _Service(
        title="smartcity-kg",
        version=__version__,
        summary="An open knowledge graph of smart-city alliances: SPARQL, linked data, REST and a DCAT catalogue.",
        lifespan=lifespan,
        docs_url=None,  # served by api/rest/docs.py with local assets: no page loads anything from another host
        openapi_url=None,  # served by api/rest/docs.py, with a validator
        redoc_url=None,
        # Requests are counted and timed by api/http/observability.py (/metrics); FastAPI's own OpenTelemetry hooks
        # would look up the global providers on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        generate_unique_id_function=_operation_id,
    )
    app.add_middleware(UnknownMethods)  # innermost: a 501 gets the CORS headers and is counted like any answer
    # Public read-only data: any origin may read, nobody sends credentials.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_credentials=False,
        allow_methods=["GET", "HEAD", "POST", "QUERY"],
        allow_headers=["*"],
        expose_headers=[
            "Link",
            "Vary",
            "ETag",
            "Last-Modified",
            "Content-Location",
            "Retry-After",
            "X-SPARQL-Truncated",
            "X-SPARQL-Max-Rows",
            "X-SPARQL-Max-Bytes",
        ],
    )
    app.add_middleware(ContentSecurity)
    app.add_middleware(Compression, minimum_size=1024)
    # Every request has one deadline for the queries it sends, whatever the store: only a store that evaluates
    # them itself (graph.store.QueryServer) reads it, and setting it is one context variable per request.
    app.add_middleware(RequestDeadline, seconds=settings.query_timeout)
    app.add_middleware(HeaderLimit, max_bytes=settings.max_header_bytes)
    install_error_handlers(app, error_page)  # a browser's error is a page, written with the pages' templates
    # This app's caches, values computed once per build and rate counters (two apps in one process share none),
    # sized by its settings, and its caches and values counted in its /metrics under their names.
    app.state.caches = {
        "responses": Rendered(settings.response_cache_mb * MIB),
        "answers": answer_cache(settings.result_cache_mb * MIB),
        "descriptions": BuildCache(settings.description_cache_kb * KIB),
        "vocabulary_triples": BuildCache(settings.vocabulary_cache_kb * KIB),
        "vocabulary_labels": BuildCache(settings.label_cache_kb * KIB),
        "name_pools": BuildCache(settings.name_pool_cache_kb * KIB),
        "readings": readings_cache(settings.reading_cache_kb * KIB),
    }
    per_build = app.state.per_build = PerBuildValues(
        STATISTICS, LANDING_FIGURES, HISTORY, LABEL_INDEX, ONTOLOGY, VOCABULARY, RECONCILE_INDEX
    )
    app.state.short_link_creation = ClientLimit(settings.short_links_per_minute)

    def identified(store: ReadStore) -> Identified:
        """The things by official identifier that /api/v1/lookup reads: this app's reconciliation index."""
        return per_build.get(RECONCILE_INDEX, store)

    app.state.identified = identified
    install_observability(app, app.state.caches, per_build)
    app.router.routes.append(sparql.SparqlRoute())
    # The lookup route comes before REST's /api/v1/{type}, which would otherwise read `lookup` as a type.
    for module in (health, sparql, resources, by_identifier, rest, reconcile, catalog, changes, pages, docs):
        app.include_router(module.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI description, with one operationId per operation: a route answering several methods (GET and
    HEAD, or GET and POST) would otherwise give each the same id, which client generators reject."""
    if app.openapi_schema is None:
        with warnings.catch_warnings():
            # FastAPI warns of the shared ids it is about to write; the loop below makes each one unique.
            warnings.filterwarnings("ignore", message="Duplicate Operation ID", category=UserWarning)
            schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
        for path in schema.get("paths", {}).values():
            for method, operation in path.items():
                if method != "get" and "operationId" in operation:
                    operation["operationId"] = f"{operation['operationId']}_{method}"
                # An invalid parameter is answered with the service's one error body, not FastAPI's default.
                if "422" in operation.get("responses", {}):
                    operation["responses"]["422"] = {
                        "description": "a parameter is not valid",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
                    }
        components = schema.get("components", {}).get("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        schema["paths"]["/sparql"] = sparql.OPENAPI_PATH  # a plain route, which FastAPI does not describe
        app.openapi_schema = schema
    return app.openapi_schema


def serve_app() -> FastAPI:
    """The app of one server process started by `smartcity-kg serve` (uvicorn's factory, imported by name in each
    process): the settings the command was given, and the access log on standard output."""
    _end_with_supervisor()
    enable_access_log()  # one JSON line per request on standard output, with its request id
    settings = Settings.model_validate_json(os.environ[SERVE_SETTINGS])
    apply_limits(settings)  # this process's HTTP protocol reads the limits of these settings
    return create_app(settings)


def _end_with_supervisor() -> None:
    """A server process started by uvicorn's supervisor stops (SIGTERM: gracefully, its query workers with it)
    when the supervisor ends, even killed, rather than serving on alone."""
    supervisor = multiprocessing.parent_process()
    if supervisor is None:  # one process: serving in the command's own
        return
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != supervisor.pid:  # it ended before the line above took effect
        os.kill(os.getpid(), signal.SIGTERM)
