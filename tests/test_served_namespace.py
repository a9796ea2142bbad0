"""A graph built in another namespace is served in that namespace everywhere: its manifest is the one source."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from graph.pipeline import run_build
from tests.conftest import start_server, stop_server

NAMESPACE = "https://kg.example.org/"
DEFAULT = "https://w3id.org/smartcity-kg/"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A server started without a namespace setting, on a store built under NAMESPACE."""
    store = tmp_path_factory.mktemp("namespace") / "store"
    run_build(Path(__file__).parent / "fixtures" / "mini", store, NAMESPACE)
    server = start_server(store)
    try:
        with server.client() as http:
            yield http
    finally:
        stop_server(server)


def test_the_landing_page_links_things_to_their_pages_here(client: httpx.Client) -> None:
    links = re.findall(r'href="([^"]*)"', client.get("/").text)
    assert any(link.startswith("/doc/") for link in links)
    assert not [link for link in links if link.startswith((NAMESPACE, DEFAULT))]


@pytest.mark.parametrize("path", ["/query", "/embed?query=SELECT%20*%20%7B%3Fs%20%3Fp%20%3Fo%7D"])
def test_the_editor_links_results_in_the_graph_s_namespace(client: httpx.Client, path: str) -> None:
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200, response.text
    assert set(re.findall(r'data-namespace="([^"]*)"', response.text)) == {NAMESPACE}


def test_sparql_turtle_declares_the_graph_s_prefix(client: httpx.Client) -> None:
    selected = client.get(
        "/sparql",
        params={"query": f'SELECT ?s {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), "{NAMESPACE}id/")) }} LIMIT 1'},
        headers={"Accept": "application/sparql-results+json"},
    )
    thing = selected.json()["results"]["bindings"][0]["s"]["value"]
    # A worker's answer, and a lookup's (evaluated in the server itself): each declares the graph's own `id:`.
    for query in (f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o FILTER(?s = <{thing}>) }}", f"DESCRIBE <{thing}>"):
        response = client.get("/sparql", params={"query": query}, headers={"Accept": "text/turtle"})
        assert response.status_code == 200, response.text
        assert f"@prefix id: <{NAMESPACE}id/> ." in response.text
        assert f"<{DEFAULT}id/>" not in response.text


def test_the_catalogue_and_the_feed_are_named_in_the_graph_s_namespace(client: httpx.Client) -> None:
    catalogue = client.get("/catalog", headers={"Accept": "application/n-triples"}).text
    assert f"<{NAMESPACE}catalog#dataset>" in catalogue
    assert f"<{DEFAULT}catalog" not in catalogue
    ids = re.findall(r"<id>([^<]*)</id>", client.get("/changes.atom").text)
    assert ids
    assert all(found.startswith(NAMESPACE) for found in ids), ids
