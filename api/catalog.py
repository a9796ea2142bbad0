"""The dataset described for portals and crawlers: a DCAT-AP.de 3.0 catalogue and a VoID description.

Both describe the same dataset IRI. Figures come from the graph (api.dataset) and from the dump files; dates
from the build manifest (when the data last changed), never from the clock.
"""

from __future__ import annotations

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, RDF, RDFS, SKOS, VOID, XSD

from api.dataset import DUMPS, Dump, dump_file, statistics
from graph.settings import Settings
from graph.store import EmbeddedStore, ReadStore
from graph.vocab import MUNICIPALITY_KEY, SCK, WD

__all__ = ["catalog_graph", "dataset_iri", "void_graph"]

DCATDE = Namespace("http://dcat-ap.de/def/dcatde/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
EU = "http://publications.europa.eu/resource/authority/"
IANA = "https://www.iana.org/assignments/media-types/"
LICENSE = URIRef("http://dcat-ap.de/def/licenses/cc-by/4.0")
CC_BY = URIRef("https://creativecommons.org/licenses/by/4.0/")
GEOCODING_LEVEL = URIRef("http://dcat-ap.de/def/politicalGeocoding/Level/municipality")
TITLE = {"en": "smartcity-kg: smart-city alliances in Germany",
         "de": "smartcity-kg: Smart-City-Allianzen in Deutschland"}
DESCRIPTION = {
    "en": "An open knowledge graph of smart-city alliances: which cities, companies and organisations work together, "
          "under which agreements, in which pilot projects and roles, since when, and according to which sources.",
    "de": "Ein offener Wissensgraph zu Smart-City-Allianzen: welche Städte, Unternehmen und Organisationen "
          "zusammenarbeiten, mit welchen Vereinbarungen, in welchen Pilotprojekten und Rollen, seit wann und nach "
          "welchen Quellen.",
}
KEYWORDS = {"de": ("Smart City", "Kommune", "Allianz", "Kooperation", "Pilotprojekt", "Linked Data"),
            "en": ("smart city", "municipality", "alliance", "cooperation", "pilot project", "linked data")}


def dataset_iri(base: str) -> URIRef:
    return URIRef(f"{base}/catalog#dataset")


def _new_graph() -> Graph:
    graph = Graph(bind_namespaces="core")
    for prefix, namespace in (("dcat", DCAT), ("dct", DCTERMS), ("foaf", FOAF), ("vcard", VCARD), ("void", VOID),
                              ("skos", SKOS), ("dcatde", DCATDE), ("sck", SCK._NS)):
        graph.bind(prefix, namespace, replace=True)
    return graph


def _texts(graph: Graph, subject: URIRef, predicate: URIRef, texts: dict[str, str]) -> None:
    for language, text in texts.items():
        graph.add((subject, predicate, Literal(text, lang=language)))


# The class DCAT-AP expects of a value from each EU authority table, and the labels of the values used.
_AUTHORITY_CLASS = {"language": DCTERMS.LinguisticSystem, "frequency": DCTERMS.Frequency,
                    "file-type": DCTERMS.MediaTypeOrExtent, "access-right": DCTERMS.RightsStatement,
                    "data-theme": SKOS.Concept}
_AUTHORITY_LABEL = {"DEU": "German", "ENG": "English", "IRREG": "irregular", "PUBLIC": "public",
                    "REGI": "Regions and cities", "GOVE": "Government and public sector", "RDF_TURTLE": "RDF Turtle",
                    "RDF_N_TRIPLES": "RDF N-Triples", "RDF_N_QUADS": "RDF N-Quads", "JSON_LD": "JSON-LD"}


def _concept(graph: Graph, subject: URIRef, predicate: URIRef, scheme: str, code: str) -> None:
    """A value from an EU authority table, typed, labelled and with its scheme, as the shapes check them."""
    concept = URIRef(f"{EU}{scheme}/{code}")
    graph.add((subject, predicate, concept))
    graph.add((concept, RDF.type, SKOS.Concept))
    graph.add((concept, RDF.type, _AUTHORITY_CLASS[scheme]))
    graph.add((concept, SKOS.inScheme, URIRef(f"{EU}{scheme}")))
    graph.add((concept, SKOS.prefLabel, Literal(_AUTHORITY_LABEL[code], lang="en")))


def _page(graph: Graph, subject: URIRef, predicate: URIRef, url: str) -> None:
    graph.add((subject, predicate, URIRef(url)))
    graph.add((URIRef(url), RDF.type, FOAF.Document))


def _media_type(graph: Graph, subject: URIRef, predicate: URIRef, media_type: str) -> None:
    iri = URIRef(IANA + media_type)
    graph.add((subject, predicate, iri))
    graph.add((iri, RDF.type, DCTERMS.MediaType))


def _licensed(graph: Graph, subject: URIRef) -> None:
    graph.add((subject, DCTERMS.license, LICENSE))
    graph.add((LICENSE, RDF.type, DCTERMS.LicenseDocument))


def _agent(graph: Graph, base: str, settings: Settings) -> URIRef:
    publisher = URIRef(f"{base}/catalog#publisher")
    graph.add((publisher, RDF.type, FOAF.Agent))
    graph.add((publisher, RDF.type, FOAF.Organization))
    graph.add((publisher, FOAF.name, Literal(settings.publisher_name)))
    graph.add((publisher, FOAF.mbox, URIRef(f"mailto:{settings.contact_email}")))
    return publisher


def _service(graph: Graph, iri: URIRef, *, titles: dict[str, str], endpoint: str, description: str,
             standard: str) -> None:
    graph.add((iri, RDF.type, DCAT.DataService))
    _texts(graph, iri, DCTERMS.title, titles)
    graph.add((iri, DCAT.endpointURL, URIRef(endpoint)))
    graph.add((iri, DCAT.endpointDescription, URIRef(description)))
    graph.add((iri, DCTERMS.conformsTo, URIRef(standard)))
    graph.add((URIRef(standard), RDF.type, DCTERMS.Standard))
    _concept(graph, iri, DCTERMS.accessRights, "access-right", "PUBLIC")
    _licensed(graph, iri)


def _distribution(graph: Graph, dataset: URIRef, dump: Dump, *, url: str, size: int, modified: Literal) -> None:
    iri = URIRef(f"{dataset}-{dump.name.replace('.', '-')}")
    graph.add((dataset, DCAT.distribution, iri))
    graph.add((iri, RDF.type, DCAT.Distribution))
    graph.add((iri, DCTERMS.title, Literal(f"smartcity-kg: {dump.title}", lang="en")))
    graph.add((iri, DCAT.accessURL, URIRef(url)))
    graph.add((iri, DCAT.downloadURL, URIRef(url)))
    _media_type(graph, iri, DCAT.mediaType, dump.media_type)
    if dump.compressed:
        _media_type(graph, iri, DCAT.compressFormat, "application/gzip")
    _concept(graph, iri, DCTERMS["format"], "file-type", dump.file_type)
    graph.add((iri, DCAT.byteSize, Literal(size, datatype=XSD.nonNegativeInteger)))
    graph.add((iri, DCTERMS.modified, modified))
    _licensed(graph, iri)


def _dataset(graph: Graph, dataset: URIRef, store: ReadStore, *, base: str, settings: Settings,
             publisher: URIRef) -> None:
    stats = statistics(store)
    modified = Literal(store.manifest.modified, datatype=XSD.dateTime)
    graph.add((dataset, RDF.type, DCAT.Dataset))
    _texts(graph, dataset, DCTERMS.title, TITLE)
    _texts(graph, dataset, DCTERMS.description, DESCRIPTION)
    graph.add((dataset, DCTERMS.identifier, Literal(store.manifest.namespace)))
    graph.add((dataset, DCTERMS.publisher, publisher))
    graph.add((dataset, DCTERMS.modified, modified))
    _page(graph, dataset, DCAT.landingPage, f"{base}/")
    contact = URIRef(f"{base}/catalog#contact")
    graph.add((dataset, DCAT.contactPoint, contact))
    graph.add((contact, RDF.type, VCARD.Kind))
    graph.add((contact, VCARD.fn, Literal(settings.publisher_name)))
    graph.add((contact, VCARD.hasEmail, URIRef(f"mailto:{settings.contact_email}")))
    for language, words in KEYWORDS.items():
        for word in words:
            graph.add((dataset, DCAT.keyword, Literal(word, lang=language)))
    for theme in ("REGI", "GOVE"):
        _concept(graph, dataset, DCAT.theme, "data-theme", theme)
    for code in ("DEU", "ENG"):
        _concept(graph, dataset, DCTERMS.language, "language", code)
    _concept(graph, dataset, DCTERMS.accessRights, "access-right", "PUBLIC")
    _concept(graph, dataset, DCTERMS.accrualPeriodicity, "frequency", "IRREG")
    # The German profile identifies the data provider and the level of the places named in dct:spatial.
    graph.add((dataset, DCATDE.contributorID, publisher))
    graph.add((dataset, DCATDE.politicalGeocodingLevelURI, GEOCODING_LEVEL))
    graph.add((GEOCODING_LEVEL, SKOS.inScheme, URIRef("http://dcat-ap.de/def/politicalGeocoding/Level")))
    for key in stats.municipality_keys:
        graph.add((dataset, DCTERMS.spatial, URIRef(key)))
        graph.add((URIRef(key), RDF.type, DCTERMS.Location))
    if stats.first_day and stats.last_day:
        period = URIRef(f"{base}/catalog#period")
        graph.add((dataset, DCTERMS.temporal, period))
        graph.add((period, RDF.type, DCTERMS.PeriodOfTime))
        graph.add((period, DCAT.startDate, Literal(stats.first_day, datatype=XSD.date)))
        graph.add((period, DCAT.endDate, Literal(stats.last_day, datatype=XSD.date)))
    if isinstance(store, EmbeddedStore):  # a graph on a remote server has no dump files to offer here
        for dump in DUMPS.values():
            _distribution(graph, dataset, dump, url=f"{base}/dumps/{dump.name}",
                          size=dump_file(store, dump).stat().st_size, modified=modified)


def catalog_graph(store: ReadStore, settings: Settings, base: str) -> Graph:
    """The DCAT-AP.de catalogue: one dataset, one distribution per dump, the SPARQL endpoint and the REST API."""
    graph = _new_graph()
    catalog, dataset = URIRef(f"{base}/catalog#catalog"), dataset_iri(base)
    publisher = _agent(graph, base, settings)
    graph.add((catalog, RDF.type, DCAT.Catalog))
    _texts(graph, catalog, DCTERMS.title, TITLE)
    _texts(graph, catalog, DCTERMS.description, DESCRIPTION)
    graph.add((catalog, DCTERMS.publisher, publisher))
    _page(graph, catalog, FOAF.homepage, f"{base}/")
    themes = URIRef(f"{EU}data-theme")
    graph.add((catalog, DCAT.themeTaxonomy, themes))
    graph.add((themes, RDF.type, SKOS.ConceptScheme))
    graph.add((themes, DCTERMS.title, Literal("Data theme", lang="en")))
    graph.add((catalog, DCTERMS.modified, Literal(store.manifest.modified, datatype=XSD.dateTime)))
    for code in ("DEU", "ENG"):
        _concept(graph, catalog, DCTERMS.language, "language", code)
    _licensed(graph, catalog)
    graph.add((catalog, DCAT.dataset, dataset))
    _dataset(graph, dataset, store, base=base, settings=settings, publisher=publisher)
    services = {"sparql": ({"en": "smartcity-kg SPARQL endpoint", "de": "smartcity-kg-SPARQL-Endpunkt"},
                           f"{base}/sparql", f"{base}/sparql", "https://www.w3.org/TR/sparql11-protocol/"),
                "api": ({"en": "smartcity-kg REST API", "de": "smartcity-kg-REST-API"},
                        f"{base}/api/v1", f"{base}/openapi.json", "https://spec.openapis.org/oas/v3.1.0")}
    for name, (titles, endpoint, description, standard) in services.items():
        service = URIRef(f"{base}/catalog#{name}")
        graph.add((catalog, DCAT.service, service))
        _service(graph, service, titles=titles, endpoint=endpoint, description=description, standard=standard)
        graph.add((service, DCAT.servesDataset, dataset))
        graph.add((service, DCTERMS.publisher, publisher))
    return graph


def _namespace(iri: str) -> str:
    cut = max(iri.rfind("#"), iri.rfind("/"))
    return iri[: cut + 1]


def void_graph(store: ReadStore, settings: Settings, base: str) -> Graph:
    """The VoID description: statistics, partitions, endpoint, dumps and the link sets to Wikidata and the
    DCAT-AP.de municipality keys."""
    stats = statistics(store)
    graph = _new_graph()
    document, dataset = URIRef(f"{base}/.well-known/void"), dataset_iri(base)
    graph.add((document, RDF.type, VOID.DatasetDescription))
    graph.add((document, FOAF.primaryTopic, dataset))
    graph.add((dataset, RDF.type, VOID.Dataset))
    _texts(graph, dataset, DCTERMS.title, TITLE)
    _texts(graph, dataset, DCTERMS.description, DESCRIPTION)
    graph.add((dataset, DCTERMS.publisher, _agent(graph, base, settings)))
    graph.add((dataset, DCTERMS.license, CC_BY))
    graph.add((dataset, DCTERMS.modified, Literal(store.manifest.modified, datatype=XSD.dateTime)))
    graph.add((dataset, FOAF.homepage, URIRef(f"{base}/")))
    graph.add((dataset, VOID.sparqlEndpoint, URIRef(f"{base}/sparql")))
    for dump in DUMPS.values():
        graph.add((dataset, VOID.dataDump, URIRef(f"{base}/dumps/{dump.name}")))
    graph.add((dataset, VOID.uriSpace, Literal(store.manifest.namespace)))
    graph.add((dataset, RDFS.seeAlso, URIRef(f"{base}/catalog")))
    for vocabulary in sorted({_namespace(iri) for iri in (*stats.properties, *stats.classes)}):
        graph.add((dataset, VOID.vocabulary, URIRef(vocabulary)))
    for predicate, value in ((VOID.triples, stats.triples), (VOID.entities, stats.entities),
                             (VOID.classes, len(stats.classes)), (VOID.properties, len(stats.properties)),
                             (VOID.distinctSubjects, stats.subjects), (VOID.distinctObjects, stats.objects)):
        graph.add((dataset, predicate, Literal(value)))
    for cls, count in sorted(stats.classes.items()):
        partition = BNode()
        graph.add((dataset, VOID.classPartition, partition))
        graph.add((partition, VOID["class"], URIRef(cls)))
        graph.add((partition, VOID.entities, Literal(count)))
    for prop, count in sorted(stats.properties.items()):
        partition = BNode()
        graph.add((dataset, VOID.propertyPartition, partition))
        graph.add((partition, VOID.property, URIRef(prop)))
        graph.add((partition, VOID.triples, Literal(count)))
    for name, predicate, count, space, homepage in (
            ("wikidata", OWL.sameAs, stats.wikidata_links, str(WD), "https://www.wikidata.org/"),
            ("municipality-keys", SCK.municipalityKey, stats.municipality_links, str(MUNICIPALITY_KEY),
             "https://www.dcat-ap.de/def/politicalGeocoding/municipalityKey/")):
        linkset, target = URIRef(f"{document}#{name}-links"), URIRef(f"{document}#{name}")
        graph.add((dataset, VOID.subset, linkset))
        graph.add((linkset, RDF.type, VOID.Linkset))
        graph.add((linkset, VOID.linkPredicate, predicate))
        graph.add((linkset, VOID.subjectsTarget, dataset))
        graph.add((linkset, VOID.objectsTarget, target))
        graph.add((linkset, VOID.triples, Literal(count)))
        graph.add((target, RDF.type, VOID.Dataset))
        graph.add((target, VOID.uriSpace, Literal(space)))
        graph.add((target, FOAF.homepage, URIRef(homepage)))
    return graph
