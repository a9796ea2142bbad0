"""Linked data over a real socket: /id redirects, /doc and /vocab in every format, errors, caching headers and the HTML
pages.

Expected labels are read from the same published store with SPARQL; RDF is parsed with rdflib, JSON-LD with the
context the document names, fetched from the live server.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import NamedTuple

import httpx
import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, ORG, OWL, PROV, RDF, RDFS, SKOS, XSD
from rdflib.term import Node

from api.pages.display import format_date
from graph.pipeline import load_ontology, run_build
from graph.pipeline.publish import publish_store
from graph.prefixes import PREFIXES, VOCABULARIES
from graph.store import EmbeddedStore, open_embedded
from graph.vocab import GEOSPARQL
from tests.conftest import NAMESPACE, RDF_FORMATS, Format, Server, negotiated, start_server, stop_server

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
SCK = "https://w3id.org/smartcity-kg/ontology#"
# One of each kind of thing the contract names; the label each must carry is read from the store.
THINGS = [
    "city/dortmund",
    "company/cisco",
    "alliance/allianz-smart-city-dortmund",
    "membership/allianz-smart-city-dortmund-dortmund-initiator",
    "agreement/dortmund-alliance-mou-2017",
    "source/dortmund-mou-2017",
]


REDIRECTS = [  # (Accept, suffix of the Location)
    ("text/turtle", ".ttl"),
    ("application/ld+json", ".jsonld"),
    ("application/n-triples", ".nt"),
    ("application/rdf+xml", ".rdf"),
    ("text/turtle;q=0.5, application/rdf+xml", ".rdf"),
    (BROWSER, ""),
    ("*/*", ""),
]


def iri(path: str) -> URIRef:
    return URIRef(f"{NAMESPACE}id/{path}")


def parse(client: httpx.Client, response: httpx.Response, parser: str) -> Graph:
    """The RDF of a response; JSON-LD with the context it references fetched from the server and put inline
    (rdflib would fetch it itself, but leaves the connection open)."""
    if parser != "json-ld":
        return Graph().parse(data=response.content, format=parser)
    document = response.json()
    context = client.get(document["@context"])
    assert (context.status_code, context.headers["content-type"]) == (200, "application/ld+json")
    document["@context"] = context.json()["@context"]
    return Graph().parse(data=json.dumps(document), format="json-ld")


@pytest.fixture(scope="module")
def client(live_server: Server) -> Iterator[httpx.Client]:
    with live_server.client() as http:
        yield http


@pytest.fixture(scope="module")
def labels(published_store: Path) -> dict[str, set[str]]:
    """Every rdfs:label of each thing in THINGS, as the published store has them."""
    store = open_embedded(published_store)
    found: dict[str, set[str]] = {}
    for path in THINGS:
        rows = store.query(
            "SELECT ?thing ?label WHERE { ?thing <http://www.w3.org/2000/01/rdf-schema#label> ?label }",
            substitutions={"thing": ox.NamedNode(str(iri(path)))},
        )
        assert isinstance(rows, ox.QuerySolutions)
        found[path] = {row["label"].value for row in rows}
        assert found[path], f"{path} has no label in the store; the test table is out of date"
    return found


class Sections(HTMLParser):
    """The links of an HTML page grouped by the <h2> they stand under, and what the page loads by itself."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.links: dict[str, list[tuple[str, str]]] = {"": []}
        self.assets: list[str] = []
        self._section = ""
        self._heading: list[str] | None = None
        self._link: tuple[str, list[str]] | None = None
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "h2":
            self._heading = []
        elif tag in ("header", "footer"):
            self._section = tag
            self.links.setdefault(tag, [])
        elif tag == "a" and "href" in attributes:
            self._link = (attributes["href"], [])
        if attributes.get("src") or (tag == "link" and attributes.get("rel") == "stylesheet"):
            self.assets.append(attributes.get("src") or attributes["href"])

    def handle_data(self, data: str) -> None:
        for collecting in (self._heading, self._link[1] if self._link else None):
            if collecting is not None:
                collecting.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2" and self._heading is not None:
            self._section = " ".join("".join(self._heading).split())
            self.links.setdefault(self._section, [])
            self._heading = None
        elif tag == "a" and self._link is not None:
            self.links[self._section].append((self._link[0], " ".join("".join(self._link[1]).split())))
            self._link = None


# --- /id ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", THINGS)
@pytest.mark.parametrize(("accept", "suffix"), REDIRECTS)
def test_id_redirects_to_the_document_in_the_negotiated_format(
    client: httpx.Client, path: str, accept: str, suffix: str
) -> None:
    response = client.get(f"/id/{path}", headers={"Accept": accept})
    assert response.status_code == 303
    assert response.headers["location"] == f"/doc/{path}{suffix}"
    assert "Accept" in response.headers["vary"]


def test_id_keeps_a_format_asked_for_in_the_query(client: httpx.Client) -> None:
    response = client.get("/id/city/dortmund?format=jsonld", headers={"Accept": BROWSER})
    assert (response.status_code, response.headers["location"]) == (303, "/doc/city/dortmund.jsonld")


def test_following_the_redirect_like_curl_gives_turtle_about_dortmund(client: httpx.Client) -> None:
    response = client.get("/id/city/dortmund", headers={"Accept": "text/turtle"}, follow_redirects=True)
    assert [r.status_code for r in response.history] == [303]
    assert (response.status_code, response.url.path) == (200, "/doc/city/dortmund.ttl")
    assert response.headers["content-type"].startswith("text/turtle")
    graph = Graph().parse(data=response.text, format="turtle")
    dortmund = iri("city/dortmund")
    assert (dortmund, RDFS.label, Literal("Dortmund", lang="de")) in graph
    assert (dortmund, OWL.sameAs, URIRef("http://www.wikidata.org/entity/Q1295")) in graph


# --- /doc in every format -------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", THINGS)
@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=lambda fmt: fmt.suffix)
@pytest.mark.parametrize("by_suffix", [True, False], ids=["suffix", "accept"])
def test_every_format_is_rdf_about_the_thing(
    client: httpx.Client, labels: dict[str, set[str]], path: str, fmt: Format, by_suffix: bool
) -> None:
    response = negotiated(client, f"/doc/{path}", fmt, by_suffix, offered=RDF_FORMATS, browser=BROWSER)
    graph = parse(client, response, fmt.parser)
    thing = iri(path)
    assert labels[path] <= {str(label) for label in graph.objects(thing, RDFS.label)}
    assert (thing, PROV.wasDerivedFrom, None) in graph or (None, PROV.wasDerivedFrom, thing) in graph


@pytest.mark.parametrize("path", THINGS)
def test_all_formats_say_the_same(client: httpx.Client, path: str) -> None:
    turtle = Graph().parse(data=client.get(f"/doc/{path}.ttl").text, format="turtle")
    for fmt in RDF_FORMATS[1:]:
        assert isomorphic(turtle, parse(client, client.get(f"/doc/{path}.{fmt.suffix}"), fmt.parser)), fmt.suffix


@pytest.mark.parametrize("path", THINGS)
def test_a_browser_gets_the_html_page_with_the_label(
    client: httpx.Client, labels: dict[str, set[str]], path: str
) -> None:
    response = client.get(f"/id/{path}", headers={"Accept": BROWSER}, follow_redirects=True)
    assert (response.status_code, response.url.path) == (200, f"/doc/{path}")
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-location"] == f"/doc/{path}.html"
    page = response.text
    assert all(label in html.unescape(page) for label in labels[path])
    assert '<meta name="viewport"' in page
    parsed = Sections(page)
    # The page is whole without script; the script it loads (the site search) and its styles come from this server.
    assert all(asset.startswith("/static/") for asset in parsed.assets), parsed.assets


@pytest.mark.parametrize("base", ["/doc/city/dortmund", "/vocab/role/member"])
def test_the_format_query_parameter_overrides_accept(client: httpx.Client, base: str) -> None:
    response = client.get(f"{base}?format=text/turtle", headers={"Accept": BROWSER})
    assert response.headers["content-type"].startswith("text/turtle")
    assert response.headers["content-location"] == f"{base}.ttl"


# The other names of the formats' media types in the one table, which /sparql answers as well.
ALIASES = [
    ("text/n3", "text/turtle"),
    ("application/x-turtle", "text/turtle"),
    ("application/turtle", "text/turtle"),
    ("application/json", "application/ld+json"),
]


@pytest.mark.parametrize("base", ["/doc/city/dortmund", "/vocab/role/member", "/ontology", "/catalog"])
@pytest.mark.parametrize(("accept", "media_type"), ALIASES, ids=[alias for alias, _ in ALIASES])
def test_every_resource_understands_the_media_type_aliases_of_the_format_table(
    client: httpx.Client, base: str, accept: str, media_type: str
) -> None:
    response = client.get(base, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == media_type
    graph = Graph().parse(data=response.content, format="turtle" if media_type == "text/turtle" else "json-ld")
    assert len(graph) > 0


# --- errors ---------------------------------------------------------------------------------------------------


class Bad(NamedTuple):
    url: str
    accept: str
    status: int
    media_type: str  # of the answer
    words: str  # that the message must contain


ERRORS = [
    Bad(*case)
    for case in [
        ("/doc/city/atlantis", "text/turtle", 404, "application/json", "no city with the key 'atlantis'"),
        ("/doc/city/atlantis", "*/*", 404, "application/json", "no city with the key 'atlantis'"),
        ("/doc/city/atlantis", BROWSER, 404, "text/html", "no city with the key 'atlantis'"),
        ("/doc/city/atlantis.ttl", BROWSER, 404, "application/json", "atlantis"),
        ("/doc/planet/earth", "text/turtle", 404, "application/json", "'planet' is not a type of thing here"),
        ("/doc/planet/earth", BROWSER, 404, "text/html", "is not a type of thing here"),
        ("/id/city/atlantis", "text/turtle", 404, "application/json", "no city with the key 'atlantis'"),
        ("/id/planet/earth", BROWSER, 404, "text/html", "is not a type of thing here"),
        ("/doc/city/dort%20mund", "text/turtle", 404, "application/json", "no city"),
        # Segments the Minter could not have minted are no thing's, whatever the graph holds: the same 404.
        ("/doc/city/Dortmund", "text/turtle", 404, "application/json", "no city with the key 'Dortmund'"),
        ("/id/city/dort_mund", "text/turtle", 404, "application/json", "no city with the key 'dort_mund'"),
        ("/vocab/role/Member", "text/turtle", 404, "application/json", "no concept 'Member' in the vocabulary 'role'"),
        ("/vocab/Role", "text/turtle", 404, "application/json", "there is no vocabulary 'Role'"),
        ("/doc/city/dortmund.xyz", "text/turtle", 404, "application/json", "no representation with the suffix .xyz"),
        ("/doc/city/dortmund", "image/png", 406, "application/json", "text/turtle, application/ld+json"),
        (
            "/doc/city/dortmund",
            "text/turtle;q=0, text/html;q=0, application/*;q=0",
            406,
            "application/json",
            "application/n-triples",
        ),
        ("/id/city/dortmund", "image/png", 406, "application/json", "text/html, text/turtle"),
        ("/doc/city/dortmund?format=yaml", "*/*", 400, "application/json", "unknown format 'yaml'"),
        (
            "/vocab/role/atlantis",
            "text/turtle",
            404,
            "application/json",
            "no concept 'atlantis' in the vocabulary 'role'",
        ),
        ("/vocab/role/atlantis", BROWSER, 404, "text/html", "no concept 'atlantis' in the vocabulary 'role'"),
        (
            "/vocab/theme/member",
            "text/turtle",
            404,
            "application/json",
            "no concept 'member' in the vocabulary 'theme'",
        ),
        ("/vocab/planet", "*/*", 404, "application/json", "there is no vocabulary 'planet'"),
        ("/vocab/planet.ttl", BROWSER, 404, "application/json", "there is no vocabulary 'planet'"),
        ("/vocab/planet", BROWSER, 404, "text/html", "there is no vocabulary 'planet'"),
        ("/vocab/role/mem%20ber", "text/turtle", 404, "application/json", "no concept 'mem ber'"),
        ("/vocab/role/%3Cmember%3E", "text/turtle", 404, "application/json", "no concept '<member>'"),
        ("/vocab/role/member.xyz", "text/turtle", 404, "application/json", "no representation with the suffix .xyz"),
        ("/vocab/role", "image/png", 406, "application/json", "text/turtle, application/ld+json"),
        ("/vocab/role/member?format=yaml", "*/*", 400, "application/json", "unknown format 'yaml'"),
    ]
]


@pytest.mark.parametrize("bad", ERRORS, ids=lambda bad: f"{bad.url} {bad.accept[:20]}")
def test_bad_requests_get_a_clear_answer(client: httpx.Client, bad: Bad) -> None:
    response = client.get(bad.url, headers={"Accept": bad.accept})
    assert response.status_code == bad.status
    assert response.headers["content-type"].split(";")[0] == bad.media_type
    if bad.media_type == "application/json":
        error = response.json()["error"]
        assert error["status"] == bad.status
        assert bad.words in error["message"]
    else:
        assert bad.words in html.unescape(response.text)
        assert "Traceback" not in response.text


@pytest.mark.parametrize("base", ["/doc/city/dortmund", "/vocab/role/member", "/vocab/role"])
def test_if_none_match_gives_304_per_representation(client: httpx.Client, base: str) -> None:
    turtle = client.get(f"{base}.ttl")
    etag = turtle.headers["etag"]
    again = client.get(f"{base}.ttl", headers={"If-None-Match": etag})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
    weak = f"W/{etag.removeprefix('W/')}"
    assert client.get(base, headers={"Accept": "text/turtle", "If-None-Match": weak}).status_code == 304
    assert client.get(f"{base}.ttl", headers={"If-None-Match": '"stale"'}).status_code == 200
    other = client.get(f"{base}.nt", headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["etag"] != etag


@pytest.mark.parametrize(
    ("url", "accept"),
    [
        ("/doc/city/dortmund.ttl", "*/*"),
        ("/doc/alliance/allianz-smart-city-dortmund", BROWSER),
        ("/doc/company/cisco", "application/ld+json"),
        ("/id/city/dortmund", "text/turtle"),
        ("/doc/city/atlantis", "text/turtle"),
        ("/vocab/role/member", BROWSER),
        ("/vocab/role.ttl", "*/*"),
        ("/vocab/role/lighthouse-city", "application/ld+json"),
        ("/vocab/role/atlantis", "text/turtle"),
    ],
)
def test_head_sends_the_headers_of_get_and_no_body(client: httpx.Client, url: str, accept: str) -> None:
    # Uncompressed, so that Content-Length can be compared (a gzip answer's length is known only by compressing).
    got = client.get(url, headers={"Accept": accept, "Accept-Encoding": "identity"})
    head = client.head(url, headers={"Accept": accept, "Accept-Encoding": "identity"})
    assert head.status_code == got.status_code
    assert head.content == b""
    for name in ("content-type", "content-length", "etag", "vary", "link", "content-location", "location"):
        assert head.headers.get(name) == got.headers.get(name), name


# --- JSON-LD --------------------------------------------------------------------------------------------------
def test_json_ld_reads_as_plain_json(client: httpx.Client, live_server: Server) -> None:
    document = client.get("/doc/city/dortmund.jsonld").json()
    assert document["@context"] == f"{live_server.url}/context.jsonld"
    city = document["@graph"][0]
    assert city["id"] == str(iri("city/dortmund"))
    assert city["label"] == {"de": "Dortmund"}
    assert "City" in city["type"]
    assert city["sameAs"] == "http://www.wikidata.org/entity/Q1295"
    citations = city["citations"] if isinstance(city["citations"], list) else [city["citations"]]
    assert {"id", "source", "locator", "claim"} <= set(citations[0])  # the citations sit inside the thing
    assert str(iri("source/dortmund-mou-2017")) in city["sources"]


def test_the_context_is_published_as_json_ld(client: httpx.Client) -> None:
    response = client.get("/context.jsonld")
    assert response.headers["content-type"] == "application/ld+json"
    terms = response.json()["@context"]
    for term in ("label", "type", "member", "role", "sources", "citations", "claim"):
        assert term in terms
    assert client.get("/context.jsonld?format=jsonld").headers["content-type"] == "application/ld+json"
    # The context is offered as JSON-LD alone: asking for another format is refused, naming the one offered.
    refused = client.get("/context.jsonld?format=nt")
    assert refused.status_code == 400
    assert "jsonld (application/ld+json)" in refused.json()["error"]["message"]


def test_every_json_ld_context_declares_the_one_prefix_map(client: httpx.Client) -> None:
    """`/context.jsonld` and the REST API's inline context read a prefix alike: `geo:` is GeoSPARQL in both, as in
    the data (`geo:hasGeometry`, `geo:asWKT`) and the ontology (`geo:Geometry`)."""
    published = client.get("/context.jsonld").json()["@context"]
    declared = {
        name: value
        for name, value in published.items()
        if isinstance(value, str) and not name.startswith("@") and value.endswith(("#", "/"))
    }
    assert declared == PREFIXES
    response = client.get("/api/v1/city/dortmund", headers={"Accept": "application/ld+json"})
    inline = response.json()["@context"]
    assert {name: inline[name] for name in VOCABULARIES} == {name: published[name] for name in VOCABULARIES}
    assert published["geo"] == inline["geo"] == str(GEOSPARQL)
    assert (URIRef(SCK + "Location"), RDFS.subClassOf, GEOSPARQL.Geometry) in load_ontology()


def test_the_context_has_a_term_for_every_property_of_the_ontology(client: httpx.Client) -> None:
    terms = client.get("/context.jsonld").json()["@context"]
    named = {
        (value if isinstance(value, str) else value.get("@id", "")).replace("sck:", SCK)
        for term, value in terms.items()
        if not term.startswith("@")
    }
    ontology = load_ontology()
    properties = {
        str(p)
        for kind in (OWL.ObjectProperty, OWL.DatatypeProperty)
        for p in ontology.subjects(RDF.type, kind)
        if str(p).startswith(SCK)
    }
    assert properties, "the ontology declares no properties"
    assert sorted(properties - named) == []


# --- the description --------------------------------------------------------------------------------------------
def test_a_city_is_described_with_the_alliances_its_municipality_belongs_to(client: httpx.Client) -> None:
    graph = Graph().parse(data=client.get("/doc/city/dortmund.ttl").text, format="turtle")
    municipality, alliance = iri("municipality/dortmund"), iri("alliance/allianz-smart-city-dortmund")
    assert (municipality, URIRef(SCK + "municipalityOf"), iri("city/dortmund")) in graph
    memberships = set(graph.subjects(ORG.member, municipality))
    assert any((m, ORG.organization, alliance) in graph for m in memberships)
    for membership in memberships:  # each with its alliance, named, and the role the city plays in it
        organization = graph.value(membership, ORG.organization)
        assert (organization, RDFS.label, None) in graph and (membership, ORG.role, None) in graph
    assert (alliance, RDFS.label, Literal("Allianz Smart City Dortmund", lang="de")) in graph
    # the citation nodes of the city and what they say
    citations = set(graph.objects(iri("city/dortmund"), PROV.qualifiedDerivation))
    assert citations and all((c, URIRef(SCK + "claim"), None) in graph for c in citations)


def test_a_source_is_described_with_what_cites_it(client: httpx.Client) -> None:
    graph = Graph().parse(data=client.get("/doc/source/dortmund-mou-2017.ttl").text, format="turtle")
    source = iri("source/dortmund-mou-2017")
    assert (iri("city/dortmund"), PROV.wasDerivedFrom, source) in graph
    citations = set(graph.subjects(PROV.entity, source))
    assert citations and all((c, URIRef(SCK + "claim"), None) in graph for c in citations)


def test_the_alliance_page_lists_its_members_with_links_that_resolve(client: httpx.Client) -> None:
    page = Sections(client.get("/doc/alliance/allianz-smart-city-dortmund", headers={"Accept": BROWSER}).text)
    members = {href: text for href, text in page.links["Members"] if href.startswith("/doc/")}
    assert members["/doc/municipality/dortmund"] == "Stadt Dortmund"
    assert members["/doc/company/cisco"] == "Cisco"
    assert "/doc/organization/ihk-dortmund" in members
    for href, text in page.links["Members"]:
        assert not text.startswith("http"), f"{href} is shown by its IRI, not its label"
        response = client.get(href, headers={"Accept": BROWSER})
        assert response.status_code == 200, href


def test_the_city_page_shows_memberships_sources_identifiers_and_formats(client: httpx.Client) -> None:
    response = client.get("/doc/city/dortmund", headers={"Accept": BROWSER, "Accept-Language": "en"})
    page, text = Sections(response.text), response.text
    alliances = page.links["Alliances over time"]
    assert ("/doc/alliance/allianz-smart-city-dortmund", "Allianz Smart City Dortmund") in alliances
    assert '<td data-label="since"><span>since 9 December 2016 (stated in 1 source)</span></td>' in text
    assert ("/doc/source/dortmund-mou-2017", "Smarte Zusammenarbeit bestätigt") in page.links["What each source says"]
    assert "The City of Dortmund is one of the initiators of the Allianz Smart City Dortmund." in html.unescape(text)
    identifiers = {href for href, _ in page.links["Identifiers"]}
    assert {
        "http://www.wikidata.org/entity/Q1295",
        "http://dcat-ap.de/def/politicalGeocoding/municipalityKey/05913000",
    } <= identifiers
    formats = dict(page.links["This description as data"])
    assert set(formats) == {f"/doc/city/dortmund.{fmt.suffix}" for fmt in RDF_FORMATS}
    assert all(client.get(href).status_code == 200 for href in formats)


@pytest.mark.parametrize(
    ("url", "headers", "expected"),
    [
        ("/doc/city/dortmund?lang=de", {}, '<td data-label="since"><span>seit 9. Dezember 2016 ('),
        ("/doc/city/dortmund", {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}, "<span>seit 9. Dezember 2016 ("),
        (
            "/doc/city/dortmund",
            {"Accept-Language": "en-GB,en;q=0.9"},
            '<td data-label="since"><span>since 9 December 2016',
        ),
        ("/doc/membership/allianz-smart-city-dortmund-dortmund-founding-member?lang=de", {}, "9. Dezember 2016"),
        ("/doc/event/allianz-smart-city-dortmund-founding-2016-12?lang=de", {}, "Dezember 2016"),
        ("/doc/event/allianz-smart-city-dortmund-founding-2016-12?lang=en", {}, "December 2016"),
    ],
)
def test_pages_write_dates_at_their_precision_in_the_page_language(
    client: httpx.Client, url: str, headers: dict[str, str], expected: str
) -> None:
    response = client.get(url, headers={"Accept": BROWSER, **headers})
    assert response.status_code == 200
    assert expected in response.text
    assert "Accept-Language" in response.headers["vary"]


@pytest.mark.parametrize(
    ("value", "datatype", "lang", "expected"),
    [
        ("2016", "gYear", "de", "2016"),
        ("2016-12", "gYearMonth", "de", "Dezember 2016"),
        ("2016-12-09", "date", "de", "9. Dezember 2016"),
        ("2016", "gYear", "en", "2016"),
        ("2016-03", "gYearMonth", "en", "March 2016"),
        ("2016-12-09", "date", "en", "9 December 2016"),
        ("P3Y", "duration", "en", "P3Y"),
    ],
)
def test_dates_are_written_at_their_precision(value: str, datatype: str, lang: str, expected: str) -> None:
    literal = ox.Literal(value, datatype=ox.NamedNode(f"http://www.w3.org/2001/XMLSchema#{datatype}"))
    assert format_date(literal, lang) == expected


# --- /vocab: the controlled vocabularies ---------------------------------------------------------------------------
# Concepts (one with a broader concept) and schemes; what each must say is read from the store.
VOCABULARY = ["role/member", "role/central-implementation-partner", "theme/energy", "role", "theme"]


def vocab(path: str) -> URIRef:
    return URIRef(f"{NAMESPACE}vocab/{path}")


def statements(store: EmbeddedStore, query: str, node: URIRef) -> Graph:
    """The triples a CONSTRUCT `query` about `?node` finds in the published store."""
    outcome = store.query(query, substitutions={"node": ox.NamedNode(str(node))})
    assert isinstance(outcome, ox.QueryTriples)
    return Graph().parse(data=outcome.serialize(format=ox.RdfFormat.N_TRIPLES), format="nt")


@pytest.mark.parametrize("path", VOCABULARY)
@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=lambda fmt: fmt.suffix)
@pytest.mark.parametrize("by_suffix", [True, False], ids=["suffix", "accept"])
def test_every_format_says_all_the_graph_says_of_a_vocabulary_node(
    client: httpx.Client, store: EmbeddedStore, path: str, fmt: Format, by_suffix: bool
) -> None:
    response = negotiated(client, f"/vocab/{path}", fmt, by_suffix, offered=RDF_FORMATS, browser=BROWSER)
    node = vocab(path)
    own = statements(store, "CONSTRUCT { ?node ?p ?o } WHERE { ?node ?p ?o }", node)
    assert len(own) >= 2, f"{path} is not in the store; the test table is out of date"
    # ... and, like every description, the date of the release that last changed it (here the only one).
    own.add((node, DCTERMS.modified, Literal(store.manifest.modified, datatype=XSD.dateTime)))
    described = parse(client, response, fmt.parser)
    assert set(described.triples((node, None, None))) == set(own)


def test_a_concept_names_its_scheme_and_broader_concept(client: httpx.Client) -> None:
    graph = Graph().parse(data=client.get("/vocab/role/central-implementation-partner.ttl").text, format="turtle")
    concept, broader = vocab("role/central-implementation-partner"), vocab("role/implementation-partner")
    assert (concept, RDF.type, SKOS.Concept) in graph
    assert (concept, SKOS.prefLabel, Literal("Zentraler Implementierungspartner", lang="de")) in graph
    assert (concept, SKOS.broader, broader) in graph
    assert (broader, RDFS.label, Literal("Implementierungspartner", lang="de")) in graph
    assert (concept, SKOS.inScheme, vocab("role")) in graph
    assert (vocab("role"), RDFS.label, Literal("role")) in graph


def test_a_concept_is_not_described_with_what_uses_it(client: httpx.Client, store: EmbeddedStore) -> None:
    member = vocab("role/member")
    memberships = statements(store, f"CONSTRUCT {{ ?m <{ORG.role}> ?node }} WHERE {{ ?m <{ORG.role}> ?node }}", member)
    assert len(memberships) > 10, "the curated data has no memberships in the role member; the test needs some"
    graph = parse(client, client.get("/vocab/role/member.jsonld"), "json-ld")
    assert not set(graph.triples((None, ORG.role, member)))
    # Nothing but the concept and what it points at (its scheme, its classes), with their labels.
    assert set(graph.subjects()) <= {member, *graph.objects(member, None)}
    assert (vocab("role"), RDFS.label, Literal("role")) in graph


@pytest.mark.parametrize("scheme", ["role", "theme"])
def test_a_scheme_lists_its_concepts_with_their_labels(client: httpx.Client, store: EmbeddedStore, scheme: str) -> None:
    query = (
        f"CONSTRUCT {{ ?c <{SKOS.inScheme}> ?node ; <{RDFS.label}> ?label }} "
        f"WHERE {{ ?c <{SKOS.inScheme}> ?node ; <{RDFS.label}> ?label }}"
    )
    expected = statements(store, query, vocab(scheme))
    assert len(set(expected.subjects())) > 5
    graph = Graph().parse(data=client.get(f"/vocab/{scheme}.ttl").text, format="turtle")
    assert (vocab(scheme), RDF.type, SKOS.ConceptScheme) in graph
    assert set(expected) <= set(graph)
    assert set(graph.subjects(SKOS.inScheme, None)) == set(expected.subjects())


@pytest.mark.parametrize(
    ("lang", "title", "other"),
    [
        ("de", "Zentraler Implementierungspartner", "Central implementation partner"),
        ("en", "Central implementation partner", "Zentraler Implementierungspartner"),
    ],
)
def test_a_browser_gets_the_concept_page_in_its_language(
    client: httpx.Client, lang: str, title: str, other: str
) -> None:
    url = "/vocab/role/central-implementation-partner"
    response = client.get(url, headers={"Accept": BROWSER, "Accept-Language": lang})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-location"] == f"{url}.html"
    assert "Accept-Language" in response.headers["vary"]
    page = html.unescape(response.text)
    assert f'<h1 lang="{lang}">{title}</h1>' in page
    assert other in page
    assert "The company named as the main partner that puts an alliance's digitalisation into practice." in page
    assert "Implementierungspartner" in page  # the broader concept, by its label
    parsed = Sections(response.text)
    assert all(asset.startswith("/static/") for asset in parsed.assets), parsed.assets
    formats = {href for links in parsed.links.values() for href, _ in links if href.startswith(f"{url}.")}
    assert formats == {f"{url}.{fmt.suffix}" for fmt in RDF_FORMATS}


def test_the_scheme_page_shows_every_concept_by_its_label(client: httpx.Client, store: EmbeddedStore) -> None:
    query = f"CONSTRUCT {{ ?c <{RDFS.label}> ?label }} WHERE {{ ?c <{SKOS.inScheme}> ?node ; <{RDFS.label}> ?label }}"
    english = {
        str(label)
        for label in statements(store, query, vocab("role")).objects()
        if isinstance(label, Literal) and label.language == "en"
    }
    response = client.get("/vocab/role", headers={"Accept": BROWSER, "Accept-Language": "en"})
    assert (response.status_code, response.headers["content-location"]) == (200, "/vocab/role.html")
    page = html.unescape(response.text)
    assert "<h1>role</h1>" in page
    assert english and all(f">{label}<" in page for label in english)


@pytest.mark.parametrize(
    ("page", "link"),
    [
        ("/vocab/role/central-implementation-partner", "/vocab/role"),  # its scheme
        ("/vocab/role/central-implementation-partner", "/vocab/role/implementation-partner"),  # its broader concept
        ("/vocab/role", "/vocab/role/member"),  # a concept of the scheme
    ],
)
def test_vocabulary_nodes_on_pages_link_to_their_own_pages(client: httpx.Client, page: str, link: str) -> None:
    response = client.get(page, headers={"Accept": BROWSER, "Accept-Language": "en"})
    hrefs = {href for links in Sections(response.text).links.values() for href, _ in links}
    assert link in hrefs
    assert client.get(link, headers={"Accept": BROWSER}).status_code == 200


def test_the_vocabulary_routes_are_in_the_openapi_description(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/vocab/{scheme}", "/vocab/{scheme}/{concept}"):
        operation = paths[path]["get"]
        assert operation["summary"]
        assert {"text/html", "text/turtle", "application/ld+json"} <= set(operation["responses"]["200"]["content"])
        assert "404" in operation["responses"]


# --- a retired thing --------------------------------------------------------------------------------------------
RETIRED_DATA = """
sources:
  - key: gazette
    kind: web-page
    title: Municipal gazette
    url: https://example.org/gazette
cities:
  - key: oldtown
    name: Oldtown
    citations:
      - {source: gazette, at: page 1, claim: Oldtown merged into Newtown.}
  - key: newtown
    name: Newtown
    citations:
      - {source: gazette, at: page 1, claim: Newtown took in Oldtown.}
concepts:
  - {scheme: source-kind, key: web-page, de: Webseite, en: Web page, definition: A page of a web site.}
"""


@pytest.fixture(scope="module")
def small_graph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    """A server on a graph of two towns, built from data of this test's own."""
    root = tmp_path_factory.mktemp("retired")
    (root / "data").mkdir()
    (root / "data" / "towns.yaml").write_text(RETIRED_DATA, encoding="utf-8")
    run_build(root / "data", root / "store", NAMESPACE)
    server = start_server(root / "store")
    yield server, root / "store"
    stop_server(server)
    if server.process.stderr is not None:
        server.process.stderr.close()  # the pipe start_server opened; left open it warns when collected


def publish_again(store_dir: Path, quads: Iterable[ox.Quad]) -> None:
    """Publish `quads` as the store's next build."""
    manifest = open_embedded(store_dir).manifest
    written = ox.serialize(quads, format=ox.RdfFormat.N_QUADS)
    assert written is not None
    nquads = "".join(f"{line}\n" for line in sorted(set(written.decode().splitlines()))).encode()
    publish_store(nquads, store_dir, namespace=NAMESPACE, modified=manifest.modified, data_files=manifest.data_files)


def retire(store_dir: Path, old: str, new: str) -> None:
    """Publish the store's graph again with `old` marked retired and replaced by `new`."""
    data_graph = ox.NamedNode(f"{NAMESPACE}graph/data")
    marks = [
        ox.Quad(
            ox.NamedNode(old),
            ox.NamedNode(str(OWL.deprecated)),
            ox.Literal("true", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean")),
            data_graph,
        ),
        ox.Quad(
            ox.NamedNode(old), ox.NamedNode("http://purl.org/dc/terms/isReplacedBy"), ox.NamedNode(new), data_graph
        ),
    ]
    publish_again(store_dir, [*open_embedded(store_dir).quads(), *marks])


def test_a_retired_thing_is_gone_and_names_its_successor(small_graph: tuple[Server, Path]) -> None:
    server, store = small_graph
    with server.client() as http:
        assert http.get("/doc/city/oldtown.ttl").status_code == 200  # described (and cached) before the change
        retire(store, str(iri("city/oldtown")), str(iri("city/newtown")))

        gone = http.get("/doc/city/oldtown.ttl")  # a new build: nothing of the old one is served from a cache
        assert gone.status_code == 410
        assert gone.json()["error"]["replacedBy"] == ["/id/city/newtown"]
        assert "/id/city/newtown" in gone.json()["error"]["message"]
        assert gone.headers["link"] == '</id/city/newtown>; rel="successor-version"'

        page = http.get("/id/city/oldtown", headers={"Accept": BROWSER}, follow_redirects=True)
        assert page.status_code == 410
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert ("/id/city/newtown", "/id/city/newtown") in Sections(page.text).links["header"]

        successor = http.get("/id/city/newtown", headers={"Accept": "text/turtle"}, follow_redirects=True)
        assert successor.status_code == 200
        assert (iri("city/newtown"), RDFS.label, Literal("Newtown", lang="de")) in Graph().parse(
            data=successor.text, format="turtle"
        )


# --- a new build --------------------------------------------------------------------------------------------------
def test_a_new_build_is_described_in_its_own_words(tmp_path: Path) -> None:
    """The labels of the vocabulary are kept from one request to the next, but never into another build."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "towns.yaml").write_text(RETIRED_DATA, encoding="utf-8")
    run_build(tmp_path / "data", tmp_path / "store", NAMESPACE)
    web_page = URIRef(f"{NAMESPACE}vocab/source-kind/web-page")
    server = start_server(tmp_path / "store")
    try:
        with server.client() as http:

            def labels() -> tuple[str, set[Node]]:
                thing = http.get("/api/v1/source/gazette")
                description = Graph().parse(data=http.get("/doc/source/gazette.ttl").text, format="turtle")
                return thing.json()["kind"]["label"], set(description.objects(web_page, RDFS.label))

            assert labels() == ("Webseite", {Literal("Webseite", lang="de"), Literal("Web page", lang="en")})
            old, new = ox.Literal("Webseite", language="de"), ox.Literal("Internetseite", language="de")
            publish_again(
                tmp_path / "store",
                [
                    ox.Quad(q.subject, q.predicate, new, q.graph_name) if q.object == old else q
                    for q in open_embedded(tmp_path / "store").quads()
                ],
            )
            assert labels() == ("Internetseite", {Literal("Internetseite", lang="de"), Literal("Web page", lang="en")})
    finally:
        stop_server(server)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # A start known only from a report of 2016: a bound, with the source behind it.
        ("/doc/alliance/drei-gewinnt?lang=en", "by 2016 (a bound: reported by 1 source published then)"),
        (
            "/doc/alliance/drei-gewinnt?lang=de",
            "seit spätestens 2016 (Obergrenze: berichtet von 1 damals erschienenen Quelle)",
        ),
        # The agreement's own page says the same of its signing.
        ("/doc/agreement/berlin-siemens-innovationscampus-2018?lang=en", "by October 2018"),
        ("/doc/agreement/berlin-siemens-innovationscampus-2018?lang=de", "spätestens Oktober 2018"),
        # A stated date says so, and how many sources state it.
        ("/doc/city/dortmund?lang=en", "since 9 December 2016 (stated in 1 source)"),
        ("/doc/agreement/dortmund-alliance-mou-2017?lang=de", "8. Juni 2017 (genannt in 1 Quelle)"),
    ],
)
def test_pages_tell_a_stated_date_from_a_bound(client: httpx.Client, url: str, expected: str) -> None:
    response = client.get(url, headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert expected in html.unescape(response.text)
