"""A graph kept on an existing SPARQL 1.1 server: queried by the SPARQL Protocol, loaded by the Graph Store Protocol.

The published graphs are named (`{ns}graph/data`, `{ns}graph/ontology`); every query names them as its dataset,
so graphs being uploaded for the next build stay invisible until one update request moves them in place.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox

from graph._convert import serialize_rdf
from graph.iris import Minter
from graph.published import Manifest, StoreUnavailableError
from graph.store import QueryOutcome, Term

__all__ = ["RemoteEndpoints", "RemoteStore", "bind_values", "publish_remote"]

_GRAPHS = ("data", "ontology")
_META = "meta"
_DCT = "http://purl.org/dc/terms/"
_VOID = "http://rdfs.org/ns/void#"
_MANIFEST_QUERY = f"""SELECT ?id ?triples ?modified ?version ?files WHERE {{
  ?build <{_DCT}identifier> ?id ; <{_VOID}triples> ?triples ; <{_DCT}modified> ?modified ;
         <http://schema.org/version> ?version ; <http://schema.org/size> ?files }}"""


@dataclass(frozen=True)
class RemoteEndpoints:
    query: str
    update: str | None = None
    graph_store: str | None = None


class RemoteStore:
    """ReadStore over HTTP. Connection failures and server errors become StoreUnavailableError."""

    def __init__(self, endpoints: RemoteEndpoints, namespace: str, timeout: float = 30.0,
                 client: httpx.Client | None = None) -> None:
        self.endpoints = endpoints
        self.namespace = namespace
        self._mint = Minter(namespace)
        self._client = client or httpx.Client(timeout=timeout)
        self._manifest: tuple[float, Manifest] | None = None

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
        """The published build's manifest, read from the meta graph (cached for a few seconds)."""
        if self._manifest is not None and time.monotonic() - self._manifest[0] < 5:
            return self._manifest[1]
        outcome = self.query(_MANIFEST_QUERY, default_graph=[str(self._mint.graph(_META))])
        assert isinstance(outcome, ox.QuerySolutions)
        rows = list(outcome)
        if not rows:
            raise StoreUnavailableError(f"{self.endpoints.query} holds no published smartcity-kg graph: "
                                        "run `smartcity-kg build --sparql-endpoint ... --graph-store ...`")
        row = rows[0]
        manifest = Manifest(build_id=_value(row["id"]), triples=int(_value(row["triples"])),
                            modified=_value(row["modified"]), namespace=self.namespace,
                            version=_value(row["version"]), data_files=int(_value(row["files"])))
        self._manifest = (time.monotonic(), manifest)
        return manifest

    def query(self, sparql: str, *, default_graph: Sequence[str] = (), named_graphs: Sequence[str] | None = None,
              substitutions: Mapping[str, Term] | None = None) -> QueryOutcome:
        response = self._post_query(bind_values(sparql, substitutions or {}),
                                    "application/sparql-results+json, application/n-triples;q=0.9",
                                    default_graph or self.graphs,
                                    named_graphs if named_graphs is not None else self.graphs)
        kind = response.headers.get("content-type", "").split(";")[0].strip()
        if kind == "application/n-triples":
            # Answered as Oxigraph's own triples result, so callers meet one result type whichever the store.
            received = ox.Store()
            received.bulk_extend(ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES))
            return received.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
        return ox.parse_query_results(response.content, format=ox.QueryResultsFormat.JSON)

    def forward(self, sparql: str, media_type: str, default_graph: Sequence[str] | None,
                named_graphs: Sequence[str] | None, max_bytes: int) -> bytes:
        """A client's query passed through as it is, answered in `media_type` by the server itself, read only up
        to `max_bytes` (AnswerTooLargeError past them: another server's bytes cannot be cut at a row).

        Without graphs named by the client the published graphs are the dataset; a query with its own FROM
        clauses is sent without protocol graphs, which would override them.
        """
        form = _query_form(sparql, self.graphs if default_graph is None else default_graph,
                           self.graphs if named_graphs is None else named_graphs)
        url = self.endpoints.query
        try:
            with self._client.stream("POST", url, content=form, headers={
                    "Content-Type": "application/x-www-form-urlencoded", "Accept": media_type}) as response:
                if response.status_code >= 400:
                    response.read()
                    _check(response, url)
                kept: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise AnswerTooLargeError(max_bytes)
                    kept.append(chunk)
                return b"".join(kept)
        except httpx.TimeoutException as error:
            raise StoreUnavailableError(f"the SPARQL server at {url} did not answer in time") from error
        except httpx.TransportError as error:
            raise StoreUnavailableError(f"the SPARQL server at {url} cannot be reached: {error}") from error

    def _post_query(self, sparql: str, accept: str, default_graph: Sequence[str],
                    named_graphs: Sequence[str]) -> httpx.Response:
        return self._send("POST", self.endpoints.query, content=_query_form(sparql, default_graph, named_graphs),
                          headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": accept})

    def quads(self) -> Iterator[ox.Quad]:
        outcome = self.query("SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        assert isinstance(outcome, ox.QuerySolutions)
        for row in outcome:
            yield ox.Quad(row["s"], row["p"], row["o"], row["g"])

    def __len__(self) -> int:
        outcome = self.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        assert isinstance(outcome, ox.QuerySolutions)
        return int(_value(next(iter(outcome))["n"]))

    def _send(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        try:
            response = self._client.request(method, url, **kwargs)  # type: ignore[arg-type]
        except httpx.TimeoutException as error:
            raise StoreUnavailableError(f"the SPARQL server at {url} did not answer in time") from error
        except httpx.TransportError as error:
            raise StoreUnavailableError(f"the SPARQL server at {url} cannot be reached: {error}") from error
        _check(response, url)
        return response


class AnswerTooLargeError(Exception):
    """The remote server's answer is over the byte limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the answer is over the {limit} bytes an answer may take (setting max_answer_bytes); ask "
                         "for fewer rows with LIMIT and page with OFFSET, or download the dumps at /dumps/")


def _query_form(sparql: str, default_graph: Sequence[str], named_graphs: Sequence[str]) -> bytes:
    form: list[tuple[str, str]] = [("query", sparql)]
    form += [("default-graph-uri", g) for g in default_graph]
    form += [("named-graph-uri", g) for g in named_graphs]
    return urlencode(form).encode()


def _check(response: httpx.Response, url: str) -> None:
    """Raise for a status that is not an answer: SyntaxError for 400, StoreUnavailableError for the others."""
    if response.status_code == 400:
        raise SyntaxError(response.text.strip() or "the server refused the query")
    if response.status_code >= 400:
        raise StoreUnavailableError(f"the SPARQL server at {url} answered {response.status_code}: "
                                    f"{response.text.strip()[:300]}")


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
    return f"{sparql[:opening + 1]} VALUES ({names}) {{ ({terms}) }} {sparql[opening + 1:]}"


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


def publish_remote(nquads: bytes, manifest: Manifest, endpoints: RemoteEndpoints, namespace: str,
                   client: httpx.Client | None = None) -> None:
    """Upload each graph of `nquads` under a staging name, then switch all of them in one update request."""
    if endpoints.graph_store is None or endpoints.update is None:
        raise ValueError("loading a remote store needs --graph-store (Graph Store Protocol) and --update-endpoint")
    with RemoteStore(endpoints, namespace, timeout=600, client=client) as store:
        _upload_and_switch(store, nquads, manifest, endpoints, Minter(namespace))


def _upload_and_switch(store: RemoteStore, nquads: bytes, manifest: Manifest, endpoints: RemoteEndpoints,
                       mint: Minter) -> None:
    assert endpoints.graph_store is not None and endpoints.update is not None
    by_graph: dict[str, list[ox.Triple]] = {}
    for quad in ox.parse(nquads, format=ox.RdfFormat.N_QUADS):
        by_graph.setdefault(str(quad.graph_name), []).append(quad.triple)
    moves = []
    for name in _GRAPHS:
        graph, staging = str(mint.graph(name)), str(mint.graph(f"{name}-next-{manifest.build_id}"))
        triples = by_graph.get(f"<{graph}>", [])
        store._send("PUT", endpoints.graph_store, params={"graph": staging},
                    content=serialize_rdf(triples, ox.RdfFormat.N_TRIPLES),
                    headers={"Content-Type": "application/n-triples"})
        moves.append(f"MOVE SILENT GRAPH <{staging}> TO GRAPH <{graph}>")
    meta = str(mint.graph(_META))
    build = f"<{mint.graph('data')}>"
    record = (f'{build} <{_DCT}identifier> "{manifest.build_id}" ; <{_VOID}triples> {manifest.triples} ; '
              f'<{_DCT}modified> "{manifest.modified}" ; <http://schema.org/version> "{manifest.version}" ; '
              f"<http://schema.org/size> {manifest.data_files} .")
    # One request, so servers that run an update request as one transaction (Oxigraph does) switch atomically.
    update = " ;\n".join([*moves, f"DROP SILENT GRAPH <{meta}>", f"INSERT DATA {{ GRAPH <{meta}> {{ {record} }} }}"])
    store._send("POST", endpoints.update, content=update.encode(),
                headers={"Content-Type": "application/sparql-update"})
    published = len(store)
    if published != manifest.triples:
        raise RuntimeError(f"the remote store holds {published} statements after loading, {manifest.triples} "
                           "were sent")
