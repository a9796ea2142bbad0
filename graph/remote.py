"""A graph kept on an existing SPARQL 1.1 server: queried by the SPARQL Protocol, loaded by the Graph Store Protocol.

The published graphs are named (`{ns}graph/data`, `{ns}graph/ontology`); every query names them as its dataset,
so graphs being uploaded for the next build stay invisible until one update request moves them in place, and
what a server keeps in its own default graph (Virtuoso's system graphs) never shows.

Nothing a server answers is passed on unchecked: the status, the media type and the syntax of every answer are
verified, an answer is read only until its deadline and its size limit, and a server's own words (which may name
its internals) go to the log, never to a client.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from itertools import islice
from typing import TypeVar
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
import pyoxigraph as ox

from graph._convert import serialize_rdf
from graph.iris import Minter
from graph.published import Manifest, StoreUnavailableError
from graph.settings import Settings
from graph.store import QueryOutcome, Term

__all__ = [
    "AnswerTooLargeError",
    "BadAnswerError",
    "Credentials",
    "DeadlineError",
    "QueryRefusedByServerError",
    "Received",
    "RemoteEndpoints",
    "RemoteStore",
    "bind_values",
    "publish_remote",
    "request_deadline",
    "settings_problem",
    "solutions",
]

log = logging.getLogger("smartcity_kg.remote")
T = TypeVar("T")

_GRAPHS = ("data", "ontology")
_META = "meta"
_DCT = "http://purl.org/dc/terms/"
_VOID = "http://rdfs.org/ns/void#"
_MANIFEST_QUERY = f"""SELECT ?id ?triples ?modified ?version ?files WHERE {{
  ?build <{_DCT}identifier> ?id ; <{_VOID}triples> ?triples ; <{_DCT}modified> ?modified ;
         <http://schema.org/version> ?version ; <http://schema.org/size> ?files }}"""
_SD_NAME = "http://www.w3.org/ns/sparql-service-description#name"
# The statements of each published graph, as recorded by the build that published them.
_RECORDED_QUERY = f"SELECT ?graph ?triples WHERE {{ ?part <{_SD_NAME}> ?graph ; <{_VOID}triples> ?triples }}"
_COUNTED_QUERY = "SELECT ?graph (COUNT(*) AS ?triples) WHERE { GRAPH ?graph { ?s ?p ?o } } GROUP BY ?graph"
# Virtuoso keeps what it loads in memory and its transaction log until a checkpoint: a crash in between may leave
# a graph only partly written.
VIRTUOSO_CHECKPOINT = (
    "Virtuoso writes loaded graphs to its database only at a checkpoint: run `checkpoint;` in "
    "isql-vt now (or set CheckpointInterval in virtuoso.ini) so that a crash cannot leave them "
    "torn; /health answers 503 if the graphs ever differ from what this build published."
)
RESULTS_JSON, N_TRIPLES = "application/sparql-results+json", "application/n-triples"
# Servers that answer N-Triples under the older media types (Virtuoso among them) are understood too.
_TRIPLE_TYPES = frozenset({N_TRIPLES, "text/plain", "text/ntriples"})
MANIFEST_SECONDS = 5.0  # a healthy server's manifest is reused this long; a failure forgets it at once
_PARTIAL = "S1TAT"  # the SQL state with which Virtuoso marks an answer cut at its time limit
_PROBE_WIDTH = 10  # values per VALUES block of the row cap's probe: each block multiplies its rows by ten
UNAVAILABLE = "the SPARQL server behind this service cannot be reached; try again shortly"
REFUSED = (
    "the SPARQL server behind this service refused to evaluate the query (HTTP 500; the details are "
    "logged), as a server does with a query it estimates too costly: narrow it or add a LIMIT"
)
BAD_ANSWER = "the SPARQL server behind this service gave an answer that cannot be used; the details are logged"


# When the request being answered must be done (time.monotonic()): all the queries it sends share it, so a page
# that needs several queries takes no longer than one. Set by the service for each request; None elsewhere.
request_deadline: ContextVar[float | None] = ContextVar("request_deadline", default=None)


class DeadlineError(StoreUnavailableError):
    """The server did not finish its answer before the request's deadline."""


class BadAnswerError(StoreUnavailableError):
    """The server answered, but not with a complete answer of the kind asked for (the service answers 502)."""

    status = 502


class QueryRefusedByServerError(StoreUnavailableError):
    """The server is there, but answered a query with an error of its own (HTTP 500): Virtuoso refuses a query
    whose estimated cost exceeds its limit so. Asking again would get the same answer."""


class AnswerTooLargeError(Exception):
    """The server's answer is over the bytes it may take."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"the answer is over the {limit} bytes an answer may take (setting max_answer_bytes); ask "
            "for fewer rows with LIMIT and page with OFFSET, or download the dumps at /dumps/"
        )


@dataclass(frozen=True)
class Credentials:
    """A user and password for a server that takes writes (or reads) only with them; the password never shows."""

    user: str
    password: str = field(repr=False)

    def auth(self) -> httpx.Auth:
        return _ChallengeAuth(self)


@dataclass(frozen=True)
class RemoteEndpoints:
    query: str
    update: str | None = None
    graph_store: str | None = None
    credentials: Credentials | None = None
    # A query parameter telling the server to stop at the deadline: "timeout={ms}" (Virtuoso), "timeout={s}"
    # (Fuseki); `ms` and `s` are replaced by the time left.
    timeout_parameter: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> RemoteEndpoints:
        assert settings.sparql_endpoint is not None
        problem = settings_problem(settings)
        if problem is not None:
            raise ValueError(problem)
        credentials = None
        if settings.remote_user is not None:
            password = settings.remote_password.get_secret_value() if settings.remote_password else ""
            credentials = Credentials(settings.remote_user, password)
        return cls(
            settings.sparql_endpoint,
            settings.update_endpoint,
            settings.graph_store,
            credentials,
            settings.remote_timeout_parameter,
        )


def settings_problem(settings: Settings) -> str | None:
    """What makes the remote server's settings unusable (said at start, rather than at the first request), or None."""
    if settings.remote_password is not None and not settings.remote_user:
        return (
            "a password for the remote SPARQL server is set (SMARTCITY_KG_REMOTE_PASSWORD or --remote-password) "
            "but no user: set SMARTCITY_KG_REMOTE_USER or --remote-user as well"
        )
    for option, url in (
        ("--sparql-endpoint", settings.sparql_endpoint),
        ("--graph-store", settings.graph_store),
        ("--update-endpoint", settings.update_endpoint),
    ):
        if url is not None:
            parts = urlsplit(url)
            if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
                return f"{option} must be an http:// or https:// URL with a host, not {_safe(url)!r}"
    return None


class _ChallengeAuth(httpx.Auth):
    """Answers a server's challenge in its own scheme: Digest when it asks for digest, Basic for basic. Credentials
    go only to an endpoint that asked for them (learnt per URL, then sent from the start to that URL alone)."""

    requires_request_body = True

    def __init__(self, credentials: Credentials) -> None:
        self._credentials = credentials
        self._schemes: dict[str, httpx.Auth] = {}  # endpoint URL (without its query) → the scheme it asked for
        self._lock = threading.Lock()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        endpoint = str(request.url.copy_with(query=None))
        with self._lock:
            known = self._schemes.get(endpoint)
        if known is not None:
            yield from known.auth_flow(request)
            return
        response = yield request
        if response.status_code != 401:
            return
        scheme = response.headers.get("www-authenticate", "").split(" ", 1)[0].lower()
        if scheme not in ("digest", "basic"):
            return
        user, password = self._credentials.user, self._credentials.password
        chosen = httpx.DigestAuth(user, password) if scheme == "digest" else httpx.BasicAuth(user, password)
        with self._lock:
            self._schemes[endpoint] = chosen
        yield from chosen.auth_flow(request)


def _safe(url: str) -> str:
    """`url` without any user or password in it, for the log."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.hostname or "")) if "@" in parts.netloc else url


class _Body(io.RawIOBase):
    """A response body as a file for the parsers, read as they need it: stops at `limit` bytes, and records
    why reading failed (the parsers wrap what a read raises). The bytes are read as sent (never decompressed:
    a compressed answer is refused before), so `limit` bounds what is held, whatever the server sends."""

    def __init__(self, response: httpx.Response, limit: int) -> None:
        super().__init__()
        self._chunks = response.iter_raw()
        self._pending = memoryview(b"")  # the rest of the last chunk: a view, so each read copies only its part
        self.limit = limit
        self.size = 0
        self.failure: Exception | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            while not self._pending:
                chunk = next(self._chunks, None)
                if chunk is None:
                    return 0
                self.size += len(chunk)
                if self.size > self.limit:
                    raise AnswerTooLargeError(self.limit)
                self._pending = memoryview(chunk)
        except Exception as error:
            self.failure = error
            raise
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


class _Watchdog:
    """Shuts the connection down at the deadline: a read blocked on a server that sends a byte now and then
    returns at once, and the server sees its client gone (Oxigraph and Virtuoso stop evaluating then)."""

    def __init__(self, response: httpx.Response, deadline: float) -> None:
        stream = response.extensions.get("network_stream")
        self._socket: socket.socket | None = stream.get_extra_info("socket") if stream is not None else None
        self.fired = False
        self._timer = threading.Timer(max(deadline - time.monotonic(), 0.0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        if self._socket is not None:
            with contextlib.suppress(OSError):  # already closed
                self._socket.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


# What a query on the server answered, parsed as it is read.
Received = ox.QuerySolutions | ox.QueryBoolean | Iterator[ox.Triple]


class RemoteStore:
    """ReadStore over HTTP. An unreachable server raises StoreUnavailableError, one that answers too late
    DeadlineError, one whose answer cannot be used BadAnswerError; a query it refuses raises SyntaxError."""

    def __init__(
        self,
        endpoints: RemoteEndpoints,
        namespace: str,
        timeout: float = 30.0,
        client: httpx.Client | None = None,
        max_bytes: int = 256 * 2**20,
    ) -> None:
        self.endpoints = endpoints
        self.namespace = namespace
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._mint = Minter(namespace)
        auth = endpoints.credentials.auth() if endpoints.credentials else None
        # Redirects are not followed: a server that redirects a query is misconfigured, and its answer is checked.
        self._client = client or httpx.Client(timeout=timeout, auth=auth, follow_redirects=False)
        self._manifest: tuple[float, Manifest] | None = None
        self._row_caps: dict[int, int | None] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> RemoteStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def graphs(self) -> list[str]:
        return [str(self._mint.graph(name)) for name in _GRAPHS]

    @property
    def manifest(self) -> Manifest:
        """The published build's manifest, read from the meta graph (reused for a few seconds while the server
        answers; any failure to reach it forgets it, so that the service says at once that it is unavailable)."""
        known = self._manifest
        if known is not None and time.monotonic() - known[0] < MANIFEST_SECONDS:
            return known[1]
        return self.check()

    def check(self) -> Manifest:
        """The manifest, read from the server now."""
        outcome = self.query(_MANIFEST_QUERY, default_graph=[str(self._mint.graph(_META))])
        assert isinstance(outcome, ox.QuerySolutions)
        rows = list(outcome)
        if not rows:
            raise StoreUnavailableError(
                "the SPARQL server holds no published smartcity-kg graph: run "
                "`smartcity-kg build --sparql-endpoint ... --graph-store ...`"
            )
        row = rows[0]
        try:
            manifest = Manifest(
                build_id=_value(row["id"]),
                triples=int(_value(row["triples"])),
                modified=_value(row["modified"]),
                namespace=self.namespace,
                version=_value(row["version"]),
                data_files=int(_value(row["files"])),
            )
        except (KeyError, ValueError) as error:
            self._forget()
            log.error("unusable manifest from %s: %s", _safe(self.endpoints.query), error)
            raise BadAnswerError(BAD_ANSWER) from None
        self._manifest = (time.monotonic(), manifest)
        return manifest

    def verify(self) -> Manifest:
        """`check`, and every published graph holding the statements its build recorded (a server that crashed
        before writing its graphs to disk may come back with only part of them): StoreUnavailableError if not."""
        manifest = self.check()
        meta = [str(self._mint.graph(_META))]
        recorded = self.query(_RECORDED_QUERY, default_graph=meta)
        counted = self.query(_COUNTED_QUERY, default_graph=self.graphs, named_graphs=self.graphs)
        assert isinstance(recorded, ox.QuerySolutions) and isinstance(counted, ox.QuerySolutions)
        expected = {_value(row["graph"]): int(_value(row["triples"])) for row in recorded}
        found = {_value(row["graph"]): int(_value(row["triples"])) for row in counted}
        torn = {
            graph: (count, found.get(graph, 0)) for graph, count in expected.items() if found.get(graph, 0) != count
        }
        if torn:
            self._forget()
            for graph, (count, held) in torn.items():
                log.error(
                    "%s holds %d statements in <%s>, build %s published %d",
                    _safe(self.endpoints.query),
                    held,
                    graph,
                    manifest.build_id,
                    count,
                )
            raise StoreUnavailableError(
                "the SPARQL server holds the published graphs only in part (it may have "
                "stopped before writing them to disk); publish them again with "
                "`smartcity-kg build --sparql-endpoint ... --graph-store ... "
                "--update-endpoint ...`"
            )
        return manifest

    def _forget(self) -> None:
        self._manifest = None

    def deadline(self) -> float:
        """When a query sent now must be answered: after `timeout`, or sooner at the request's deadline."""
        own = time.monotonic() + self.timeout
        shared = request_deadline.get()
        return own if shared is None else min(own, shared)

    def query(
        self,
        sparql: str,
        *,
        default_graph: Sequence[str] = (),
        named_graphs: Sequence[str] | None = None,
        substitutions: Mapping[str, Term] | None = None,
    ) -> QueryOutcome:
        """The whole answer, read and checked before it is returned: nothing built from it (the label index,
        a description) can be built from half an answer, nor from one the server cut at its row cap."""
        sparql = bind_values(sparql, substitutions or {})
        # The form and the variables of the answer, from Oxigraph's parser (on an empty store: these are the
        # project's own queries, which find nothing without data).
        shape = ox.Store().query(sparql)
        deadline = self.deadline()
        cap = self.row_cap(deadline)
        try:
            return self.evaluate(
                sparql,
                graph=isinstance(shape, ox.QueryTriples),
                default_graph=default_graph or self.graphs,
                named_graphs=named_graphs if named_graphs is not None else self.graphs,
                deadline=deadline,
                read=lambda received: _materialise(received, cap, shape),
            )
        except (AnswerTooLargeError, SyntaxError) as error:  # one of our own queries: no client can change it
            log.error("%s could not answer one of the service's queries: %s", _safe(self.endpoints.query), error)
            raise BadAnswerError(BAD_ANSWER) from None

    def evaluate(
        self,
        sparql: str,
        *,
        graph: bool,
        default_graph: Sequence[str],
        named_graphs: Sequence[str],
        deadline: float,
        read: Callable[[Received], T],
        max_bytes: int | None = None,
    ) -> T:
        """`read` applied to the server's answer to `sparql` (asked as SPARQL JSON results, or as N-Triples
        when `graph`), while the answer is being received: `read` takes what it needs, the rest is never read
        (the connection is closed). Every failure of the server's is raised as one of the errors above."""
        form: list[tuple[str, str]] = [("query", sparql)]
        form += [("default-graph-uri", g) for g in default_graph]
        form += [("named-graph-uri", g) for g in named_graphs]
        if self.endpoints.timeout_parameter:
            left = max(deadline - time.monotonic(), 0.001)
            name, _, value = self.endpoints.timeout_parameter.partition("=")
            form.append((name, value.replace("{ms}", str(int(left * 1000))).replace("{s}", str(max(int(left), 1)))))
        accept = N_TRIPLES if graph else RESULTS_JSON
        with _Exchange(
            self,
            "POST",
            self.endpoints.query,
            deadline,
            content=urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": accept},
        ) as response:
            if response.headers.get("x-sql-state", "").startswith(_PARTIAL):
                # Virtuoso's "anytime" answer: what it found until its time limit, sent as if it were all.
                log.warning("%s stopped a query at its time limit and sent what it had", _safe(self.endpoints.query))
                raise DeadlineError("the SPARQL server behind this service did not answer in time")
            encoding = response.headers.get("content-encoding", "identity").strip().lower()
            if encoding not in ("", "identity"):
                # Asked for identity: a compressed answer could hold a thousand times its size (a bomb).
                raise self._bad(response, f"answered in {encoding} encoding where identity was asked for")
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if kind not in (_TRIPLE_TYPES if graph else {RESULTS_JSON}):
                raise self._bad(response, f"answered {kind or 'no media type'} where {accept} was asked for")
            body = _Body(response, max_bytes or self.max_bytes)
            reader = io.BufferedReader(body)
            try:
                if graph:
                    triples = (quad.triple for quad in ox.parse(reader, format=ox.RdfFormat.N_TRIPLES))
                    return read(triples)
                return read(ox.parse_query_results(reader, format=ox.QueryResultsFormat.JSON))
            except Exception as error:  # what reading raised, else the parser's or the check's complaint
                failure = body.failure or error
                if isinstance(failure, BadAnswerError):
                    raise self._bad(response, str(failure)) from None
                if isinstance(failure, StoreUnavailableError | AnswerTooLargeError):
                    raise failure from None
                if isinstance(failure, httpx.TransportError):
                    raise self._transport(failure, self.endpoints.query, deadline) from None
                raise self._bad(response, f"answered a malformed {kind} document ({failure})") from None

    def row_cap(self, deadline: float, rows: int = 100_000) -> int | None:
        """The most rows the server answers to one query, when it is `rows` or fewer (Virtuoso answers at most
        10,000 unless told otherwise, and says nothing): measured once, by a query that must answer one more."""
        with self._lock:
            if rows in self._row_caps:
                return self._row_caps[rows]
        width = len(str(rows))
        digits = " ".join(str(n) for n in range(_PROBE_WIDTH))
        values = " ".join(f"VALUES ?d{n} {{ {digits} }}" for n in range(width))
        probe = f"SELECT ?none WHERE {{ {values} }} LIMIT {rows + 1}"  # rows without values: a small answer

        def count(received: Received) -> int:
            assert isinstance(received, ox.QuerySolutions)
            return sum(1 for _ in received)

        answered = self.evaluate(
            probe, graph=False, default_graph=self.graphs, named_graphs=self.graphs, deadline=deadline, read=count
        )
        cap = answered if answered <= rows else None
        if cap is not None:
            log.warning(
                "%s answers at most %d rows to a query; answers that reach it are marked truncated",
                _safe(self.endpoints.query),
                cap,
            )
        with self._lock:
            self._row_caps[rows] = cap
        return cap

    def known_row_cap(self, rows: int = 100_000) -> int | None:
        """`row_cap` as far as it has been measured (None also while it has not been)."""
        with self._lock:
            return self._row_caps.get(rows)

    def quads(self) -> Iterator[ox.Quad]:
        outcome = self.query("SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        assert isinstance(outcome, ox.QuerySolutions)
        for row in outcome:
            yield ox.Quad(row["s"], row["p"], row["o"], row["g"])

    def __len__(self) -> int:
        outcome = self.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        assert isinstance(outcome, ox.QuerySolutions)
        return int(_value(next(iter(outcome))["n"]))

    def send(self, method: str, url: str, content: bytes, media_type: str, params: dict[str, str] | None = None) -> str:
        """A write (Graph Store or update request), checked for a success status; the server's software (its
        Server header)."""
        with _Exchange(
            self, method, url, self.deadline(), content=content, headers={"Content-Type": media_type}, params=params
        ) as response:
            return str(response.headers.get("server", ""))

    def _transport(self, error: httpx.TransportError, url: str, deadline: float) -> StoreUnavailableError:
        self._forget()
        if isinstance(error, httpx.TimeoutException) or time.monotonic() >= deadline - 0.05:
            log.warning("%s did not answer in time (%s)", _safe(url), type(error).__name__)
            return DeadlineError("the SPARQL server behind this service did not answer in time")
        log.error("%s cannot be reached: %s", _safe(url), error)
        return StoreUnavailableError(UNAVAILABLE)

    def _bad(self, response: httpx.Response, why: str) -> BadAnswerError:
        self._forget()
        log.error("%s %s (HTTP %d)", _safe(str(response.request.url)), why, response.status_code)
        return BadAnswerError(BAD_ANSWER)


class _Exchange:
    """One request, its answer's status checked, its body read under a watchdog until the deadline."""

    def __init__(
        self,
        store: RemoteStore,
        method: str,
        url: str,
        deadline: float,
        *,
        content: bytes,
        headers: dict[str, str],
        params: dict[str, str] | None = None,
    ) -> None:
        self.store, self.method, self.url, self.deadline = store, method, url, deadline
        self.content, self.headers, self.params = content, headers, params
        self.response: httpx.Response | None = None
        self.watchdog: _Watchdog | None = None

    def __enter__(self) -> httpx.Response:
        store = self.store
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise DeadlineError("the SPARQL server behind this service did not answer in time")
        try:
            request = store._client.build_request(
                self.method,
                self.url,
                content=self.content,
                headers={"Accept-Encoding": "identity", **self.headers},
                params=self.params,
                timeout=left,
            )
            response = self.response = store._client.send(request, stream=True)
        except httpx.TransportError as error:
            raise store._transport(error, self.url, self.deadline) from None
        self.watchdog = _Watchdog(response, self.deadline)
        if response.status_code >= 300 or response.status_code < 200:
            try:
                detail = _first_bytes(response, 500).decode("utf-8", "replace").strip()
            except httpx.HTTPError:
                detail = ""
            self.__exit__()
            log.error("%s %s answered HTTP %d: %s", self.method, _safe(self.url), response.status_code, detail)
            if response.status_code == 400 and self.method == "POST" and self.url == store.endpoints.query:
                raise SyntaxError(
                    "the SPARQL server refused the query (HTTP 400); it is "
                    "valid SPARQL 1.1, but this server reads it otherwise"
                )
            if response.status_code in (401, 403):
                store._forget()
                raise BadAnswerError(
                    "the SPARQL server refused the credentials it was given "
                    f"(HTTP {response.status_code}); the details are logged"
                )
            store._forget()
            if response.status_code == 500 and self.url == store.endpoints.query:
                raise QueryRefusedByServerError(REFUSED)
            if response.status_code in (500, 502, 503, 504):
                raise StoreUnavailableError(UNAVAILABLE)
            raise BadAnswerError(BAD_ANSWER)
        return response

    def __exit__(self, *_: object) -> None:
        if self.watchdog is not None:
            self.watchdog.cancel()
            if self.watchdog.fired:
                self.store._forget()
        if self.response is not None:
            self.response.close()


def _first_bytes(response: httpx.Response, size: int) -> bytes:
    """At most the first `size` bytes of the body as sent (an error page is logged, never decompressed)."""
    read = b""
    for chunk in response.iter_raw():
        read += chunk
        if len(read) >= size:
            break
    return read[:size]


def _materialise(outcome: Received, cap: int | None, shape: QueryOutcome) -> QueryOutcome:
    """A checked answer as the embedded store's result types: BadAnswerError when it is not of the query's form
    (`shape`, its result on no data), names other variables, or was cut at the server's cap."""
    if type(outcome) is not type(shape) and not isinstance(shape, ox.QueryTriples):
        raise BadAnswerError(f"a {type(outcome).__name__} answer to a query giving {type(shape).__name__}")
    if isinstance(outcome, ox.QueryBoolean):
        return outcome
    if isinstance(outcome, ox.QuerySolutions):
        variables = outcome.variables
        assert isinstance(shape, ox.QuerySolutions)
        if set(variables) != set(shape.variables):
            raise BadAnswerError(f"an answer naming {variables} to a query selecting {shape.variables}")
        rows = [[row[v] for v in variables] for row in outcome]
        if cap is not None and len(rows) >= cap:
            raise BadAnswerError(
                f"an answer reached the server's cap of {cap} rows: raise the cap (Virtuoso: ResultSetMaxRows)"
            )
        return solutions(variables, rows, len(rows))[0]
    received = ox.Store()
    received.bulk_extend(ox.Quad(t.subject, t.predicate, t.object) for t in outcome)
    if cap is not None and len(received) >= cap:
        raise BadAnswerError(f"an answer reached the server's cap of {cap} rows: raise the cap")
    # Answered as Oxigraph's own triples result, so callers meet one result type whichever the store.
    return received.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")


def solutions(
    variables: Sequence[ox.Variable], rows: Iterator[Sequence[Term | None]] | list[list[Term | None]], limit: int
) -> tuple[ox.QuerySolutions, int]:
    """At most `limit` rows as a QuerySolutions (pyoxigraph builds one only by parsing), and how many rows were
    taken. Written as SPARQL TSV, whose cells are the terms' own N-Triples syntax."""
    lines = ["\t".join(str(v) for v in variables)]
    taken = 0
    for row in islice(rows, limit):
        lines.append("\t".join("" if term is None else str(term) for term in row))
        taken += 1
    parsed = ox.parse_query_results("\n".join(lines).encode() + b"\n", format=ox.QueryResultsFormat.TSV)
    assert isinstance(parsed, ox.QuerySolutions)
    return parsed, taken


def _value(term: object) -> str:
    return term.value if isinstance(term, ox.Literal | ox.NamedNode) else str(term)


def bind_values(sparql: str, values: Mapping[str, Term]) -> str:
    """Bind variables by a VALUES block opening the query's WHERE group (the protocol has no bindings).

    Terms are written in their own RDF syntax (escaped by Oxigraph), so no value can change the query's shape.
    """
    if not values:
        return sparql
    names = " ".join(f"?{name}" for name in values)
    terms = " ".join(str(term) for term in values.values())
    opening = _first_group(sparql)
    return f"{sparql[: opening + 1]} VALUES ({names}) {{ ({terms}) }} {sparql[opening + 1 :]}"


def _first_group(sparql: str) -> int:
    """Index of the `{` opening the WHERE clause (the first group when the keyword is left out)."""
    code = list(_code_positions(sparql))
    text = "".join(char for _, char in code).upper()
    where = re.search(r"\bWHERE\s*\{", text)
    brace = text.find("{", where.start()) if where else text.find("{")
    if brace < 0:
        raise SyntaxError("the query has no group pattern to bind values in")
    return code[brace][0]


def _code_positions(sparql: str) -> Iterator[tuple[int, str]]:
    """(index, character) of the query's code: what is not inside an IRI, a string or a comment."""
    index, quote = 0, ""
    while index < len(sparql):
        char = sparql[index]
        if quote:
            if char == "\\":
                index += 1
            elif sparql.startswith(quote, index):
                index += len(quote) - 1
                quote = ""
        elif char == "#":
            newline = sparql.find("\n", index)
            index = len(sparql) if newline < 0 else newline
            continue
        elif char == "<" and (end := sparql.find(">", index)) > 0 and not any(c.isspace() for c in sparql[index:end]):
            index = end
        elif char in "\"'":
            quote = char * 3 if sparql.startswith(char * 3, index) else char
            index += len(quote) - 1
        else:
            yield index, char
        index += 1


def publish_remote(
    nquads: bytes, manifest: Manifest, endpoints: RemoteEndpoints, namespace: str, client: httpx.Client | None = None
) -> list[str]:
    """Upload each graph of `nquads` under a staging name, then switch all of them in one update request; what
    the operator must still do for the graphs to be safe on that server."""
    if endpoints.graph_store is None or endpoints.update is None:
        raise ValueError("loading a remote store needs --graph-store (Graph Store Protocol) and --update-endpoint")
    with RemoteStore(endpoints, namespace, timeout=600, client=client) as store:
        software = _upload_and_switch(store, nquads, manifest, endpoints, Minter(namespace))
    return [VIRTUOSO_CHECKPOINT] if "virtuoso" in software.lower() else []


def _upload_and_switch(
    store: RemoteStore, nquads: bytes, manifest: Manifest, endpoints: RemoteEndpoints, mint: Minter
) -> str:
    assert endpoints.graph_store is not None and endpoints.update is not None
    by_graph: dict[str, list[ox.Triple]] = {}
    for quad in ox.parse(nquads, format=ox.RdfFormat.N_QUADS):
        by_graph.setdefault(str(quad.graph_name), []).append(quad.triple)
    moves, parts, counts = [], [], []
    for name in _GRAPHS:
        graph, staging = str(mint.graph(name)), str(mint.graph(f"{name}-next-{manifest.build_id}"))
        triples = by_graph.get(f"<{graph}>", [])
        parts.append(f"<{mint.graph(_META)}#{name}>")  # no blank node: Virtuoso allows none in INSERT DATA
        counts.append(f"{parts[-1]} <{_SD_NAME}> <{graph}> ; <{_VOID}triples> {len(triples)} .")
        store.send(
            "PUT",
            endpoints.graph_store,
            serialize_rdf(triples, ox.RdfFormat.N_TRIPLES),
            N_TRIPLES,
            params={"graph": staging},
        )
        moves.append(f"MOVE SILENT GRAPH <{staging}> TO GRAPH <{graph}>")
    meta = str(mint.graph(_META))
    build = f"<{mint.graph('data')}>"
    record = (
        f'{build} <{_DCT}identifier> "{manifest.build_id}" ; <{_VOID}triples> {manifest.triples} ; '
        f'<{_DCT}modified> "{manifest.modified}" ; <http://schema.org/version> "{manifest.version}" ; '
        f"<http://schema.org/size> {manifest.data_files} ; <{_VOID}subset> {', '.join(parts)} . " + " ".join(counts)
    )
    # One request, so servers that run an update request as one transaction (Oxigraph does) switch atomically.
    update = " ;\n".join([*moves, f"DROP SILENT GRAPH <{meta}>", f"INSERT DATA {{ GRAPH <{meta}> {{ {record} }} }}"])
    software = store.send("POST", endpoints.update, update.encode(), "application/sparql-update")
    published = len(store)
    if published != manifest.triples:
        raise RuntimeError(f"the remote store holds {published} statements after loading, {manifest.triples} were sent")
    return software
