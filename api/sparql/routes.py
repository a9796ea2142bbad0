"""`/sparql`: the SPARQL 1.1 Protocol endpoint, read-only; queries are evaluated in killable worker processes,
except lookups of one thing's triples, whose cost is bounded (see `graph.sparql_guard._is_lookup`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

from api.http.client_limit import ClientLimit
from api.http.conditional import conditional, validators
from api.http.early import EARLY_ANSWERS, EarlyResponse
from api.http.encoding import accepts_gzip
from api.http.limits import valid_host
from api.http.negotiation import NotAcceptableError
from api.http.observability import Metrics, observed
from api.http.representation import accepted, request_tag
from api.http.state import StoreHolder
from api.pages.editor import editor_page
from api.sparql import Answer, AnswerCache, Job, Pool, QueryFailedError, QueryPool
from api.sparql.answer_stream import CHUNK, StreamedAnswer
from api.sparql.answers import Doorkeeper, cost
from api.sparql.readings import Readings, remembered
from api.sparql.remote_pool import SERVER_BYTES, RemotePool
from api.sparql.request import (
    BODY_METHODS,
    GRAPH_TYPES,
    MEDIA_TYPES,
    RESULT_TYPES,
    SparqlRequest,
    choose_formats,
    read_received,
    read_request,
)
from api.sparql.service_description import describe_service
from graph.errors import ServiceError
from graph.formats import GRAPH, HTML, TURTLE, names
from graph.settings import Settings
from graph.sparql_guard import Analysis, QueryRefusedError, analyse_query, check_dataset, check_standard
from graph.store import ReadStore

__all__ = ["OPENAPI_PATH", "SparqlApp", "SparqlEndpoint", "SparqlRoute", "router"]

# What a request without a query is answered in: the service description (Turtle unless the client asks
# otherwise) or the query editor for browsers.
DESCRIPTION_FORMATS = (TURTLE, HTML, *(fmt for fmt in GRAPH if fmt != TURTLE))
DESCRIPTION_NAMES = names(DESCRIPTION_FORMATS)
QUERY_METHODS = ("GET", "HEAD", "POST", "QUERY")
TRUNCATED = "X-SPARQL-Truncated"
LONG_QUERY = 4096


@dataclass(frozen=True)
class Checked:
    """A query the endpoint will answer: its text, the guard's analysis, the endpoint's URL it was read against,
    the formats of its answer (for a SELECT/ASK result, for a CONSTRUCT/DESCRIBE one)."""

    query: str
    analysis: Analysis
    endpoint: str
    results: str | None
    graph: str | None


@dataclass(frozen=True)
class Plan:
    """How a job is answered: from the answer cache, in this process on `lookup`'s store (a lookup, where the pool
    can evaluate one here), or by a worker; `shared` (a deterministic job): kept in the cache, and evaluated once
    for concurrent requests asking it."""

    job: Job
    cached: Answer | None
    lookup: ReadStore | None
    shared: bool


class SparqlEndpoint:
    """What /sparql keeps between requests: the worker pool, the clients' time shares, the graphs of the build."""

    def __init__(
        self, settings: Settings, holder: StoreHolder, answers: AnswerCache, readings: Readings, metrics: Metrics
    ) -> None:
        self.settings = settings
        self.readings = readings  # what reading requests decided: verdicts, checks, formats
        self.record = metrics.record  # the events of this app's /metrics
        self.holder = holder
        self.pool = _pool(settings, holder, self.record)
        self.budget = ClientLimit(settings.client_query_seconds)  # a client's share of query time: seconds a minute
        self.answers = answers
        self.doorkeeper = Doorkeeper()
        self._graphs: tuple[str, frozenset[str]] | None = None
        self._running: dict[Job, asyncio.Future[Answer]] = {}
        self._in_flight: dict[str, int] = {}  # client → its queries running or waiting for a worker
        self._early_heads: dict[tuple[str, bool], list[tuple[bytes, bytes]]] = {}  # see `_early_head`

    async def graphs(self, store: ReadStore) -> frozenset[str]:
        """The names of the graphs in the current build (listed once per build, in a thread)."""
        known = self._graphs
        if known is None or known[0] != store.manifest.build_id:
            known = self._graphs = (store.manifest.build_id, await run_in_threadpool(store.graph_names))
        return known[1]

    async def answer(self, request: Request) -> Response:
        """A request's answer, in five steps: parse what it asks, check it, plan its evaluation, run it, respond."""
        try:
            asked, store = await self.parse(request)
            if asked.query is None:
                return await self.describe(request, store, asked.formats)
            checked = await self.check(request, asked.query, asked, store)
            plan = self.plan(store, asked, checked)
            answer = plan.cached if plan.cached is not None else await self.run(_client(request), plan)
        except QueryRefusedError:
            self.record("query_refused")  # counted here; answered, as every ServiceError, by api.http.errors
            raise
        return self.respond(answer)

    async def parse(self, request: Request) -> tuple[SparqlRequest, ReadStore]:
        """What the request asks (query, dataset, formats), and the build that will answer it."""
        asked = await read_request(request, self.settings.max_query_bytes)
        store = self.holder.get()
        if asked.query is None and request.method in BODY_METHODS:
            raise QueryRefusedError(
                400, "the request has no query parameter (nor an application/sparql-query body); send query=..."
            )
        return asked, store

    async def check(self, request: Request, query: str, asked: SparqlRequest, store: ReadStore) -> Checked:
        """The guard's analysis of `query` (its time charged to the client), the dataset it names, the formats it
        is answered in; QueryRefusedError, NotAcceptableError or a 429 for what may not be answered."""
        endpoint = self.endpoint_url(request.scope)
        analysis = await self.analysed(_client(request), query, endpoint)
        if store.standard_only:
            key = ("standard", query, endpoint)
            await run_in_threadpool(
                remembered, self.readings, key, len(query), partial(check_standard, query, endpoint)
            )
        graphs = (*analysis.from_graphs, *(asked.default_graphs or ()))
        named = (*analysis.from_named_graphs, *(asked.named_graphs or ()))
        if graphs or named:
            check_dataset(graphs, named, await self.graphs(store))
        results, graph = self.formats(analysis.form, request.headers.get("accept"), asked.formats)
        return Checked(query, analysis, endpoint, results, graph)

    def plan(self, store: ReadStore, asked: SparqlRequest, checked: Checked, *, counted: bool = True) -> Plan:
        """The job to evaluate, and how: an answer already kept for a repeated text, a lookup in this process, or
        a worker (the remote server) shared by the requests that ask for the same deterministic job at once.
        `counted=False`: the look into the answer cache is left uncounted (see `_at_once`)."""
        analysis, settings = checked.analysis, self.settings
        job = Job(
            store.build,
            checked.query,
            checked.endpoint,
            asked.default_graphs,
            asked.named_graphs,
            not (analysis.from_graphs or analysis.from_named_graphs),
            checked.results,
            checked.graph,
            settings.max_rows,
            settings.max_answer_bytes,
            store.manifest.namespace,
        )
        cached = self.answers.get(job.build, job, counted=counted) if analysis.deterministic else None
        if cached is not None and counted:
            self.record("answer_cache_hit")
        return Plan(job, cached, store if analysis.lookup else None, analysis.deterministic)

    async def run(self, client: str, plan: Plan) -> Answer:
        """The answer of a worker or the remote server (or of this process, for a lookup the pool evaluates here),
        charged to the client's share; kept for the next request when the job is deterministic."""
        self._check_share(client)
        answer = self._here(client, plan.lookup, plan.job) if plan.lookup is not None else None
        if answer is None and plan.shared and plan.job in self._running:
            # Joins an evaluation under way: holds no worker of its own.
            answer = await self._charged(client, self._evaluate_once(plan.job))
        elif answer is None:
            answer = await self._in_share(client, plan)
        self._keep(plan, answer)
        return answer

    def _keep(self, plan: Plan, answer: Answer) -> None:
        """Keep a deterministic job's answer for the next request; a lookup's only once it is asked again."""
        if plan.shared and (plan.lookup is None or self.doorkeeper.seen_again(plan.job)):
            self.answers.put(plan.job.build, plan.job, answer, cost(plan.job, answer))

    def respond(self, answer: Answer) -> StreamedAnswer:
        headers = {"Vary": "Accept"}
        if answer.truncated:
            headers[TRUNCATED] = "true"
            headers["X-SPARQL-Max-Rows"] = str(self.pool.row_limit(self.settings.max_rows))
            headers["X-SPARQL-Max-Bytes"] = str(self.settings.max_answer_bytes)
        return StreamedAnswer(answer.payload, MEDIA_TYPES[answer.format], headers)

    def answer_at_once(self, scope: Scope, body: bytes) -> EarlyResponse | None:
        """A GET's or POST's answer made at once in the HTTP server's callback (api.http.early), when it is a
        lookup evaluated here or an answer kept for a repeated text: the steps of `answer`, with nothing to wait
        for. None for everything else, which `answer` handles: any refusal or failure (answered there, with its
        headers), other queries, a client over its share, a dataset, a remote store, and a request whose answer
        other layers would change (gzip, CORS for an Origin, the addresses a proxy forwards)."""
        early = self._early_request(scope, body)
        if early is None:
            return None
        client, accept, asked, store, query = early
        endpoint = self.endpoint_url(scope)
        verdict = self._verdict(client, query, endpoint)
        if isinstance(verdict, QueryRefusedError) or verdict.from_graphs or verdict.from_named_graphs:
            return None
        try:
            results, graph = self.formats(verdict.form, accept, asked.formats)
        except ServiceError:
            return None
        checked = Checked(query, verdict, endpoint, results, graph)
        answer = self._at_once(client, self.plan(store, asked, checked, counted=False))
        if answer is None:
            return None
        length = str(len(answer.payload)).encode("ascii")
        headers = [(k, length if k == b"content-length" else v) for k, v in self._early_head(answer)]
        return EarlyResponse(200, headers, answer.payload)

    def _early_head(self, answer: Answer) -> list[tuple[bytes, bytes]]:
        """The headers of the app's own response to `answer` (`respond`), and the Vary the CORS middleware adds to
        every answer: made once per format and truncation, since only the length differs from answer to answer."""
        key = (answer.format, answer.truncated)
        head = self._early_heads.get(key)
        if head is None:
            raw = self.respond(answer).raw_headers
            head = self._early_heads[key] = [(k, v + b", Origin" if k == b"vary" else v) for k, v in raw]
        return head

    def _early_request(self, scope: Scope, body: bytes) -> tuple[str, str | None, SparqlRequest, ReadStore, str] | None:
        """The client, Accept, request, store and query of a request `answer_at_once` may answer; None otherwise."""
        early, accept = _early_accept(scope)
        client = _client_of(scope)
        if not early or self.budget.retry_after(client) is not None:
            return None
        try:
            asked = read_received(scope, body, self.settings.max_query_bytes)
            store = self.holder.get()
        except ServiceError:
            return None
        query = asked.query
        if (
            query is None
            or len(query) > LONG_QUERY
            or asked.default_graphs
            or asked.named_graphs
            or store.standard_only
        ):
            return None
        return client, accept, asked, store, query

    def _at_once(self, client: str, plan: Plan) -> Answer | None:
        """`run` for a plan that needs no waiting: the kept answer, or the lookup evaluated here; None for anything
        else, and for an answer longer than one chunk, which the app's path sends chunk by chunk, each one once the
        client has taken the one before (under the send timeout): written at once, it would wait whole in the
        connection's buffer for a client that may never read it. A lookup's long answer is kept at once for that
        path to find, and counted there. The plan's look into the answer cache was not counted: it is counted
        here for a request answered here, else by the app's path, which looks again."""
        if plan.cached is not None:
            if len(plan.cached.payload) > CHUNK:
                return None
            self.answers.count(hit=True)
            self.record("answer_cache_hit")
            return plan.cached
        answer = self._here(client, plan.lookup, plan.job, failures=False) if plan.lookup is not None else None
        if answer is None:
            return None
        if len(answer.payload) > CHUNK:
            if plan.shared:
                self.answers.put(plan.job.build, plan.job, answer, cost(plan.job, answer))
            return None
        if plan.shared:  # the cache was looked at for a deterministic job
            self.answers.count(hit=False)
        self._keep(plan, answer)
        return answer

    async def _in_share(self, client: str, plan: Plan) -> Answer:
        """`plan`'s evaluation by a worker, counted among the client's queries running or waiting for one."""
        limit = self.settings.client_concurrent_queries
        if self._in_flight.get(client, 0) >= limit:
            self.record("client_share_exceeded")
            raise ServiceError(
                429,
                f"this client already has {limit} queries running or waiting for a worker, "
                "the most one client may have (setting client_concurrent_queries); send the "
                "next one when one of them has been answered",
                headers={"Retry-After": "1"},
            )
        self._in_flight[client] = self._in_flight.get(client, 0) + 1
        try:
            evaluation = self._evaluate_once(plan.job) if plan.shared else self._evaluate(plan.job)
            return await self._charged(client, evaluation)
        finally:
            self._in_flight[client] -= 1
            if not self._in_flight[client]:
                del self._in_flight[client]

    async def analysed(self, client: str, query: str, endpoint: str) -> Analysis:
        """The guard's analysis of `query`, its time charged to `client`; QueryRefusedError for a refused text, a
        429 for a client over its share (before the text is read: reading it is the client's time too)."""
        self._check_share(client)
        if len(query) > LONG_QUERY:  # tokenising 64 kB takes ~20 ms: not on the event loop
            verdict = await run_in_threadpool(self._verdict, client, query, endpoint)
        else:
            verdict = self._verdict(client, query, endpoint)
        if isinstance(verdict, QueryRefusedError):
            raise verdict
        return verdict

    def _verdict(self, client: str, query: str, endpoint: str) -> Analysis | QueryRefusedError:
        """The guard's verdict on `query`, the processor time it took charged to `client`: reading a refused text
        costs the server as much as reading an accepted one, so texts sent only to be refused cannot take the
        server's time without bound. (A verdict is remembered for texts up to REMEMBERED_BYTES: a text read early
        and then by the app's path is charged once.)"""
        began = time.thread_time()
        verdict: Analysis | QueryRefusedError
        read = partial(analyse_query, query, self.settings.max_nesting, endpoint)
        try:
            verdict = remembered(self.readings, ("verdict", query, endpoint), len(query), read)
        except QueryRefusedError as refusal:
            verdict = refusal
        self.budget.charge(client, time.thread_time() - began)
        return verdict

    def formats(self, form: str | None, accept: str | None, names: tuple[str, ...]) -> tuple[str | None, str | None]:
        """`choose_formats`, remembered: the same Accept header comes with most requests of a client."""
        cost = len(accept or "") + sum(map(len, names))
        return remembered(
            self.readings, ("formats", form, accept, names), cost, partial(choose_formats, form, accept, names)
        )

    def _check_share(self, client: str) -> None:
        """A 429 for a client that has used its share of query time; nothing when it may go on."""
        wait = self.budget.retry_after(client)
        if wait is None:
            return
        self.record("client_share_exceeded")
        raise ServiceError(
            429,
            "this client has used its share of query time "
            f"({self.settings.client_query_seconds:g} s per minute, setting "
            f"client_query_seconds); try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )

    async def _charged(self, client: str, evaluation: Awaitable[Answer]) -> Answer:
        """The answer of `evaluation`, its time charged to `client`: from arrival to answer, since waiting for a
        worker holds a place others cannot have."""
        began = time.monotonic()
        try:
            answer = await evaluation
        except QueryFailedError as failure:
            self.budget.charge(client, time.monotonic() - began)
            raise self._failed(failure) from None
        self.budget.charge(client, time.monotonic() - began)
        return answer

    def _here(self, client: str, store: ReadStore, job: Job, *, failures: bool = True) -> Answer | None:
        """A lookup's answer, evaluated in this process and charged its evaluation time; None where the pool
        evaluates nothing here (a remote server's), and for a failure with `failures=False` (the early path's:
        the app's path evaluates it again and answers the failure, rare and bounded)."""
        try:
            answer = self.pool.run_here(store, job)
        except QueryFailedError as failure:
            if not failures:
                return None
            self._charge_here(client, failure.seconds)
            raise self._failed(failure) from None
        if answer is not None:
            self._charge_here(client, answer.seconds)
        return answer

    def _charge_here(self, client: str, seconds: float) -> None:
        self.record("query_in_process")
        self.budget.charge(client, seconds)

    def _failed(self, failure: QueryFailedError) -> ServiceError:
        """What the client is told of a failed evaluation, counted in /metrics: the failure itself, or a 406
        naming the formats of the kind of result that had none acceptable."""
        if failure.event is not None:
            self.record(failure.event)
        if failure.not_acceptable:
            offered = RESULT_TYPES if failure.not_acceptable == "results" else GRAPH_TYPES
            return NotAcceptableError(list(offered))
        return failure

    async def _evaluate(self, job: Job) -> Answer:
        return await self.pool.run(job, asyncio.get_running_loop().time() + self.settings.query_timeout)

    async def _evaluate_once(self, job: Job) -> Answer:
        """`_evaluate`, run once for all the requests that ask for the same job meanwhile: a dashboard or a link
        that many open at once costs one worker, not one each. The evaluation goes on if its first requester
        leaves."""
        running = self._running.get(job)
        if running is None:
            running = self._running[job] = asyncio.ensure_future(self._evaluate(job))
            running.add_done_callback(lambda done: self._finished(job, done))
        else:
            self.record("query_shared")
        return await asyncio.shield(running)

    def _finished(self, job: Job, done: asyncio.Future[Answer]) -> None:
        del self._running[job]
        if not done.cancelled():
            done.exception()  # retrieved here: every requester may have left

    def endpoint_url(self, scope: Scope) -> str:
        """The endpoint's own URL: the configured public one, else the one the request of `scope` was sent to."""
        if self.settings.base_url:
            return f"{self.settings.base_url.rstrip('/')}/sparql"
        host = next((value.decode("latin-1") for name, value in scope["headers"] if name == b"host"), "")
        host = host or "{}:{}".format(*scope.get("server") or ("localhost", 80))
        return f"{scope['scheme']}://{host}{scope['path']}"

    async def describe(self, request: Request, store: ReadStore, formats: tuple[str, ...]) -> Response:
        """The service description for RDF clients, the query editor for browsers."""
        if formats:
            found = DESCRIPTION_NAMES.get(formats[0].strip().lower())
            if found is None:
                known = [fmt.name for fmt in DESCRIPTION_FORMATS]
                raise QueryRefusedError(
                    400,
                    f"format={formats[0]} is not a format of the service description; use "
                    f"{', '.join(known[:-1])} or {known[-1]}",
                )
            fmt = found
        else:
            fmt = accepted(request.headers.get("accept"), DESCRIPTION_FORMATS).name
        # Made from the build and this URL (the endpoint's address is in both), in the format chosen by Accept.
        headers = {**validators(request_tag(store.manifest, request, fmt), store.manifest.modified), "Vary": "Accept"}
        if fmt == "html":
            return conditional(request, headers, lambda: editor_page(request, store, None))
        endpoint, graphs = self.endpoint_url(request.scope), await self.graphs(store)
        return conditional(
            request,
            headers,
            lambda: Response(
                describe_service(endpoint, graphs, store.manifest.triples, self.settings, fmt),
                media_type=MEDIA_TYPES[fmt],
            ),
        )


def _pool(settings: Settings, holder: StoreHolder, record: Callable[[str], None]) -> Pool:
    """Worker processes that evaluate each query on the build, or the store itself where it evaluates queries (a
    server, `QueryServer`): the same limits in front of each."""
    if holder.server is None:
        return QueryPool(
            workers=settings.query_workers,
            max_pending=settings.max_pending_queries,
            timeout=settings.query_timeout,
            memory_mb=settings.query_memory_mb,
            rest_mb=settings.worker_rest_mb,
            idle_seconds=settings.worker_idle_seconds,
            record=record,
        )
    return RemotePool(
        holder.server,
        workers=settings.query_workers,
        max_pending=settings.max_pending_queries,
        timeout=settings.query_timeout,
        max_bytes=SERVER_BYTES * settings.max_answer_bytes,
    )


def _client(request: Request) -> str:
    return _client_of(request.scope)


def _client_of(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


# Request headers after which other layers change an answer: left to the app (see `answer_at_once`).
_ASIDE = frozenset({b"origin", b"x-forwarded-for", b"x-forwarded-proto"})


def _early_accept(scope: Scope) -> tuple[bool, str | None]:
    """Whether nothing in the request's headers leaves its answer to other layers of the app (`_ASIDE`, gzip, a
    Host the app refuses), and its Accept: the first one, as the app reads headers (None without one)."""
    accept: str | None = None
    for name, value in scope["headers"]:
        if name == b"accept":
            accept = value.decode("latin-1") if accept is None else accept
        elif (
            name in _ASIDE
            or (name == b"accept-encoding" and accepts_gzip(value.decode("latin-1")))
            or (name == b"host" and not valid_host(value))
        ):
            return False, None
    return True, accept


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, object]]:
    caches = app.state.caches
    endpoint = SparqlEndpoint(
        app.state.settings, app.state.store, caches["answers"], caches["readings"], app.state.metrics
    )
    await endpoint.pool.start()
    app.state.sparql = endpoint
    try:
        # Lookups answered in the HTTP server's callback (api.http.early), counted and logged as every request.
        yield {EARLY_ANSWERS: {"/sparql": observed(app.state.metrics, "/sparql", endpoint.answer_at_once)}}
    finally:
        await endpoint.pool.close()


# No routes: the lifespan that starts and stops the endpoint's workers with the app (the route is `SparqlRoute`).
router = APIRouter(lifespan=lifespan)

DESCRIPTION = (
    "GET `?query=`, POST `application/x-www-form-urlencoded` (`query=`) or POST `application/sparql-query` (and the "
    "HTTP `QUERY` method, as POST). SELECT/ASK answer JSON (default), XML, CSV or TSV; CONSTRUCT/DESCRIBE answer "
    "Turtle (default), JSON-LD, N-Triples or RDF/XML, by `Accept` or `?format=`. Without a query: the service "
    f"description (RDF) or the query editor (HTML). A result cut at the row limit carries `{TRUNCATED}: true`."
)
# The route's operations in /openapi.json (OpenAPI 3.1 has no QUERY method); the ids are those clients generated
# from earlier descriptions know.
OPENAPI_PATH = {
    method: {
        "tags": ["sparql"],
        "summary": "SPARQL 1.1 Protocol: read-only queries",
        "description": DESCRIPTION,
        "operationId": operation_id,
        "responses": {"200": {"description": "Successful Response"}},
    }
    for method, operation_id in (
        ("get", "sparql_sparql_get"),
        ("post", "sparql_sparql_get_post"),
        ("head", "sparql_sparql_get_head"),
    )
}


class SparqlApp:
    """`/sparql` as a plain ASGI application: FastAPI's per-request work around an endpoint (dependency
    resolution, endpoint wrapping) costs more than evaluating a lookup."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if request.method in QUERY_METHODS:
            endpoint: SparqlEndpoint = request.app.state.sparql
            response = await endpoint.answer(request)
        else:
            raise ServiceError(
                405,
                f"/sparql answers GET, POST and QUERY (queries only); {request.method} is not accepted",
                headers={"Allow": ", ".join(QUERY_METHODS)},
            )
        await response(scope, receive, send)


class SparqlRoute(Route):
    """The one route of `/sparql`, for every method (others than QUERY_METHODS are answered 405). It names itself
    in the scope, as FastAPI's routes do, so that the metrics count its requests under "/sparql"."""

    def __init__(self) -> None:
        super().__init__("/sparql", SparqlApp(), include_in_schema=False)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self
        return match, child_scope
