"""What third-party clients rely on across routes: a valid OpenAPI description, the REST entry point, HEAD on
REST items, the ontology's version IRI, and compression on request."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest
from openapi_spec_validator import validate

pytestmark = pytest.mark.slow


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
    raw = httpx.get(f"{client.base_url}/sparql", params={"query": query},
                    headers={"Accept-Encoding": "gzip", "Accept": "application/sparql-results+json"})
    assert raw.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in raw.headers["vary"]
    assert b'"bindings"' in raw.content  # httpx decoded the gzip body
    item = client.get("/doc/alliance/drei-gewinnt.ttl", headers={"Accept-Encoding": "gzip"})
    assert item.headers["content-encoding"] == "gzip"
    etag = item.headers["etag"]
    assert etag.startswith('W/"'), "a compressed body's validator is weak"
    again = client.get("/doc/alliance/drei-gewinnt.ttl", headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304


def _declared(turtle: str) -> dict[str, str]:
    return {line.split()[1].rstrip(":"): line.split()[2].strip("<>")
            for line in turtle.splitlines() if line.startswith("@prefix")}


def test_dumps_pages_and_query_results_share_one_prefix_map(client: httpx.Client) -> None:
    dump = _declared(client.get("/dumps/graph.ttl").text)
    page = _declared(client.get("/doc/city/dortmund.ttl").text)
    construct = _declared(client.get("/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1"},
                                     headers={"Accept": "text/turtle"}).text)
    assert dump == page == construct
    assert dump["wd"] == "http://www.wikidata.org/entity/"
    assert dump["id"].endswith("/id/")
