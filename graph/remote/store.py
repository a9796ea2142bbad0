"""The published graphs on a remote SPARQL server as a ReadStore: queries asked by the SPARQL Protocol, each answer
read and checked in full (its form, its variables, the server's row cap) before it is returned."""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import islice
from typing import TypeVar
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox

from graph import formats
from graph.iris import Minter
from graph.prefixes import PREFIXES
from graph.published import Manifest, StoreUnavailableError
from graph.remote.endpoints import RemoteEndpoints, safe_url
from graph.remote.exchange import (
    BAD_ANSWER,
    LATE,
    AnswerTooLargeError,
    BadAnswerError,
    Body,
    Connection,
    DeadlineError,
)
from graph.sparql_lexer import code_tokens
from graph.store import QueryOutcome, QueryServer, Received, Term

__all__ = ["GRAPHS", "META", "Received", "RemoteStore", "bind_values", "solutions"]

log = logging.getLogger("smartcity_kg.remote")
T = TypeVar("T")

GRAPHS = ("data", "ontology")  # the names of the published graphs (graph.iris.Minter.graph)
META = "meta"  # the graph of the build's manifest
DCT, VOID, SCHEMA = PREFIXES["dct"], PREFIXES["void"], PREFIXES["schema"]
SD_NAME = PREFIXES["sd"] + "name"
_MANIFEST_QUERY = f"""SELECT ?id ?triples ?modified ?version ?files WHERE {{
  ?build <{DCT}identifier> ?id ; <{VOID}triples> ?triples ; <{DCT}modified> ?modified ;
         <{SCHEMA}version> ?version ; <{SCHEMA}size> ?files }}"""
# The statements of each published graph, as recorded by the build that published them.
_RECORDED_QUERY = f"SELECT ?graph ?triples WHERE {{ ?part <{SD_NAME}> ?graph ; <{VOID}triples> ?triples }}"
_COUNTED_QUERY = "SELECT ?graph (COUNT(*) AS ?triples) WHERE { GRAPH ?graph { ?s ?p ?o } } GROUP BY ?graph"
RESULTS_JSON, N_TRIPLES = formats.RESULTS_JSON.media_type, formats.N_TRIPLES.media_type
# Servers that answer N-Triples under the older media types the table knows (Virtuoso among them) are understood too.
_TRIPLE_TYPES = frozenset(formats.media_types([formats.N_TRIPLES]))
MANIFEST_SECONDS = 5.0  # a healthy server's manifest is reused this long; a failure forgets it at once
_PARTIAL = "S1TAT"  # the SQL state with which Virtuoso marks an answer cut at its time limit
_PROBE_WIDTH = 10  # values per VALUES block of the row cap's probe: each block multiplies its rows by ten


class RemoteStore(QueryServer):
    """ReadStore over HTTP, evaluating a client's query itself (QueryServer). An unreachable server raises
    StoreUnavailableError, one that answers too late DeadlineError, one whose answer cannot be used
    BadAnswerError; a query it refuses raises SyntaxError."""

    name = "remote"
    standard_only = True

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
        self.max_bytes = max_bytes
        self.connection = Connection(endpoints, timeout, self._forget, client)
        self._mint = Minter(namespace)
        self._manifest: tuple[float, Manifest] | None = None
        self._row_caps: dict[int, int | None] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> RemoteStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def graphs(self) -> list[str]:
        return [str(self._mint.graph(name)) for name in GRAPHS]

    def graph_names(self) -> frozenset[str]:
        return frozenset(self.graphs)  # the published graphs, which are all a query may name (not the server's)

    @property
    def build(self) -> str:
        return self.manifest.build_id

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
        rows = list(self.select(_MANIFEST_QUERY, default_graph=[str(self._mint.graph(META))]))
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
            log.error("unusable manifest from %s: %s", safe_url(self.endpoints.query), error)
            raise BadAnswerError(BAD_ANSWER) from None
        self._manifest = (time.monotonic(), manifest)
        return manifest

    def verify(self) -> Manifest:
        """`check`, and every published graph holding the statements its build recorded (a server that crashed
        before writing its graphs to disk may come back with only part of them): StoreUnavailableError if not."""
        manifest = self.check()
        recorded = self.select(_RECORDED_QUERY, default_graph=[str(self._mint.graph(META))])
        counted = self.select(_COUNTED_QUERY, default_graph=self.graphs, named_graphs=self.graphs)
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
                    safe_url(self.endpoints.query),
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

    def _answer(
        self,
        sparql: str,
        form: type[QueryOutcome],
        default_graph: Sequence[str],
        named_graphs: Sequence[str] | None,
        substitutions: Mapping[str, Term] | None,
    ) -> QueryOutcome:
        """The whole answer, read and checked before it is returned: nothing built from it (the label index,
        a description) can be built from half an answer, nor from one the server cut at its row cap."""
        sparql = bind_values(sparql, substitutions or {})
        # The form and the variables of the answer, from Oxigraph's parser (on an empty store: these are the
        # project's own queries, which find nothing without data).
        shape = ox.Store().query(sparql)
        if not isinstance(shape, form):
            return shape  # of another form than asked for: ReadStore says so
        deadline = self.connection.deadline()
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
            log.error("%s could not answer one of the service's queries: %s", safe_url(self.endpoints.query), error)
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
        connection = self.connection
        with connection.exchange(
            "POST",
            self.endpoints.query,
            deadline,
            content=urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": accept},
        ) as response:
            if response.headers.get("x-sql-state", "").startswith(_PARTIAL):
                # Virtuoso's "anytime" answer: what it found until its time limit, sent as if it were all.
                log.warning("%s stopped a query at its time limit and sent what it had", safe_url(self.endpoints.query))
                raise DeadlineError(LATE)
            encoding = response.headers.get("content-encoding", "identity").strip().lower()
            if encoding not in ("", "identity"):
                # Asked for identity: a compressed answer could hold a thousand times its size (a bomb).
                raise connection.bad(response, f"answered in {encoding} encoding where identity was asked for")
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if kind not in (_TRIPLE_TYPES if graph else {RESULTS_JSON}):
                raise connection.bad(response, f"answered {kind or 'no media type'} where {accept} was asked for")
            body = Body(response, max_bytes or self.max_bytes)
            reader = io.BufferedReader(body)
            try:
                if graph:
                    triples = (quad.triple for quad in ox.parse(reader, format=ox.RdfFormat.N_TRIPLES))
                    return read(triples)
                return read(ox.parse_query_results(reader, format=ox.QueryResultsFormat.JSON))
            except Exception as error:  # what reading raised, else the parser's or the check's complaint
                failure = body.failure or error
                if isinstance(failure, BadAnswerError):
                    raise connection.bad(response, str(failure)) from None
                if isinstance(failure, StoreUnavailableError | AnswerTooLargeError):
                    raise failure from None
                if isinstance(failure, httpx.TransportError):
                    raise connection.transport_error(failure, self.endpoints.query, deadline) from None
                raise connection.bad(response, f"answered a malformed {kind} document ({failure})") from None

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
            if not isinstance(received, ox.QuerySolutions):
                raise BadAnswerError(f"a {type(received).__name__} answer to a query giving rows")
            return sum(1 for _ in received)

        answered = self.evaluate(
            probe, graph=False, default_graph=self.graphs, named_graphs=self.graphs, deadline=deadline, read=count
        )
        cap = answered if answered <= rows else None
        if cap is not None:
            log.warning(
                "%s answers at most %d rows to a query; answers that reach it are marked truncated",
                safe_url(self.endpoints.query),
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
        for row in self.select("SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }"):
            yield ox.Quad(row["s"], row["p"], row["o"], row["g"])

    def __len__(self) -> int:
        rows = self.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        return int(_value(next(iter(rows))["n"]))


def _materialise(outcome: Received, cap: int | None, shape: QueryOutcome) -> QueryOutcome:
    """A checked answer as the embedded store's result types: BadAnswerError when it is not of the query's form
    (`shape`, its result on no data), names other variables, or was cut at the server's cap."""
    if isinstance(shape, ox.QueryBoolean) and isinstance(outcome, ox.QueryBoolean):
        return outcome
    if isinstance(shape, ox.QuerySolutions) and isinstance(outcome, ox.QuerySolutions):
        variables = outcome.variables
        if set(variables) != set(shape.variables):
            raise BadAnswerError(f"an answer naming {variables} to a query selecting {shape.variables}")
        rows = [[row[v] for v in variables] for row in outcome]
        if cap is not None and len(rows) >= cap:
            raise BadAnswerError(
                f"an answer reached the server's cap of {cap} rows: raise the cap (Virtuoso: ResultSetMaxRows)"
            )
        return solutions(variables, rows, len(rows))[0]
    if not isinstance(shape, ox.QueryTriples) or isinstance(outcome, ox.QuerySolutions | ox.QueryBoolean):
        raise BadAnswerError(f"a {type(outcome).__name__} answer to a query giving {type(shape).__name__}")
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
    assert isinstance(parsed, ox.QuerySolutions)  # TSV holds rows only
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
    """Offset of the `{` opening the WHERE clause (the first group when the keyword is left out)."""
    tokens = list(code_tokens(sparql))
    first = None
    for token, following in zip(tokens, [*tokens[1:], None], strict=True):
        if token.kind == "word" and token.text.upper() == "WHERE" and following is not None and following.text == "{":
            return following.start
        if first is None and token.kind == "bracket" and token.text == "{":
            first = token.start
    if first is None:
        raise SyntaxError("the query has no group pattern to bind values in")
    return first
