"""`/sparql`: the SPARQL 1.1 Protocol endpoint, read-only; queries are evaluated in killable worker processes,
except lookups of one thing's triples, whose cost is bounded (see `api.sparql_guard._is_lookup`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager

import pyoxigraph as ox
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

from api.http.errors import error_response
from api.http.negotiation import NotAcceptableError, negotiate
from api.http.observability import Metrics
from api.http.state import StoreHolder
from api.pages.editor import editor_page
from api.sparql import Answer, AnswerCache, ClientBudget, Job, QueryFailedError, QueryPool
from api.sparql.answer_stream import StreamedAnswer
from api.sparql.answers import cost
from api.sparql.remote_pool import SERVER_BYTES, RemotePool
from api.sparql.request import (
    BODY_METHODS,
    GRAPH_NAMES,
    GRAPH_TYPES,
    MEDIA_TYPES,
    RESULT_TYPES,
    choose_formats,
    read_request,
)
from api.sparql.service_description import describe_service
from graph.prefixes import prefixes
from graph.settings import Settings
from graph.sparql_guard import Analysis, QueryRefusedError, analyse_query, check_dataset, check_standard
from graph.store import ReadStore

__all__ = ["SparqlApp", "SparqlEndpoint", "SparqlRoute", "router"]

DESCRIPTION_TYPES = {
    "text/turtle": "ttl",
    "text/html": "html",
    "application/ld+json": "jsonld",
    "application/n-triples": "nt",
    "application/rdf+xml": "rdfxml",
}
QUERY_METHODS = ("GET", "HEAD", "POST", "QUERY")
TRUNCATED = "X-SPARQL-Truncated"
LONG_QUERY = 4096


class SparqlEndpoint:
    """What /sparql keeps between requests: the worker pool, the clients' time shares, the graphs of the build."""

    def __init__(self, settings: Settings, holder: StoreHolder, answers: AnswerCache, metrics: Metrics) -> None:
        self.settings = settings
        self.record = metrics.record  # the events of this app's /metrics
        self.holder = holder
        namespaces = prefixes(settings.namespace)
        # The same limits in front of a remote server as in front of the worker processes.
        self.pool: QueryPool | RemotePool = (
            QueryPool(
                workers=settings.query_workers,
                max_pending=settings.max_pending_queries,
                timeout=settings.query_timeout,
                memory_mb=settings.query_memory_mb,
                rest_mb=settings.worker_rest_mb,
                prefixes=namespaces,
            )
            if holder.remote is None
            else RemotePool(
                holder.remote,
                workers=settings.query_workers,
                max_pending=settings.max_pending_queries,
                timeout=settings.query_timeout,
                max_bytes=SERVER_BYTES * settings.max_answer_bytes,
                prefixes=namespaces,
            )
        )
        self.budget = ClientBudget(settings.client_query_seconds)
        self.answers = answers
        self._graphs: tuple[str, frozenset[str]] | None = None
        self._running: dict[Job, asyncio.Future[Answer]] = {}
        self._in_flight: dict[str, int] = {}  # client → its queries running or waiting for a worker

    async def graphs(self, store: ReadStore) -> frozenset[str]:
        """The names of the graphs in the current build (listed once per build, in a thread)."""
        known = self._graphs
        if known is None or known[0] != store.manifest.build_id:
            known = self._graphs = (store.manifest.build_id, await run_in_threadpool(store.graph_names))
        return known[1]

    async def answer(self, request: Request) -> Response:
        settings = self.settings
        try:
            asked = await read_request(request, settings.max_query_bytes)
            store = self.holder.get()
            if asked.query is None:
                if request.method in BODY_METHODS:
                    raise QueryRefusedError(
                        400, "the request has no query parameter (nor an application/sparql-query body); send query=..."
                    )
                return await self.describe(request, store, asked.formats)
            endpoint = self.endpoint_url(request)
            analysis = await self.analysed(_client(request), asked.query, endpoint)
            if isinstance(analysis, Response):
                return analysis
            if self.holder.remote is not None:  # the server would run its own extensions: standard queries only
                await run_in_threadpool(check_standard, asked.query, endpoint)
            graphs = (*analysis.from_graphs, *(asked.default_graphs or ()))
            named = (*analysis.from_named_graphs, *(asked.named_graphs or ()))
            if graphs or named:
                check_dataset(graphs, named, await self.graphs(store))
            results, graph = choose_formats(analysis.form, request.headers.get("accept"), asked.formats)
        except QueryRefusedError as refusal:
            self.record("query_refused")
            return error_response(refusal.status, str(refusal))
        job = Job(
            store.build,
            asked.query,
            endpoint,
            asked.default_graphs,
            asked.named_graphs,
            not (analysis.from_graphs or analysis.from_named_graphs),
            results,
            graph,
            settings.max_rows,
            settings.max_answer_bytes,
        )
        answer = self.answers.get(store.build, job) if analysis.deterministic else None
        if answer is not None:
            self.record("answer_cache_hit")
        else:
            engine = store.engine if analysis.lookup else None
            outcome = await self.evaluate(request, job, engine, shared=analysis.deterministic)
            if isinstance(outcome, Response):
                return outcome
            answer = outcome
            if analysis.deterministic:
                self.answers.put(store.build, job, answer, cost(job, answer))
        headers = {"Vary": "Accept"}
        if answer.truncated:
            headers[TRUNCATED] = "true"
            headers["X-SPARQL-Max-Rows"] = str(self.pool.row_limit(settings.max_rows))
            headers["X-SPARQL-Max-Bytes"] = str(settings.max_answer_bytes)
        return StreamedAnswer(answer.payload, MEDIA_TYPES[answer.format], headers)

    async def evaluate(self, request: Request, job: Job, engine: ox.Store | None, *, shared: bool) -> Answer | Response:
        """The answer of a worker or the remote server (or of `engine` in this process, for a lookup), charged to
        the client's share;
        an error response when there is none. With `shared`, requests for a job already being evaluated wait for
        that evaluation instead of starting their own."""
        client = _client(request)
        over = self._over_share(client)
        if over is not None:
            return over
        if engine is not None:
            self.record("query_in_process")
            return self._here(client, engine, job)
        if shared and job in self._running:  # joins an evaluation under way: holds no worker of its own
            return await self._charged(client, self.run_once(job))
        limit = self.settings.client_concurrent_queries
        if self._in_flight.get(client, 0) >= limit:
            self.record("client_share_exceeded")
            return error_response(
                429,
                f"this client already has {limit} queries running or waiting for a worker, "
                "the most one client may have (setting client_concurrent_queries); send the "
                "next one when one of them has been answered",
                {"Retry-After": "1"},
            )
        self._in_flight[client] = self._in_flight.get(client, 0) + 1
        try:
            return await self._charged(client, self.run_once(job) if shared else self.run(job))
        finally:
            self._in_flight[client] -= 1
            if not self._in_flight[client]:
                del self._in_flight[client]

    async def analysed(self, client: str, query: str, endpoint: str) -> Analysis | Response:
        """The guard's analysis of `query`, its time charged to `client`; QueryRefusedError for a refused text, a
        429 for a client over its share (before the text is read: reading it is the client's time too)."""
        over = self._over_share(client)
        if over is not None:
            return over
        if len(query) > LONG_QUERY:  # tokenising 64 kB takes ~20 ms: not on the event loop
            verdict, seconds = await run_in_threadpool(_guarded, query, self.settings.max_nesting, endpoint)
        else:
            verdict, seconds = _guarded(query, self.settings.max_nesting, endpoint)
        # Reading a refused text costs the server as much as reading an accepted one: charged alike, so that texts
        # sent only to be refused cannot take the server's time without bound.
        self.budget.charge(client, seconds)
        if isinstance(verdict, QueryRefusedError):
            raise verdict
        return verdict

    def _over_share(self, client: str) -> Response | None:
        """The 429 for a client that has used its share of query time, or None when it may go on."""
        wait = self.budget.retry_after(client)
        if wait is None:
            return None
        self.record("client_share_exceeded")
        return error_response(
            429,
            "this client has used its share of query time "
            f"({self.settings.client_query_seconds:g} s per minute, setting "
            f"client_query_seconds); try again in {wait} s",
            {"Retry-After": str(wait)},
        )

    async def _charged(self, client: str, evaluation: Awaitable[Answer]) -> Answer | Response:
        """The answer of `evaluation`, its time charged to `client`: from arrival to answer, since waiting for a
        worker holds a place others cannot have."""
        began = time.monotonic()
        try:
            answer = await evaluation
        except QueryFailedError as failure:
            self.budget.charge(client, time.monotonic() - began)
            return self._failed(failure)
        self.budget.charge(client, time.monotonic() - began)
        return answer

    def _here(self, client: str, engine: ox.Store, job: Job) -> Answer | Response:
        """A lookup's answer, evaluated in this process and charged its evaluation time."""
        assert isinstance(self.pool, QueryPool)  # lookups in this process are for the embedded store
        try:
            answer = self.pool.run_here(engine, job)
        except QueryFailedError as failure:
            self.budget.charge(client, failure.seconds)
            return self._failed(failure)
        self.budget.charge(client, answer.seconds)
        return answer

    def _failed(self, failure: QueryFailedError) -> Response:
        if failure.event is not None:
            self.record(failure.event)
        if failure.not_acceptable:
            offered = RESULT_TYPES if failure.not_acceptable == "results" else GRAPH_TYPES
            raise NotAcceptableError(list(offered)) from None
        return error_response(failure.status, str(failure), failure.headers)

    async def run(self, job: Job) -> Answer:
        return await self.pool.run(job, asyncio.get_running_loop().time() + self.settings.query_timeout)

    async def run_once(self, job: Job) -> Answer:
        """`run`, evaluated once for all the requests that ask for the same job meanwhile: a dashboard or a link
        that many open at once costs one worker, not one each. The evaluation goes on if its first requester
        leaves."""
        running = self._running.get(job)
        if running is None:
            running = self._running[job] = asyncio.ensure_future(self.run(job))
            running.add_done_callback(lambda done: self._finished(job, done))
        else:
            self.record("query_shared")
        return await asyncio.shield(running)

    def _finished(self, job: Job, done: asyncio.Future[Answer]) -> None:
        del self._running[job]
        if not done.cancelled():
            done.exception()  # retrieved here: every requester may have left

    def endpoint_url(self, request: Request) -> str:
        """The endpoint's own URL: the configured public one, else the one this request was sent to."""
        if self.settings.base_url:
            return f"{self.settings.base_url.rstrip('/')}/sparql"
        host = request.headers.get("host") or "{}:{}".format(*request.scope.get("server") or ("localhost", 80))
        return f"{request.scope['scheme']}://{host}{request.scope['path']}"

    async def describe(self, request: Request, store: ReadStore, formats: tuple[str, ...]) -> Response:
        """The service description for RDF clients, the query editor for browsers."""
        if formats:
            fmt = "html" if formats[0].lower() == "html" else GRAPH_NAMES.get(formats[0].lower())
            if fmt is None:
                raise QueryRefusedError(
                    400,
                    f"format={formats[0]} is not a format of the service description; use "
                    "html, ttl, jsonld, nt or rdfxml",
                )
        else:
            fmt = DESCRIPTION_TYPES[negotiate(request.headers.get("accept"), list(DESCRIPTION_TYPES))]
        if fmt == "html":
            page = editor_page(request, store, None)
            page.headers["Vary"] = "Accept"
            return page
        payload = describe_service(
            self.endpoint_url(request), await self.graphs(store), store.manifest.triples, self.settings, fmt
        )
        return Response(payload, media_type=MEDIA_TYPES[fmt], headers={"Vary": "Accept"})


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _guarded(query: str, max_nesting: int, endpoint: str) -> tuple[Analysis | QueryRefusedError, float]:
    """The guard's verdict on `query` and the processor time it took in this thread."""
    began = time.thread_time()
    verdict: Analysis | QueryRefusedError
    try:
        verdict = analyse_query(query, max_nesting, endpoint)
    except QueryRefusedError as refusal:
        verdict = refusal
    return verdict, time.thread_time() - began


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    endpoint = SparqlEndpoint(app.state.settings, app.state.store, app.state.answers, app.state.metrics)
    await endpoint.pool.start()
    app.state.sparql = endpoint
    try:
        yield
    finally:
        await endpoint.pool.close()


router = APIRouter(tags=["sparql"], lifespan=lifespan)


@router.api_route(
    "/sparql",
    methods=["GET", "HEAD", "POST"],
    response_class=Response,
    summary="SPARQL 1.1 Protocol: read-only queries",
    description="GET `?query=`, POST `application/x-www-form-urlencoded` (`query=`) or POST "
    "`application/sparql-query`. SELECT/ASK answer JSON (default), XML, CSV or TSV; CONSTRUCT/DESCRIBE "
    "answer Turtle (default), JSON-LD, N-Triples or RDF/XML, by `Accept` or `?format=`. Without a "
    f"query: the service description (RDF) or the query editor (HTML). A result cut at the row limit "
    f"carries `{TRUNCATED}: true`.",
)
async def sparql(request: Request) -> Response:
    endpoint: SparqlEndpoint = request.app.state.sparql
    return await endpoint.answer(request)


class SparqlApp:
    """`/sparql` as a plain ASGI application, matched before FastAPI's routes: the documented route above answers
    the same way, but FastAPI's per-request work around it (dependency resolution, endpoint wrapping) costs
    more than evaluating a lookup."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        endpoint: SparqlEndpoint = request.app.state.sparql
        response = await endpoint.answer(request)
        await response(scope, receive, send)


class SparqlRoute(Route):
    """The route of `SparqlApp`. It names itself in the scope, as FastAPI's routes do, so that the metrics count
    its requests under "/sparql" (FastAPI's router sets the scope's route only for its own kind of route)."""

    def __init__(self) -> None:
        super().__init__("/sparql", SparqlApp(), methods=list(QUERY_METHODS))

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self
        return match, child_scope


@router.api_route("/sparql", methods=["PUT", "DELETE", "PATCH"], include_in_schema=False)
async def wrong_method(request: Request) -> Response:
    return error_response(
        405,
        f"/sparql answers GET, POST and QUERY (queries only); {request.method} is not accepted",
        {"Allow": "GET, HEAD, POST, QUERY"},
    )
