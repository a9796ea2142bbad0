"""The catalogue and the VoID description, fetched from the real server: conformant, and true to the graph."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from pyshacl import validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, SH, VOID, XSD
from rdflib.term import Node

from graph.prefixes import PREFIXES
from graph.published import DUMP_FILES, current_build
from graph.releases import dump_name
from graph.store import EmbeddedStore
from tests.conftest import start_server, stop_server

VENDOR_SHAPES = (
    "dcat-ap-3.0.1/shapes.ttl",
    "dcat-ap-3.0.1/range.ttl",
    "dcat-ap-3.0.1/mdr-vocabularies.shape.ttl",
    "dcat-ap-de-3.0/dcat-ap-SHACL-3.0.0.ttl",
    "dcat-ap-de-3.0/dcat-ap-SHACL-DE.ttl",
    "dcat-ap-de-3.0/dcat-ap-de-controlledvocabularies.ttl",
    "dcat-ap-de-3.0/dcat-ap-de-deprecated.ttl",
    "dcat-ap-de-3.0/dcat-ap-spec-german-additions.ttl",
)
SCK = "https://w3id.org/smartcity-kg/ontology#"
SPDX_ALGORITHM = URIRef("http://spdx.org/rdf/terms#algorithm")
SHA256 = URIRef("http://spdx.org/rdf/terms#checksumAlgorithm_sha256")
RDF_TYPES = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
    "application/n-triples": "nt",
}


def fetch(client: httpx.Client, url: str, accept: str | None = None) -> Graph:
    response = client.get(url, headers={"Accept": accept} if accept else {})
    assert response.status_code == 200, response.text
    media_type = response.headers["content-type"].split(";")[0]
    assert media_type == (accept or "text/turtle")
    return Graph().parse(data=response.content, format=RDF_TYPES[media_type])


def count(store: EmbeddedStore, query: str) -> int:
    solutions = store.query(f"PREFIX sck: <{SCK}>\n" + query)
    assert isinstance(solutions, ox.QuerySolutions)
    return int(next(iter(solutions))["n"].value)


def one(graph: Graph, subject: Node | None, predicate: URIRef) -> Node:
    values = list(graph.objects(subject, predicate))
    assert len(values) == 1, (subject, predicate, values)
    return values[0]


def number(graph: Graph, subject: Node, predicate: URIRef) -> int:
    return int(str(one(graph, subject, predicate)))


def shape_violations(catalogue: Graph, vendor: Path) -> list[str]:
    """The DCAT-AP 3.0.1 and DCAT-AP.de violations of a catalogue, each as focus node, path and message."""
    shapes = Graph()
    for name in VENDOR_SHAPES:
        shapes.parse(vendor / name)
    # The licence checks look for the licence's concept scheme in the data: merge what the vocabulary says of the
    # licences the catalogue uses (not the whole vocabulary, whose own scheme node is no part of the catalogue).
    licences = Graph().parse(vendor / "dcat-ap-de-3.0" / "dcat-ap-de-licenses-open.rdf")
    used = set(catalogue.objects(None, DCTERMS.license))
    assert used == {URIRef("http://dcat-ap.de/def/licenses/cc-by/4.0")}
    data = catalogue + Graph()
    for triple in licences.triples((None, None, None)):
        if triple[0] in used:
            data.add(triple)
    _, report, _ = validate(data, shacl_graph=shapes)
    return [
        f"{report.value(result, SH.focusNode)} {report.value(result, SH.resultPath)}: "
        f"{report.value(result, SH.resultMessage)}"
        for result in report.objects(None, SH.result)
        if (result, SH.resultSeverity, SH.Violation) in report and not _spdx_namespace_quirk(report, result)
    ]


def _spdx_namespace_quirk(report: Graph, result: Node) -> bool:
    """DCAT-AP 3.0.1's controlled-vocabulary shapes want a checksum algorithm IRI starting `https://spdx.org/rdf/terms`;
    SPDX names its algorithms in `http://spdx.org/rdf/terms#` (checksumAlgorithm_sha256), which is what harvesters
    and the DCAT-AP.de shapes expect. Only that one pattern on that one value is set aside."""
    return (
        report.value(result, SH.resultPath) == SPDX_ALGORITHM
        and report.value(result, SH.value) == SHA256
        and report.value(result, SH.sourceConstraintComponent) == SH.NodeConstraintComponent
    )


def test_catalogue_has_no_violations_of_the_dcat_ap_de_shapes(client: httpx.Client, shared_dir: Path) -> None:
    violations = shape_violations(fetch(client, "/catalog"), shared_dir / "vendor")
    assert not violations, "\n".join(violations)


def test_catalogue_describes_the_graph_and_its_dumps(client: httpx.Client, store: EmbeddedStore) -> None:
    catalogue = fetch(client, "/catalog")
    (dataset,) = catalogue.subjects(RDF.type, DCAT.Dataset)
    assert isinstance(dataset, URIRef)
    assert one(catalogue, None, DCAT.dataset) == dataset
    assert one(catalogue, dataset, DCTERMS.modified) == Literal(store.manifest.modified, datatype=XSD.dateTime)
    query = f"PREFIX sck: <{SCK}>\nSELECT DISTINCT ?k WHERE {{ ?c a sck:City ; sck:municipalityKey ?k }}"
    solutions = store.query(query)
    assert isinstance(solutions, ox.QuerySolutions)
    keys = {URIRef(row["k"].value) for row in solutions}
    assert keys and set(catalogue.objects(dataset, DCTERMS.spatial)) == keys
    contact = one(catalogue, dataset, DCAT.contactPoint)
    assert str(one(catalogue, contact, URIRef("http://www.w3.org/2006/vcard/ns#hasEmail"))).startswith("mailto:")
    distributions = set(catalogue.objects(dataset, DCAT.distribution))
    assert len(distributions) == len(DUMP_FILES)
    for distribution in distributions:
        url = str(one(catalogue, distribution, DCAT.downloadURL))
        head = client.head(url)
        assert head.status_code == 200, url
        assert int(head.headers["content-length"]) == number(catalogue, distribution, DCAT.byteSize)
        assert one(catalogue, distribution, DCTERMS.license) == URIRef("http://dcat-ap.de/def/licenses/cc-by/4.0")
        media_type = str(one(catalogue, distribution, DCAT.mediaType)).rsplit("media-types/", 1)[1]
        if url.endswith(".gz"):
            assert head.headers["content-type"] == "application/gzip"
            assert str(one(catalogue, distribution, DCAT.compressFormat)).endswith("/application/gzip")
        else:
            assert head.headers["content-type"].split(";")[0] == media_type
    for service in catalogue.objects(None, DCAT.service):
        assert one(catalogue, service, DCAT.servesDataset) == dataset
    endpoints = {str(one(catalogue, s, DCAT.endpointURL)) for s in catalogue.objects(None, DCAT.service)}
    assert str(client.base_url.join("/sparql")) in endpoints


def test_only_the_dataset_itself_is_a_dcat_dataset(client: httpx.Client, store: EmbeddedStore) -> None:
    catalogue = fetch(client, "/catalog")
    assert len(set(catalogue.subjects(RDF.type, DCAT.Dataset))) == 1
    assert count(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s a <{DCAT.Dataset}> }}") == 0


@pytest.mark.parametrize(
    ("url", "accept"),
    [
        ("/catalog", "application/ld+json"),
        ("/catalog", "application/rdf+xml"),
        ("/catalog", "application/n-triples"),
        ("/catalog.jsonld", None),
        ("/catalog.rdf", None),
        ("/catalog.ttl", None),
    ],
)
def test_catalogue_is_the_same_in_every_format(client: httpx.Client, url: str, accept: str | None) -> None:
    turtle = fetch(client, "/catalog")
    response = client.get(url, headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    media_type = response.headers["content-type"].split(";")[0]
    assert media_type == accept or accept is None
    other = Graph().parse(data=response.content, format=RDF_TYPES[media_type])
    assert len(other) == len(turtle)
    assert set(other.subjects(RDF.type, DCAT.Distribution)) == set(turtle.subjects(RDF.type, DCAT.Distribution))


@pytest.mark.parametrize("path", ["/catalog", "/.well-known/void"])
def test_the_catalogue_speaks_the_one_prefix_map(client: httpx.Client, path: str) -> None:
    context = client.get(path, headers={"Accept": "application/ld+json"}).json()["@context"]
    assert context and all(PREFIXES.get(prefix) == namespace for prefix, namespace in context.items()), context
    turtle = client.get(path, headers={"Accept": "text/turtle"}).text
    declared = dict(re.findall(r"^@prefix (\w*): <([^>]*)> \.$", turtle, re.MULTILINE))
    assert declared and all(PREFIXES.get(prefix) == namespace for prefix, namespace in declared.items()), declared


def test_catalogue_negotiation_refuses_what_it_cannot_give(client: httpx.Client) -> None:
    refused = client.get("/catalog", headers={"Accept": "text/html"})
    assert refused.status_code == 406 and "text/turtle" in refused.json()["error"]["message"]
    assert client.get("/catalog.pdf").status_code == 404
    head = client.head("/catalog")
    assert head.status_code == 200 and head.content == b"" and head.headers["vary"].startswith("Accept")


def test_catalogue_uses_the_configured_base_url(published_store: Path) -> None:
    server = start_server(published_store, {"SMARTCITY_KG_BASE_URL": "https://data.example.org/kg/"})
    try:
        with server.client() as client:
            catalogue = fetch(client, "/catalog")
    finally:
        stop_server(server)
        if server.process.stderr is not None:
            server.process.stderr.close()
    urls = {str(o) for o in catalogue.objects(None, DCAT.downloadURL)}
    release = current_build(published_store)[1].release
    assert urls == {
        f"https://data.example.org/kg/dumps/{release}/{dump_name(release, name)}" for name in DUMP_FILES.values()
    }


def test_void_statistics_are_counted_from_the_graph(client: httpx.Client, store: EmbeddedStore) -> None:
    void = fetch(client, "/.well-known/void")
    dataset = one(void, None, FOAF.primaryTopic)
    assert (dataset, RDF.type, VOID.Dataset) in void
    every_triple = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    answer = client.get(
        str(one(void, dataset, VOID.sparqlEndpoint)),
        params={"query": every_triple},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert answer.status_code == 200, answer.text
    endpoint_count = int(answer.json()["results"]["bindings"][0]["n"]["value"])
    assert number(void, dataset, VOID.triples) == endpoint_count == count(store, every_triple)
    classes = count(store, "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { GRAPH ?g { ?s a ?c } }")
    assert number(void, dataset, VOID.classes) == classes
    partitions = {
        one(void, p, VOID["class"]): number(void, p, VOID.entities) for p in void.objects(dataset, VOID.classPartition)
    }
    assert len(partitions) == classes
    assert partitions[URIRef(SCK + "City")] == count(store, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a sck:City }")
    links = {
        one(void, linkset, VOID.linkPredicate): number(void, linkset, VOID.triples)
        for linkset in void.subjects(RDF.type, VOID.Linkset)
    }
    assert links[URIRef(SCK + "municipalityKey")] == count(
        store, "SELECT (COUNT(*) AS ?n) WHERE { ?s sck:municipalityKey ?o }"
    )
    assert links[URIRef("http://www.w3.org/2002/07/owl#sameAs")] == count(
        store,
        "SELECT (COUNT(*) AS ?n) WHERE { ?s <http://www.w3.org/2002/07/owl#sameAs> ?o "
        'FILTER(STRSTARTS(STR(?o), "http://www.wikidata.org/entity/")) }',
    )
    assert all(value > 0 for value in links.values())
    dumps = {str(url) for url in void.objects(dataset, VOID.dataDump)}
    release = store.manifest.release
    assert {url.rsplit("/", 1)[1] for url in dumps} == {dump_name(release, name) for name in DUMP_FILES.values()}
    assert all(client.head(url).status_code == 200 for url in dumps)


@pytest.mark.parametrize("path", ["/catalog", "/.well-known/void"])
def test_descriptions_with_blank_nodes_have_weak_validators(client: httpx.Client, path: str) -> None:
    # Their blank nodes are named afresh for each body: the same description in other bytes, which a strong ETag
    # would promise not to be.
    plain = {"Accept": "text/turtle", "Accept-Encoding": "identity"}
    first, second = client.get(path, headers=plain), client.get(path, headers=plain)
    assert first.headers["etag"].startswith('W/"') and first.headers["etag"] == second.headers["etag"]
    assert Graph().parse(data=first.text, format="turtle").isomorphic(Graph().parse(data=second.text, format="turtle"))
    assert client.get(path, headers={**plain, "If-None-Match": first.headers["etag"]}).status_code == 304
