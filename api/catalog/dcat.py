"""The dataset described for portals and crawlers: a DCAT-AP.de 3.0 catalogue and a VoID description.

Both describe the same dataset IRI, whatever the release. Figures come from the graph (api.catalog.dataset) and from the
dump files; versions, dates and checksums from the release record (graph.releases), never from the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, RDF, RDFS, SKOS, VOID, XSD

from api.catalog.dataset import DUMPS, STATISTICS, Dump, dump_file
from api.catalog.releases import HISTORY, counted
from api.http.cache import PerBuildValues
from graph.prefixes import PREFIXES
from graph.releases import Release, dump_name
from graph.settings import Settings
from graph.store import ReadStore
from graph.vocab import MUNICIPALITY_KEY, SCK, WD

__all__ = [
    "Citation",
    "catalog_graph",
    "catalog_part",
    "catalog_url",
    "citation",
    "dump_url",
    "names_base",
    "release_graph",
    "void_graph",
]

DCATDE = Namespace(PREFIXES["dcatde"])
SPDX = Namespace(PREFIXES["spdx"])
# DCAT 3 terms that rdflib's closed DCAT namespace (DCAT 2) does not know yet.
DCAT_VERSION, DCAT_PREVIOUS_VERSION = URIRef(f"{DCAT}version"), URIRef(f"{DCAT}previousVersion")
ADMS = Namespace(PREFIXES["adms"])
VCARD = Namespace(PREFIXES["vcard"])
EU = "http://publications.europa.eu/resource/authority/"
IANA = "https://www.iana.org/assignments/media-types/"
LICENSE = URIRef("http://dcat-ap.de/def/licenses/cc-by/4.0")
CC_BY = URIRef("https://creativecommons.org/licenses/by/4.0/")
GEOCODING_LEVEL = URIRef("http://dcat-ap.de/def/politicalGeocoding/Level/municipality")
TITLE = {
    "en": "smartcity-kg: smart-city alliances in Germany",
    "de": "smartcity-kg: Smart-City-Allianzen in Deutschland",
}
DESCRIPTION = {
    "en": "An open knowledge graph of smart-city alliances: which cities, companies and organisations work together, "
    "under which agreements, in which pilot projects and roles, since when, and according to which sources.",
    "de": "Ein offener Wissensgraph zu Smart-City-Allianzen: welche Städte, Unternehmen und Organisationen "
    "zusammenarbeiten, mit welchen Vereinbarungen, in welchen Pilotprojekten und Rollen, seit wann und nach "
    "welchen Quellen.",
}
KEYWORDS = {
    "de": ("Smart City", "Kommune", "Allianz", "Kooperation", "Pilotprojekt", "Linked Data"),
    "en": ("smart city", "municipality", "alliance", "cooperation", "pilot project", "linked data"),
}


def names_base(settings: Settings, namespace: str) -> str:
    """Where the IRIs naming the dataset, its releases and its parts start: the configured public URL, else the
    served graph's namespace (its manifest's). Never the Host of a request, which differs from one client to the
    next (and is the client's to choose), while portals and citations keep these IRIs as identifiers. Links to
    fetch may use it."""
    return (settings.base_url or namespace).rstrip("/")


def catalog_part(base: str, name: str, version: str | None = None) -> URIRef:
    """A part of the catalogue (`#dataset`, `#publisher`, a service …) named from `base` (see `names_base`), or of
    one release's description with `version`. The dataset is the same IRI in every release: portals keep one record
    and update it."""
    return URIRef(f"{catalog_url(base, version)}#{name}")


def catalog_url(base: str, version: str | None = None) -> str:
    """The catalogue (`/catalog`), or with `version` the description of one release (`/catalog/{version}`), whose
    dataset is `#dataset` in it."""
    return f"{base}/catalog/{version}" if version else f"{base}/catalog"


def dump_url(base: str, name: str, version: str | None = None) -> str:
    """Where the file `name` is fetched: a dump of the build being served, or with `version` a file of that release
    (`name` as the release names it), whose URL always gives the same bytes."""
    return f"{base}/dumps/{version}/{name}" if version else f"{base}/dumps/{name}"


def _new_graph() -> Graph:
    # The service's one prefix map, nothing of rdflib's own (`xml:`, `dcterms:`): what /catalog.jsonld's @context
    # and the Turtle prefixes say is what every other answer and the published context say.
    graph = Graph(bind_namespaces="none")
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, replace=True)
    return graph


def _texts(graph: Graph, subject: URIRef, predicate: URIRef, texts: dict[str, str]) -> None:
    for language, text in texts.items():
        graph.add((subject, predicate, Literal(text, lang=language)))


# The class DCAT-AP expects of a value from each EU authority table, and the labels of the values used.
_AUTHORITY_CLASS = {
    "language": DCTERMS.LinguisticSystem,
    "frequency": DCTERMS.Frequency,
    "file-type": DCTERMS.MediaTypeOrExtent,
    "access-right": DCTERMS.RightsStatement,
    "data-theme": SKOS.Concept,
}
_AUTHORITY_LABEL = {
    "DEU": "German",
    "ENG": "English",
    "IRREG": "irregular",
    "PUBLIC": "public",
    "REGI": "Regions and cities",
    "GOVE": "Government and public sector",
    "RDF_TURTLE": "RDF Turtle",
    "RDF_N_TRIPLES": "RDF N-Triples",
    "RDF_N_QUADS": "RDF N-Quads",
    "JSON_LD": "JSON-LD",
}


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
    publisher = catalog_part(base, "publisher")
    graph.add((publisher, RDF.type, FOAF.Agent))
    graph.add((publisher, RDF.type, FOAF.Organization))
    graph.add((publisher, FOAF.name, Literal(settings.publisher_name)))
    graph.add((publisher, FOAF.mbox, URIRef(f"mailto:{settings.contact_email}")))
    return publisher


def _service(
    graph: Graph, iri: URIRef, *, titles: dict[str, str], endpoint: str, description: str, standard: str
) -> None:
    graph.add((iri, RDF.type, DCAT.DataService))
    _texts(graph, iri, DCTERMS.title, titles)
    graph.add((iri, DCAT.endpointURL, URIRef(endpoint)))
    graph.add((iri, DCAT.endpointDescription, URIRef(description)))
    graph.add((iri, DCTERMS.conformsTo, URIRef(standard)))
    graph.add((URIRef(standard), RDF.type, DCTERMS.Standard))
    _concept(graph, iri, DCTERMS.accessRights, "access-right", "PUBLIC")
    _licensed(graph, iri)


def _distribution(
    graph: Graph, dataset: URIRef, dump: Dump, *, url: str, size: int, modified: Literal, sha256: str | None
) -> None:
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
    if sha256 is not None:
        checksum = URIRef(f"{iri}-sha256")
        graph.add((iri, SPDX.checksum, checksum))
        graph.add((checksum, RDF.type, SPDX.Checksum))
        graph.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
        graph.add((SPDX.checksumAlgorithm_sha256, RDF.type, SPDX.ChecksumAlgorithm))
        graph.add((checksum, SPDX.checksumValue, Literal(sha256, datatype=XSD.hexBinary)))
    _licensed(graph, iri)


def _release_distributions(graph: Graph, dataset: URIRef, release: Release, base: str) -> None:
    """The release's dumps at their versioned URLs, which always give the same bytes (their checksum says which)."""
    modified = Literal(release.date, datatype=XSD.dateTime)
    for dump in DUMPS.values():
        name = dump_name(release.version, dump.name)
        _distribution(
            graph,
            dataset,
            dump,
            url=dump_url(base, name, release.version),
            size=release.sizes[name],
            modified=modified,
            sha256=release.files[name],
        )


def _versioned(
    graph: Graph, dataset: URIRef, release: Release, settings: Settings, *, base: str, namespace: str
) -> None:
    """What makes a dataset description one release's: its version, the release before, what changed, how to cite."""
    graph.add((dataset, DCAT_VERSION, Literal(release.version)))
    if release.previous is not None:
        graph.add(
            (dataset, DCAT_PREVIOUS_VERSION, catalog_part(names_base(settings, namespace), "dataset", release.previous))
        )
        notes = (
            f"Release {release.version}: {counted(release.added, 'statement')} added and {release.removed} "
            f"removed, about {counted(len(release.things), 'thing')}, since release {release.previous}. Details: "
            f"{base}/changes/{release.version}"
        )
    else:
        notes = f"Release {release.version}: the first release, {counted(release.triples, 'statement')}."
    graph.add((dataset, ADMS.versionNotes, Literal(notes, lang="en")))
    graph.add((dataset, DCTERMS.bibliographicCitation, Literal(citation(release, settings, namespace).text)))


def _dataset(
    graph: Graph,
    dataset: URIRef,
    store: ReadStore,
    values: PerBuildValues,
    *,
    base: str,
    settings: Settings,
    publisher: URIRef,
) -> None:
    stats = values.get(STATISTICS, store)
    modified = Literal(store.manifest.modified, datatype=XSD.dateTime)
    graph.add((dataset, RDF.type, DCAT.Dataset))
    _texts(graph, dataset, DCTERMS.title, TITLE)
    _texts(graph, dataset, DCTERMS.description, DESCRIPTION)
    graph.add((dataset, DCTERMS.identifier, Literal(store.manifest.namespace)))
    graph.add((dataset, DCTERMS.publisher, publisher))
    graph.add((dataset, DCTERMS.modified, modified))
    _page(graph, dataset, DCAT.landingPage, f"{base}/")
    contact = catalog_part(names_base(settings, store.manifest.namespace), "contact")
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
        period = catalog_part(names_base(settings, store.manifest.namespace), "period")
        graph.add((dataset, DCTERMS.temporal, period))
        graph.add((period, RDF.type, DCTERMS.PeriodOfTime))
        graph.add((period, DCAT.startDate, Literal(stats.first_day, datatype=XSD.date)))
        graph.add((period, DCAT.endDate, Literal(stats.last_day, datatype=XSD.date)))
    release = values.get(HISTORY, store).get(store.manifest.release)
    if release is not None:
        _versioned(graph, dataset, release, settings, base=base, namespace=store.manifest.namespace)
        _release_distributions(graph, dataset, release, base)
    elif store.path is not None:  # a build from before releases were recorded
        for dump in DUMPS.values():
            _distribution(
                graph,
                dataset,
                dump,
                url=dump_url(base, dump.name),
                size=dump_file(store.path, dump).stat().st_size,
                modified=modified,
                sha256=None,
            )
    # a graph on a remote server has no dump files to offer here


def catalog_graph(store: ReadStore, values: PerBuildValues, settings: Settings, base: str) -> Graph:
    """The DCAT-AP.de catalogue: one dataset, one distribution per dump, the SPARQL endpoint and the REST API."""
    graph = _new_graph()
    names = names_base(settings, store.manifest.namespace)
    catalog, dataset = catalog_part(names, "catalog"), catalog_part(names, "dataset")
    publisher = _agent(graph, names, settings)
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
    _dataset(graph, dataset, store, values, base=base, settings=settings, publisher=publisher)
    services = {
        "sparql": (
            {"en": "smartcity-kg SPARQL endpoint", "de": "smartcity-kg-SPARQL-Endpunkt"},
            f"{base}/sparql",
            f"{base}/sparql",
            "https://www.w3.org/TR/sparql11-protocol/",
        ),
        "api": (
            {"en": "smartcity-kg REST API", "de": "smartcity-kg-REST-API"},
            f"{base}/api/v1",
            f"{base}/openapi.json",
            "https://spec.openapis.org/oas/v3.1.0",
        ),
    }
    for name, (titles, endpoint, description, standard) in services.items():
        service = catalog_part(names, name)
        graph.add((catalog, DCAT.service, service))
        _service(graph, service, titles=titles, endpoint=endpoint, description=description, standard=standard)
        graph.add((service, DCAT.servesDataset, dataset))
        graph.add((service, DCTERMS.publisher, publisher))
    return graph


def _namespace(iri: str) -> str:
    cut = max(iri.rfind("#"), iri.rfind("/"))
    return iri[: cut + 1]


def void_graph(store: ReadStore, values: PerBuildValues, settings: Settings, base: str) -> Graph:
    """The VoID description: statistics, partitions, endpoint, dumps and the link sets to Wikidata and the
    DCAT-AP.de municipality keys."""
    stats = values.get(STATISTICS, store)
    graph = _new_graph()
    names = names_base(settings, store.manifest.namespace)
    document, dataset = URIRef(f"{names}/.well-known/void"), catalog_part(names, "dataset")
    graph.add((document, RDF.type, VOID.DatasetDescription))
    graph.add((document, FOAF.primaryTopic, dataset))
    graph.add((dataset, RDF.type, VOID.Dataset))
    _texts(graph, dataset, DCTERMS.title, TITLE)
    _texts(graph, dataset, DCTERMS.description, DESCRIPTION)
    graph.add((dataset, DCTERMS.publisher, _agent(graph, names, settings)))
    graph.add((dataset, DCTERMS.license, CC_BY))
    graph.add((dataset, DCTERMS.modified, Literal(store.manifest.modified, datatype=XSD.dateTime)))
    graph.add((dataset, FOAF.homepage, URIRef(f"{base}/")))
    graph.add((dataset, VOID.sparqlEndpoint, URIRef(f"{base}/sparql")))
    release = values.get(HISTORY, store).get(store.manifest.release)
    if release is not None:
        graph.add((dataset, DCAT_VERSION, Literal(release.version)))
    for dump in DUMPS.values():
        url = (
            dump_url(base, dump_name(release.version, dump.name), release.version)
            if release
            else dump_url(base, dump.name)
        )
        graph.add((dataset, VOID.dataDump, URIRef(url)))
    graph.add((dataset, VOID.uriSpace, Literal(store.manifest.namespace)))
    graph.add((dataset, RDFS.seeAlso, URIRef(catalog_url(base))))
    for vocabulary in sorted({_namespace(iri) for iri in (*stats.properties, *stats.classes)}):
        graph.add((dataset, VOID.vocabulary, URIRef(vocabulary)))
    for predicate, value in (
        (VOID.triples, stats.triples),
        (VOID.entities, stats.entities),
        (VOID.classes, len(stats.classes)),
        (VOID.properties, len(stats.properties)),
        (VOID.distinctSubjects, stats.subjects),
        (VOID.distinctObjects, stats.objects),
    ):
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
        (
            "municipality-keys",
            SCK.municipalityKey,
            stats.municipality_links,
            str(MUNICIPALITY_KEY),
            "https://www.dcat-ap.de/def/politicalGeocoding/municipalityKey/",
        ),
    ):
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


def release_graph(release: Release, settings: Settings, base: str, namespace: str) -> Graph:
    """The description of one release (`/catalog/{version}`): the dataset as it was then, with its dumps while they
    are kept. Not a catalogue: portals harvest `/catalog`, which names the current release and links the one before."""
    graph = _new_graph()
    names = names_base(settings, namespace)
    dataset = catalog_part(names, "dataset", release.version)
    graph.add((dataset, RDF.type, DCAT.Dataset))
    _texts(graph, dataset, DCTERMS.title, {lang: f"{title} ({release.version})" for lang, title in TITLE.items()})
    _texts(graph, dataset, DCTERMS.description, DESCRIPTION)
    graph.add((dataset, DCTERMS.publisher, _agent(graph, names, settings)))
    graph.add((dataset, DCTERMS.modified, Literal(release.date, datatype=XSD.dateTime)))
    _page(graph, dataset, DCAT.landingPage, f"{base}/")
    _versioned(graph, dataset, release, settings, base=base, namespace=namespace)
    if release.kept:
        _release_distributions(graph, dataset, release, base)
    return graph


@dataclass(frozen=True)
class Citation:
    text: str
    bibtex: str
    url: str


def _bibtex_escape(text: str) -> str:
    for char in "\\{}&%$#_":
        text = text.replace(char, "\\" + char)
    return text


def citation(release: Release, settings: Settings, namespace: str) -> Citation:
    """How to cite `release`: author (year). title (version) [Data set]. URL; and the same as BibTeX. The author is
    the publisher as configured: the data names no one else. The URL is the release's permanent IRI."""
    year = datetime.fromisoformat(release.date).year
    url = catalog_url(names_base(settings, namespace), release.version)
    title = TITLE["en"]
    text = f"{settings.publisher_name} ({year}). {title} (Version {release.version}) [Data set]. {url}"
    publisher = _bibtex_escape(settings.publisher_name)
    bibtex = "\n".join(
        (
            f"@misc{{smartcity-kg-{release.version},",
            f"  author       = {{{{{publisher}}}}},",
            f"  title        = {{{_bibtex_escape(title)}}},",
            f"  year         = {{{year}}},",
            f"  version      = {{{release.version}}},",
            f"  publisher    = {{{publisher}}},",
            f"  howpublished = {{\\url{{{url}}}}},",
            f"  url          = {{{url}}},",
            "  note         = {Data set, licensed CC BY 4.0}",
            "}",
        )
    )
    return Citation(text, bibtex, url)
