"""The ontology as served over a real socket: RDF in each format, and an HTML page generated from the ontology file."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, RDF, RDFS

from graph.pipeline import load_ontology, run_build
from tests.conftest import RDF_FORMATS, Format, Server, negotiated, start_server, stop_server

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
SCK = "https://w3id.org/smartcity-kg/ontology#"


# The ontology is offered in every RDF format of a description.
FORMATS = list(RDF_FORMATS)


@pytest.fixture(scope="module")
def client(live_server: Server) -> Iterator[httpx.Client]:
    with live_server.client() as http:
        yield http


@pytest.fixture(scope="module")
def ontology() -> Graph:
    """The ontology file the service publishes."""
    return load_ontology()


def terms(ontology: Graph) -> list[URIRef]:
    found = [
        term
        for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
        for term in ontology.subjects(RDF.type, kind)
        if isinstance(term, URIRef) and str(term).startswith(SCK)
    ]
    assert found, "the ontology declares no terms"
    return sorted(found)


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda fmt: fmt.suffix)
@pytest.mark.parametrize("by_suffix", [True, False], ids=["suffix", "accept"])
def test_the_ontology_in_each_format_is_the_ontology_file(
    client: httpx.Client, ontology: Graph, fmt: Format, by_suffix: bool
) -> None:
    response = negotiated(client, "/ontology", fmt, by_suffix, offered=FORMATS, browser=BROWSER)
    if fmt.parser == "json-ld":  # the context the document names, as the server publishes it, put inline
        document = response.json()
        document["@context"] = client.get(document["@context"]).json()["@context"]
        served = Graph().parse(data=json.dumps(document), format=fmt.parser)
    else:
        served = Graph().parse(data=response.content, format=fmt.parser)
    assert isomorphic(served, ontology)


def test_a_browser_gets_the_documentation(client: httpx.Client) -> None:
    response = client.get("/ontology", headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-location"] == "/ontology.html"
    assert response.headers["etag"] == client.get("/ontology.html").headers["etag"]  # the same representation


def test_the_page_documents_every_term_with_both_labels_and_its_definition(
    client: httpx.Client, ontology: Graph
) -> None:
    page = html.unescape(client.get("/ontology.html").text)
    for term in terms(ontology):
        local = str(term)[len(SCK) :]
        assert f'id="{local}"' in page, f"{local} has no entry (so {term} does not resolve)"
        entry = page.split(f'id="{local}"', 1)[1].split("</section>", 1)[0]
        for lang in ("en", "de"):
            label = next(
                (o for o in ontology.objects(term, RDFS.label) if isinstance(o, Literal) and o.language == lang), None
            )
            assert label is not None, f"{local} has no {lang} label in the ontology"
            assert str(label) in entry, f"{local}: {lang} label missing"
        definition = ontology.value(term, URIRef("http://www.w3.org/2004/02/skos/core#definition"))
        assert definition is not None and str(definition) in entry


@pytest.mark.parametrize(
    ("term", "shown"),
    [
        (
            "Alliance",
            [
                'href="http://www.w3.org/ns/org#OrganizationalCollaboration"',
                ">org:OrganizationalCollaboration<",
                ">schema:Consortium<",
            ],
        ),
        ("municipalityOf", ['href="/ontology#Municipality"', 'href="/ontology#City"']),
        ("ags", ['href="http://purl.org/dc/terms/identifier"', ">xsd:string<"]),
    ],
)
def test_entries_show_domain_range_and_super_terms_as_links(client: httpx.Client, term: str, shown: list[str]) -> None:
    entry = client.get("/ontology.html").text.split(f'id="{term}"', 1)[1].split("</section>", 1)[0]
    for fragment in shown:
        assert fragment in entry


def test_the_page_speaks_german_when_asked(client: httpx.Client) -> None:
    page = client.get("/ontology", headers={"Accept": BROWSER, "Accept-Language": "de"}).text
    assert '<html lang="de">' in page and ">Klassen<" in page


@pytest.mark.parametrize(
    ("url", "accept", "status"),
    [
        ("/ontology.yaml", "*/*", 404),
        ("/ontology", "image/png", 406),
        ("/ontology?format=csv", "*/*", 400),
    ],
)
def test_what_is_not_offered_is_refused_clearly(client: httpx.Client, url: str, accept: str, status: int) -> None:
    response = client.get(url, headers={"Accept": accept})
    assert response.status_code == status
    assert response.json()["error"]["status"] == status


@pytest.mark.parametrize(
    ("url", "accept"),
    [
        ("/ontology.nt", "*/*"),
        ("/ontology?format=nt", "*/*"),
        ("/ontology", "application/n-triples"),
        ("/ontology?format=application/n-triples", "*/*"),
    ],
)
def test_n_triples_is_offered_like_every_other_format(
    client: httpx.Client, ontology: Graph, url: str, accept: str
) -> None:
    response = client.get(url, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/n-triples")
    assert isomorphic(Graph().parse(data=response.content, format="nt"), ontology)


def test_the_version_iri_answers_in_n_triples_too(client: httpx.Client, ontology: Graph) -> None:
    version = next(ontology.objects(None, OWL.versionIRI))
    response = client.get(str(version).removeprefix("https://w3id.org/smartcity-kg"), params={"format": "nt"})
    assert response.status_code == 200
    assert isomorphic(Graph().parse(data=response.content, format="nt"), ontology)


def test_the_version_iri_resolves_whatever_namespace_the_things_are_minted_in(tmp_path: Path, ontology: Graph) -> None:
    """The ontology's IRI is its own: a graph built in another namespace still serves the version it declares."""
    (head,) = ontology.subjects(RDF.type, OWL.Ontology)
    version = str(next(ontology.objects(head, OWL.versionIRI))).removeprefix(f"{head}/")
    run_build(Path(__file__).parent / "fixtures" / "mini", tmp_path / "store", "https://kg.example.org/")
    server = start_server(tmp_path / "store")
    try:
        with server.client() as http:
            served = http.get(f"/ontology/{version}", params={"format": "nt"})
            unknown = http.get("/ontology/0.0.0-unknown")
    finally:
        stop_server(server)
    assert served.status_code == 200, served.text
    assert isomorphic(Graph().parse(data=served.content, format="nt"), ontology)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"].endswith(f"this build serves {version}")


def test_head_and_conditional_requests(client: httpx.Client) -> None:
    plain = {"Accept-Encoding": "identity"}  # uncompressed, so that Content-Length can be compared
    got = client.get("/ontology.ttl", headers=plain)
    head = client.head("/ontology.ttl", headers=plain)
    assert (head.status_code, head.content) == (200, b"")
    for name in ("content-type", "content-length", "etag", "link", "content-location"):
        assert head.headers[name] == got.headers[name]
    assert client.get("/ontology.ttl", headers={"If-None-Match": got.headers["etag"]}).status_code == 304


def test_every_url_of_the_documentation_sends_the_same_page_under_one_tag(client: httpx.Client) -> None:
    # A strong ETag names one sequence of bytes: the version IRI's page was the same page but for its own path in
    # the language link, under the same tag.
    version = client.get("/ontology.ttl").text.split("owl:versionIRI <", 1)[1].split(">", 1)[0].rsplit("/", 1)[1]
    pages = [client.get(path, headers={"Accept": BROWSER}) for path in ("/ontology", f"/ontology/{version}")]
    pages.append(client.get("/ontology.html"))
    assert [page.status_code for page in pages] == [200, 200, 200]
    assert len({page.content for page in pages}) == 1
    assert len({page.headers["etag"] for page in pages}) == 1
    assert 'href="/ontology?lang=de"' in pages[0].text


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/ontology.ttl?format=ttl", 200),  # the suffix's own format, by any of its names
        ("/ontology.ttl?format=text/turtle", 200),
        ("/ontology.ttl?format=nt", 400),  # another format beside the suffix is not silently dropped
        ("/ontology.ttl?format=bogus", 400),
        ("/ontology?format=ttl&format=ttl", 200),
        ("/ontology?format=bogus&format=ttl", 400),  # two different names: neither wins by its place
        ("/ontology?format=ttl&format=nt", 400),
    ],
)
def test_a_format_named_beside_a_suffix_or_twice_is_never_dropped(client: httpx.Client, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status, response.text
    if status == 400:
        assert response.json()["status"] == 400
    else:
        assert response.headers["content-type"].startswith("text/turtle")
