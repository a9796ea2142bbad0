"""What third-party clients rely on across routes: a valid OpenAPI description, the REST entry point, HEAD on
REST items, the ontology's version IRI, and compression on request."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx
import pytest
from openapi_spec_validator import validate

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


def test_openapi_description_is_valid_with_one_id_per_operation(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    validate(spec)  # raises with the offending path when the description breaks the OpenAPI 3.1 schema
    ids = Counter(op["operationId"] for path in spec["paths"].values() for op in path.values() if "operationId" in op)
    assert ids, "the description lists no operation"
    assert [name for name, count in ids.items() if count > 1] == []
    assert "head" in spec["paths"]["/api/v1/{type}/{key}"]


def test_rest_entry_point_links_every_type(client: httpx.Client) -> None:
    response = client.get("/api/v1")
    assert response.status_code == 200
    body = response.json()
    assert body["types"]["city"].endswith("/api/v1/city")
    assert client.get(body["types"]["alliance"]).json()["total"] > 0
    assert client.get(body["openapi"]).status_code == 200


def test_head_on_rest_item_gives_the_get_headers_without_a_body(client: httpx.Client) -> None:
    plain = {"Accept-Encoding": "identity"}
    got = client.get("/api/v1/city/dortmund", headers=plain)
    head = client.head("/api/v1/city/dortmund", headers=plain)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == got.headers["etag"]
    assert head.headers["content-type"] == got.headers["content-type"]
    assert client.head("/api/v1/city/no-such-city").status_code == 404
    assert client.head("/api/v1/city?limit=1").status_code == 200


def test_ontology_version_iri_resolves(client: httpx.Client) -> None:
    ontology = client.get("/ontology.ttl").text
    version_iri = next(line for line in ontology.splitlines() if "versionIRI" in line).split("<")[1].split(">")[0]
    path = "/" + version_iri.split("/", 3)[3].removeprefix("smartcity-kg/")
    response = client.get(path, headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert "owl:Ontology" in response.text
    assert client.get("/ontology/0.0.0-unknown").status_code == 404


def test_large_answers_are_compressed_when_asked_and_revalidate(client: httpx.Client) -> None:
    plain = client.get("/dumps/graph.ttl", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 2000"
    raw = httpx.get(
        f"{client.base_url}/sparql",
        params={"query": query},
        headers={"Accept-Encoding": "gzip", "Accept": "application/sparql-results+json"},
    )
    assert raw.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in raw.headers["vary"]
    assert b'"bindings"' in raw.content  # httpx decoded the gzip body
    item = client.get("/doc/alliance/drei-gewinnt.ttl", headers={"Accept-Encoding": "gzip"})
    assert item.headers["content-encoding"] == "gzip"
    etag = item.headers["etag"]
    assert etag.startswith('W/"'), "a compressed body's validator is weak"
    again = client.get("/doc/alliance/drei-gewinnt.ttl", headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304


@pytest.mark.parametrize(
    ("accept_encoding", "gzipped"),
    [
        ("GZIP", True),  # codings are case-insensitive
        ("x-gzip", True),
        ("br;q=1, gzip;q=0.5", True),
        ("*", True),
        ("gzip;q=0", False),  # q=0 refuses
        ("gzip;q=0.000", False),
        ("*, gzip;q=0", False),
        ("identity", False),
        ("deflate, br", False),
    ],
)
def test_accept_encoding_is_read_as_rfc_9110_says(client: httpx.Client, accept_encoding: str, gzipped: bool) -> None:
    # Read without decoding, so what was sent is seen as it was sent.
    with httpx.stream(
        "GET", f"{client.base_url}/doc/alliance/drei-gewinnt.ttl", headers={"Accept-Encoding": accept_encoding}
    ) as answer:
        body = b"".join(answer.iter_raw())
    assert answer.status_code == 200
    assert (answer.headers.get("content-encoding") == "gzip") is gzipped
    assert body.startswith(b"\x1f\x8b") is gzipped


def _declared(turtle: str) -> dict[str, str]:
    return {
        line.split()[1].rstrip(":"): line.split()[2].strip("<>")
        for line in turtle.splitlines()
        if line.startswith("@prefix")
    }


def test_dumps_pages_and_query_results_share_one_prefix_map(client: httpx.Client) -> None:
    dump = _declared(client.get("/dumps/graph.ttl").text)
    page = _declared(client.get("/doc/city/dortmund.ttl").text)
    construct = _declared(
        client.get(
            "/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1"}, headers={"Accept": "text/turtle"}
        ).text
    )
    assert dump == page == construct
    assert dump["wd"] == "http://www.wikidata.org/entity/"
    assert dump["id"].endswith("/id/")


@pytest.mark.parametrize(
    ("path", "name", "media_type"),
    [
        ("/doc/city/dortmund", "rdfxml", "application/rdf+xml"),
        ("/doc/city/dortmund", "turtle", "text/turtle"),
        ("/catalog", "jsonld", "application/ld+json"),
        ("/catalog", "rdfxml", "application/rdf+xml"),
        ("/catalog", "nt", "application/n-triples"),
        ("/.well-known/void", "json-ld", "application/ld+json"),
        ("/sparql?query=CONSTRUCT+WHERE+%7B%3Fs+%3Fp+%3Fo%7D+LIMIT+1", "rdfxml", "application/rdf+xml"),
    ],
)
def test_every_route_knows_the_same_format_names(client: httpx.Client, path: str, name: str, media_type: str) -> None:
    sep = "&" if "?" in path else "?"
    response = client.get(f"{path}{sep}format={name}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == media_type


def test_catalogue_in_every_rdf_suffix_with_validators(client: httpx.Client) -> None:
    for suffix, media_type in (
        ("ttl", "text/turtle"),
        ("jsonld", "application/ld+json"),
        ("nt", "application/n-triples"),
        ("rdf", "application/rdf+xml"),
    ):
        response = client.get(f"/catalog.{suffix}")
        assert response.status_code == 200
        assert response.headers["content-type"].split(";")[0] == media_type
        assert response.headers["content-location"] == f"/catalog.{suffix}"
    for path in ("/catalog", "/.well-known/void"):
        first = client.get(path)
        assert "etag" in first.headers, path
        assert client.get(path, headers={"If-None-Match": first.headers["etag"]}).status_code == 304


def test_the_query_worker_maps_names_to_the_engine_as_the_format_table_does() -> None:
    # The worker runs as a bare interpreter importing only the standard library and pyoxigraph, so it keeps its
    # own small map; this holds it to the one table.
    from api.sparql import worker  # noqa: PLC0415
    from graph.formats import GRAPH, RESULTS  # noqa: PLC0415

    assert {fmt.name: fmt.engine for fmt in RESULTS} == worker.RESULT_FORMATS
    assert {fmt.name: fmt.engine for fmt in GRAPH} == worker.GRAPH_FORMATS


def test_the_guard_and_the_worker_read_the_engines_unknown_function_message_alike() -> None:
    from api.sparql import worker  # noqa: PLC0415
    from graph import sparql_guard  # noqa: PLC0415

    assert sparql_guard.UNKNOWN_FUNCTION.pattern == worker.UNKNOWN_FUNCTION.pattern


@pytest.mark.parametrize(
    ("query", "media_type"),
    [
        ("SELECT * WHERE { ?s ?p ?o } LIMIT 1", "application/sparql-results+json"),
        ("ASK { ?s ?p ?o }", "application/sparql-results+json"),
        ("CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1", "application/ld+json"),
    ],
)
def test_sparql_answers_accept_application_json(client: httpx.Client, query: str, media_type: str) -> None:
    """Fuseki and Virtuoso answer `Accept: application/json`; clients written for them send it."""
    response = client.get("/sparql", params={"query": query}, headers={"Accept": "application/json"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == media_type
    response.json()


def test_sparql_answers_the_http_query_method(client: httpx.Client) -> None:
    """QUERY carries the query in its body like POST, but says the request is safe (Oxigraph and Fuseki take it)."""
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    direct = client.request(
        "QUERY",
        "/sparql",
        content=query.encode(),
        headers={"Content-Type": "application/sparql-query", "Accept": "text/csv"},
    )
    assert direct.status_code == 200, direct.text
    assert direct.text.splitlines()[0] == "n" and int(direct.text.splitlines()[1]) > 0
    form = client.request("QUERY", "/sparql", data={"query": query}, headers={"Accept": "text/csv"})
    assert form.text == direct.text
    refused = client.request(
        "QUERY",
        "/sparql",
        content=b"INSERT DATA { <a:a> <a:a> <a:a> }",
        headers={"Content-Type": "application/sparql-update"},
    )
    assert refused.status_code == 400
    assert "QUERY" in client.put("/sparql").headers["allow"]


def test_operation_ids_are_the_same_in_every_process() -> None:
    # A route answering several methods took its id from whichever method its set gave first, which differs
    # between processes (PYTHONHASHSEED): clients generated from one description missed operations in the next.
    code = (
        "from api.app import create_app; from graph.settings import Settings; "
        "spec = create_app(Settings()).openapi(); "
        "print(sorted(op['operationId'] for path in spec['paths'].values() for op in path.values()))"
    )
    seen = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3", "4")
    }
    assert len(seen) == 1
    assert "'reconcile_reconcile_get'" in seen.pop()
