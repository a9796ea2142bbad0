"""/sparql speaks the SPARQL 1.1 Protocol to real clients: every result format, the dataset, the refusals."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any, TypeVar
from xml.dom.minidom import Document

import httpx
import pyoxigraph as ox
import pytest
from SPARQLWrapper import CSV, JSON, JSONLD, N3, POST, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

from api.app import create_app
from graph.pipeline.publish import publish_store
from graph.settings import Settings
from tests.conftest import NAMESPACE, Server, start_server, stop_server

T = TypeVar("T")

ALLIANCE = f"{NAMESPACE}id/alliance/drei-gewinnt"
MEMBERS = {f"{NAMESPACE}id/municipality/{key}" for key in ("kelsterbach", "raunheim", "ruesselsheim-am-main")}
DATA_GRAPH, ONTOLOGY_GRAPH = f"{NAMESPACE}graph/data", f"{NAMESPACE}graph/ontology"
PATTERN = f"""?membership org:organization <{ALLIANCE}> ;
                org:role <{NAMESPACE}vocab/role/member> ;
                org:member ?member ."""
SELECT_MEMBERS = f"PREFIX org: <http://www.w3.org/ns/org#>\nSELECT ?member WHERE {{ {PATTERN} }}"
CONSTRUCT_MEMBERS = (
    f"PREFIX org: <http://www.w3.org/ns/org#>\nCONSTRUCT {{ ?member org:memberOf <{ALLIANCE}> }} WHERE {{ {PATTERN} }}"
)
GRAPH_MEDIA = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}


def wrapper(server: Server, query: str, fmt: str) -> SPARQLWrapper:
    client = SPARQLWrapper(f"{server.url}/sparql")
    client.setQuery(query)
    client.setReturnFormat(fmt)
    return client


def converted(client: SPARQLWrapper, kind: type[T]) -> T:
    """The client's own conversion of the answer, checked to be what that format converts to."""
    value = client.query().convert()
    assert isinstance(value, kind)
    return value


def members_in_graph(payload: bytes, media_type: str) -> set[str]:
    triples = ox.parse(payload, format=GRAPH_MEDIA[media_type])
    return {
        t.subject.value
        for t in triples
        if t.predicate.value == "http://www.w3.org/ns/org#memberOf"
        and t.object.value == ALLIANCE
        and isinstance(t.subject, ox.NamedNode)
    }


def json_members(answer: dict[str, Any]) -> set[str]:
    return {row["member"]["value"] for row in answer["results"]["bindings"]}


def test_select_as_json(live_server: Server) -> None:
    client = wrapper(live_server, SELECT_MEMBERS, JSON)
    assert client.query().info()["content-type"] == "application/sparql-results+json"
    assert json_members(converted(client, dict)) == MEMBERS


def test_select_as_xml(live_server: Server) -> None:
    client = wrapper(live_server, SELECT_MEMBERS, XML)
    assert client.query().info()["content-type"] == "application/sparql-results+xml"
    document = converted(client, Document)
    uris = {node.firstChild.nodeValue for node in document.getElementsByTagName("uri")}  # type: ignore[union-attr]
    assert uris == MEMBERS


@pytest.mark.parametrize(
    ("fmt", "media_type", "dialect"), [(CSV, "text/csv", "excel"), (TSV, "text/tab-separated-values", "excel-tab")]
)
def test_select_as_csv_and_tsv(live_server: Server, fmt: str, media_type: str, dialect: str) -> None:
    client = wrapper(live_server, SELECT_MEMBERS, fmt)
    assert client.query().info()["content-type"].split(";")[0] == media_type
    header, *rows = list(csv.reader(io.StringIO(converted(client, bytes).decode()), dialect=dialect))
    assert header in (["member"], ["?member"])
    assert {row[0].strip("<>") for row in rows} == MEMBERS


@pytest.mark.parametrize(
    ("fmt", "media_type", "accept"),
    [
        (TURTLE, "text/turtle", None),
        (JSONLD, "application/ld+json", None),
        (N3, "application/n-triples", "application/n-triples"),  # SPARQLWrapper has no N-Triples setting of its own
        (RDFXML, "application/rdf+xml", None),
    ],
)
def test_construct_in_every_rdf_format(live_server: Server, fmt: str, media_type: str, accept: str | None) -> None:
    client = wrapper(live_server, CONSTRUCT_MEMBERS, fmt)
    if accept:
        client.setOnlyConneg(True)
        client.addCustomHttpHeader("Accept", accept)
    result = client.query()
    assert result.info()["content-type"].split(";")[0] == media_type
    assert members_in_graph(result.response.read(), media_type) == MEMBERS


@pytest.mark.parametrize("accept", ["text/ntriples", "text/plain"])
def test_construct_answers_the_older_n_triples_types(live_server: Server, accept: str) -> None:
    # The names servers and clients used for N-Triples before its registration (Virtuoso's text/ntriples), as the
    # format table knows them: the remote store accepts them in answers, /sparql understands them in Accept.
    with live_server.client() as client:
        response = client.get("/sparql", params={"query": CONSTRUCT_MEMBERS}, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == "application/n-triples"
    assert members_in_graph(response.content, "application/n-triples") == MEMBERS


def test_post_form_post_direct_and_get_agree(live_server: Server) -> None:
    accept = {"Accept": "application/sparql-results+json"}
    with live_server.client(headers=accept) as client:
        answers = [
            client.get("/sparql", params={"query": SELECT_MEMBERS}),
            client.post("/sparql", data={"query": SELECT_MEMBERS}),
            client.post(
                "/sparql", content=SELECT_MEMBERS.encode(), headers={"Content-Type": "application/sparql-query"}
            ),
        ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert json_members(answer.json()) == MEMBERS
    wrapped = wrapper(live_server, SELECT_MEMBERS, JSON)
    wrapped.setMethod(POST)
    assert json_members(converted(wrapped, dict)) == MEMBERS


def test_ask(live_server: Server) -> None:
    query = f"ASK {{ <{ALLIANCE}> a <https://w3id.org/smartcity-kg/ontology#Alliance> }}"
    assert converted(wrapper(live_server, query, JSON), dict)["boolean"] is True


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [
        ("json", "application/sparql-results+json"),
        ("xml", "application/sparql-results+xml"),
        ("csv", "text/csv"),
        ("tsv", "text/tab-separated-values"),
    ],
)
def test_format_parameter_overrides_accept(live_server: Server, fmt: str, media_type: str) -> None:
    with live_server.client() as client:
        answer = client.get(
            "/sparql", params={"query": SELECT_MEMBERS, "format": fmt}, headers={"Accept": "text/turtle"}
        )
    assert answer.status_code == 200
    assert answer.headers["content-type"].split(";")[0] == media_type
    assert all(member in answer.text for member in MEMBERS)


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [
        ("ttl", "text/turtle"),
        ("jsonld", "application/ld+json"),
        ("nt", "application/n-triples"),
        ("rdfxml", "application/rdf+xml"),
    ],
)
def test_format_parameter_for_construct(live_server: Server, fmt: str, media_type: str) -> None:
    with live_server.client() as client:
        answer = client.get("/sparql", params={"query": CONSTRUCT_MEMBERS, "format": fmt})
    assert answer.headers["content-type"].split(";")[0] == media_type
    assert members_in_graph(answer.content, media_type) == MEMBERS


def test_defaults_without_accept(live_server: Server) -> None:
    with live_server.client() as client:
        select = client.get("/sparql", params={"query": SELECT_MEMBERS}, headers={"Accept": ""})
        construct = client.get("/sparql", params={"query": CONSTRUCT_MEMBERS}, headers={"Accept": ""})
    assert select.headers["content-type"] == "application/sparql-results+json"
    assert construct.headers["content-type"].split(";")[0] == "text/turtle"
    assert "Accept" in select.headers["vary"]


@pytest.mark.parametrize(
    ("query", "offered"), [(SELECT_MEMBERS, "application/sparql-results+json"), (CONSTRUCT_MEMBERS, "text/turtle")]
)
def test_nothing_acceptable_is_406_with_the_offer(live_server: Server, query: str, offered: str) -> None:
    with live_server.client() as client:
        answer = client.get("/sparql", params={"query": query}, headers={"Accept": "image/png"})
    assert answer.status_code == 406
    assert offered in answer.json()["error"]["message"]


def test_protocol_dataset_replaces_the_union(live_server: Server) -> None:
    exists = f"ASK {{ <{ALLIANCE}> ?p ?o }}"
    with live_server.client(headers={"Accept": "application/sparql-results+json"}) as client:
        in_ontology = client.get("/sparql", params={"query": exists, "default-graph-uri": ONTOLOGY_GRAPH})
        in_both = client.get(
            "/sparql",
            params=[("query", exists), ("default-graph-uri", ONTOLOGY_GRAPH), ("default-graph-uri", DATA_GRAPH)],
        )
        named = client.get(
            "/sparql",
            params={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", "named-graph-uri": ONTOLOGY_GRAPH},
        )
    assert in_ontology.json()["boolean"] is False
    assert in_both.json()["boolean"] is True
    assert [row["g"]["value"] for row in named.json()["results"]["bindings"]] == [ONTOLOGY_GRAPH]


def test_from_selects_the_default_graph(live_server: Server) -> None:
    with live_server.client(headers={"Accept": "application/sparql-results+json"}) as client:
        from_ontology = client.get("/sparql", params={"query": f"ASK FROM <{ONTOLOGY_GRAPH}> {{ <{ALLIANCE}> ?p ?o }}"})
        from_data = client.get("/sparql", params={"query": f"ASK FROM <{DATA_GRAPH}> {{ <{ALLIANCE}> ?p ?o }}"})
    assert from_ontology.json()["boolean"] is False
    assert from_data.json()["boolean"] is True


def test_row_limit_truncates_with_a_signal(live_server: Server) -> None:
    with live_server.client() as client:
        everything = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"})
        small = client.get("/sparql", params={"query": SELECT_MEMBERS})
    assert everything.status_code == 200
    assert everything.headers["x-sparql-truncated"] == "true"
    assert len(everything.json()["results"]["bindings"]) == int(everything.headers["x-sparql-max-rows"]) == 10_000
    assert "x-sparql-truncated" not in small.headers


def _in_process(client: httpx.Client) -> int:
    match = re.search(
        r'^smartcity_kg_events_total{event="query_in_process"} (\d+)$', client.get("/metrics").text, re.MULTILINE
    )
    assert match is not None
    return int(match[1])


@pytest.mark.parametrize(
    ("form", "media"),
    [
        ("SELECT ?p ?o WHERE {where} ORDER BY ?p ?o", "application/sparql-results+json"),
        ("SELECT ?p ?o WHERE {where} ORDER BY ?p ?o", "application/sparql-results+xml"),
        ("SELECT ?p ?o WHERE {where} ORDER BY ?p ?o", "text/csv"),
        ("SELECT ?p ?o WHERE {where} ORDER BY ?p ?o", "text/tab-separated-values"),
        ("ASK {where}", "application/sparql-results+json"),
        *(("CONSTRUCT {{ <{alliance}> ?p ?o }} WHERE {where}", media) for media in GRAPH_MEDIA),
    ],
)
def test_lookups_are_answered_in_process_as_a_worker_answers_them(live_server: Server, form: str, media: str) -> None:
    lookup = form.format(where=f"{{ <{ALLIANCE}> ?p ?o }}", alliance=ALLIANCE)
    # The same question with a filter is not a lookup: a worker evaluates it.
    by_worker = form.format(where=f"{{ <{ALLIANCE}> ?p ?o FILTER(true) }}", alliance=ALLIANCE)
    with live_server.client(headers={"Accept": media}) as client:
        before = _in_process(client)
        here = client.get("/sparql", params={"query": f"{lookup} # {media}"})
        assert _in_process(client) == before + 1
        there = client.get("/sparql", params={"query": f"{by_worker} # {media}"})
        assert _in_process(client) == before + 1
    assert here.status_code == there.status_code == 200
    assert here.headers["content-type"] == there.headers["content-type"]
    assert here.content == there.content


def test_lookups_in_process_keep_the_row_limit_and_report_bad_queries(published_store: Path) -> None:
    server = start_server(published_store, env={"SMARTCITY_KG_MAX_ROWS": "3"})
    try:
        with server.client() as client:
            cut = client.get("/sparql", params={"query": f"SELECT ?p ?o WHERE {{ <{ALLIANCE}> ?p ?o }}"})
            undeclared = client.get("/sparql", params={"query": "SELECT ?o WHERE { ex:a ?p ?o }"})
            assert _in_process(client) == 2
    finally:
        stop_server(server)
    assert cut.headers["x-sparql-truncated"] == "true"
    assert len(cut.json()["results"]["bindings"]) == 3
    assert undeclared.status_code == 400
    assert undeclared.json()["error"]["message"].startswith("syntax error")


def test_a_result_a_format_cannot_write_is_not_acceptable(live_server: Server) -> None:
    query = "CONSTRUCT { <urn:a> <urn:says> <<( <urn:b> <urn:c> <urn:d> )>> } WHERE {}"
    with live_server.client() as client:
        as_jsonld = client.get("/sparql", params={"query": query}, headers={"Accept": "application/ld+json"})
        as_turtle = client.get("/sparql", params={"query": query}, headers={"Accept": "text/turtle"})
    assert as_jsonld.status_code == 406
    assert "application/ld+json" in as_jsonld.json()["error"]["message"]
    assert as_turtle.status_code == 200
    assert "<urn:says>" in as_turtle.text


def test_unknown_function_is_an_unbound_value_not_a_refusal(live_server: Server) -> None:
    query = "SELECT ?x WHERE { BIND(<http://example.org/no-such-function>(1) AS ?x) }"
    with live_server.client() as client:
        answer = client.get("/sparql", params={"query": query})
    assert answer.status_code == 200
    assert answer.json()["results"]["bindings"] == [{}]


def test_service_description_for_rdf_clients(live_server: Server) -> None:
    with live_server.client() as client:
        answer = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/turtle")
    store = ox.Store()
    store.load(answer.content, format=ox.RdfFormat.TURTLE)
    sd = "http://www.w3.org/ns/sparql-service-description#"
    query = f"""PREFIX sd: <{sd}>
        SELECT ?endpoint ?graph WHERE {{ ?service a sd:Service ; sd:endpoint ?endpoint ;
            sd:supportedLanguage sd:SPARQL11Query ; sd:resultFormat ?format ;
            sd:defaultDataset/sd:namedGraph/sd:name ?graph }}"""
    rows = store.query(query)
    assert isinstance(rows, ox.QuerySolutions)
    found = [(row["endpoint"], row["graph"]) for row in rows]
    assert {str(endpoint) for endpoint, _ in found} == {f"<{live_server.url}/sparql>"}
    assert {str(graph) for _, graph in found} == {f"<{DATA_GRAPH}>", f"<{ONTOLOGY_GRAPH}>"}


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("text/n3", "text/turtle"),
        ("application/x-turtle", "text/turtle"),
        ("application/json", "application/ld+json"),
        ("application/rdf+xml", "application/rdf+xml"),
    ],
)
def test_the_service_description_answers_every_name_of_its_formats(
    live_server: Server, accept: str, media_type: str
) -> None:
    """The Accept values a CONSTRUCT is answered to (the format table's media types and their aliases)."""
    with live_server.client() as client:
        described = client.get("/sparql", headers={"Accept": accept})
        constructed = client.get("/sparql", params={"query": CONSTRUCT_MEMBERS}, headers={"Accept": accept})
    assert described.status_code == constructed.status_code == 200, described.text
    assert described.headers["content-type"].split(";")[0] == media_type
    assert constructed.headers["content-type"].split(";")[0] == media_type
    assert "sparql-service-description" in described.text


def test_an_unknown_format_of_the_service_description_names_the_table_s_formats(live_server: Server) -> None:
    with live_server.client() as client:
        refused = client.get("/sparql", params={"format": "yaml"})
    assert refused.status_code == 400
    assert "use ttl, html, jsonld, nt or rdfxml" in refused.json()["error"]["message"]


def test_query_form_for_browsers(live_server: Server) -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    with live_server.client() as client:
        page = client.get("/sparql", headers={"Accept": browser})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<textarea id="query" name="query"' in page.text
    assert 'type="submit"' in page.text


def test_cors_on_sparql(live_server: Server) -> None:
    with live_server.client() as client:
        answer = client.get("/sparql", params={"query": SELECT_MEMBERS}, headers={"Origin": "https://example.org"})
        preflight = client.options(
            "/sparql", headers={"Origin": "https://example.org", "Access-Control-Request-Method": "POST"}
        )
    assert answer.headers["access-control-allow-origin"] == "*"
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]


REFUSALS = [
    # (description, request arguments, status, words the message must contain)
    (
        "SERVICE",
        {"params": {"query": "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"}},
        400,
        "SERVICE",
    ),
    (
        "lower-case service",
        {"params": {"query": "select * where { service silent <http://example.org/> {} }"}},
        400,
        "SERVICE",
    ),
    (
        "SERVICE spelled with an escape",
        {"params": {"query": "SELECT * { \\u0053ERVICE <http://example.org/> {} }"}},
        400,
        "SERVICE (written with \\u escapes)",
    ),
    ("LOAD", {"params": {"query": "LOAD <http://example.org/data.ttl>"}}, 400, "read-only"),
    ("INSERT DATA", {"params": {"query": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}}, 400, "read-only"),
    ("DELETE WHERE", {"params": {"query": "DELETE WHERE { ?s ?p ?o }"}}, 400, "read-only"),
    ("DROP", {"params": {"query": "DROP ALL"}}, 400, "read-only"),
    ("update parameter", {"params": {"update": "CLEAR ALL"}}, 400, "read-only"),
    (
        "a cast without its argument",
        {"params": {"query": "SELECT (<http://www.w3.org/2001/XMLSchema#integer>() AS ?n) {}"}},
        400,
        "requires between 1 and 1 arguments",
    ),
    (
        "update body",
        {"method": "POST", "content": b"CLEAR ALL", "headers": {"Content-Type": "application/sparql-update"}},
        400,
        "read-only",
    ),
    ("two queries", {"params": [("query", "ASK {}"), ("query", "SELECT * {}")]}, 400, "exactly one"),
    ("syntax error", {"params": {"query": "SELECT * WHERE {"}}, 400, "syntax error"),
    (
        "FROM an unknown graph",
        {"params": {"query": "SELECT * FROM <http://example.org/g> { ?s ?p ?o }"}},
        400,
        "not a graph of this store",
    ),
    (
        "FROM NAMED an unknown graph",
        {"params": {"query": "PREFIX ex: <http://example.org/>\nSELECT * FROM NAMED ex:g { GRAPH ?g { ?s ?p ?o } }"}},
        400,
        "<http://example.org/g>",
    ),
    (
        "default-graph-uri unknown",
        {"params": {"query": "ASK {}", "default-graph-uri": "http://example.org/g"}},
        400,
        "not a graph of this store",
    ),
    (
        "named-graph-uri unknown",
        {"params": {"query": "ASK {}", "named-graph-uri": "http://example.org/g"}},
        400,
        "not a graph of this store",
    ),
    ("query not UTF-8 (URL)", {"url": "/sparql?query=ASK%20%7B%7D%FF"}, 400, "not UTF-8"),
    (
        "query not UTF-8 (body)",
        {
            "method": "POST",
            "content": "ASK {}".encode("utf-16"),
            "headers": {"Content-Type": "application/sparql-query"},
        },
        400,
        "UTF-8",
    ),
    (
        "declared charset",
        {
            "method": "POST",
            "content": b"ASK {}",
            "headers": {"Content-Type": "application/sparql-query; charset=ISO-8859-1"},
        },
        400,
        "UTF-8",
    ),
    (
        "a second charset",
        {
            "method": "POST",
            "content": b"ASK {}",
            "headers": {"Content-Type": "application/sparql-query; charset=utf-8; charset=latin1"},
        },
        400,
        "charset=latin1",
    ),
    (
        "a second Content-Type",
        {
            "method": "POST",
            "content": b"ASK {}",
            "headers": [("Content-Type", "application/sparql-query"), ("Content-Type", "text/plain")],
        },
        400,
        "several Content-Type",
    ),
    (
        "unsupported content type",
        {"method": "POST", "content": b"ASK {}", "headers": {"Content-Type": "text/plain"}},
        415,
        "application/sparql-query",
    ),
    ("no content type", {"method": "POST", "content": b"query=ASK%20%7B%7D"}, 415, "Content-Type"),
    (
        "QUERY with an unsupported content type",
        {"method": "QUERY", "content": b"ASK {}", "headers": {"Content-Type": "text/plain"}},
        415,
        "a QUERY to /sparql must be",
    ),
    ("QUERY without a content type", {"method": "QUERY", "content": b"ASK {}"}, 415, "a QUERY to /sparql needs"),
    ("POST without a query", {"method": "POST", "data": {"default-graph-uri": DATA_GRAPH}}, 400, "no query"),
    ("PUT", {"method": "PUT", "params": {"query": "ASK {}"}}, 405, "PUT"),
    ("DELETE", {"method": "DELETE"}, 405, "DELETE"),
    ("format of the wrong kind", {"params": {"query": "ASK {}", "format": "ttl"}}, 400, "json, xml, csv, tsv"),
    (
        "oversize body",
        {
            "method": "POST",
            "content": b"ASK {} #" + b"x" * 70_000,
            "headers": {"Content-Type": "application/sparql-query"},
        },
        413,
        "at most",
    ),
]


@pytest.mark.parametrize(
    ("arguments", "status", "words"), [case[1:] for case in REFUSALS], ids=[case[0] for case in REFUSALS]
)
def test_refusals(live_server: Server, arguments: dict[str, object], status: int, words: str) -> None:
    arguments = dict(arguments)
    method = str(arguments.pop("method", "GET"))
    url = str(arguments.pop("url", "/sparql"))
    with live_server.client() as client:
        answer = client.request(method, url, **arguments)  # type: ignore[arg-type]
    assert answer.status_code == status, answer.text
    message = answer.json()["error"]["message"]
    assert words in message


def test_405_names_the_allowed_methods(live_server: Server) -> None:
    with live_server.client() as client:
        for method in ("PUT", "PATCH", "OPTIONS"):  # OPTIONS without CORS headers is no preflight
            answer = client.request(method, "/sparql", params={"query": "ASK {}"})
            assert answer.status_code == 405
            assert set(answer.headers["allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "POST", "QUERY"}
            assert method in answer.json()["error"]["message"]


def test_sparql_is_one_route_described_in_openapi(published_store: Path, live_server: Server) -> None:
    app = create_app(Settings(store=published_store))
    assert [type(route).__name__ for route in app.routes if getattr(route, "path", None) == "/sparql"] == [
        "SparqlRoute"
    ]
    with live_server.client() as client:
        operations = client.get("/openapi.json").json()["paths"]["/sparql"]
        assert set(operations) == {"get", "post", "head"}
        assert "QUERY" in operations["post"]["description"]
        assert client.get("/sparql/", follow_redirects=False).headers["location"].endswith("/sparql")


@pytest.mark.parametrize(
    "query",
    [
        'SELECT ?s WHERE { ?s ?p "SERVICE <http://example.org/> { ?a ?b ?c }" }',
        "SELECT ?s WHERE { ?s ?p '''INSERT DATA { <urn:a> <urn:b> <urn:c> }''' }",
        "PREFIX ex: <http://example.org/>\nSELECT ?s WHERE { ?s ex:SERVICE ex:LOAD }",
        "SELECT ?s WHERE { ?s <http://example.org/SERVICE> ?o } # SERVICE LOAD DROP",
        "SELECT ?service ?load WHERE { ?service ?load ?o }",
        'SELECT ?s WHERE { ?s ?p "((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((" }',
    ],
)
def test_keywords_and_brackets_inside_other_tokens_are_not_refused(live_server: Server, query: str) -> None:
    with live_server.client() as client:
        answer = client.get("/sparql", params={"query": query})
    assert answer.status_code == 200, answer.text
    json.loads(answer.text)


def test_errors_are_json_never_bare(live_server: Server) -> None:
    with live_server.client() as client:
        answer = client.get("/sparql", params={"query": "SELECT ?x WHERE { ?x ?y }"})
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["error"]["status"] == 400


def test_head_answers_without_a_body(live_server: Server) -> None:
    response = httpx.head(f"{live_server.url}/sparql", params={"query": SELECT_MEMBERS}, timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/sparql-results+json"
    assert response.content == b""


def test_repeated_answers_are_reused_but_never_for_nondeterministic_queries(live_server: Server) -> None:
    with live_server.client() as client:
        first, again = (client.get("/sparql", params={"query": SELECT_MEMBERS}) for _ in range(2))
        now = [client.get("/sparql", params={"query": "SELECT (STRUUID() AS ?id) WHERE {}"}).json() for _ in range(2)]
    assert first.content == again.content
    assert now[0] != now[1]


def test_a_newly_published_build_is_queried_at_once(tmp_path: Path) -> None:
    def publish(thing: str) -> None:
        nquads = f'<urn:example:{thing}> <urn:example:is> "{thing}" <{DATA_GRAPH}> .\n'.encode()
        publish_store(nquads, tmp_path, namespace=NAMESPACE, modified="2024-01-01T00:00:00+00:00", data_files=1)

    query = "SELECT ?thing WHERE { ?s <urn:example:is> ?thing }"
    publish("first")
    server = start_server(tmp_path)
    try:
        with server.client() as client:
            before = client.get("/sparql", params={"query": query}).json()
            publish("second")
            after = client.get("/sparql", params={"query": query}).json()
    finally:
        stop_server(server)
        if server.process.stderr:
            server.process.stderr.close()
    assert [row["thing"]["value"] for row in before["results"]["bindings"]] == ["first"]
    assert [row["thing"]["value"] for row in after["results"]["bindings"]] == ["second"]
