"""Facts about the published dataset that its descriptions state: the dump files, and statistics of the graph
counted by SPARQL once per build."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from api.http.cache import Derived
from graph.formats import JSON_LD, N_QUADS, N_TRIPLES, TURTLE, Format
from graph.prefixes import sparql_prologue
from graph.published import DUMP_FILES
from graph.store import ReadStore
from graph.vocab import WD

__all__ = ["DUMPS", "STATISTICS", "Dump", "Statistics", "dump_file"]


@dataclass(frozen=True)
class Dump:
    """A bulk download in one format of the table: `media_type` is what the data is; gzip files are served as
    `application/gzip` so that clients keep them as they are, and the catalogue says so in `dcat:compressFormat`."""

    name: str
    format: Format
    title: str
    compressed: bool = False

    @property
    def media_type(self) -> str:
        return self.format.media_type

    @property
    def file_type(self) -> str:
        """The EU file-type authority's code of the format, for the catalogue."""
        assert self.format.eu_file_type is not None  # every dump format has one in the table
        return self.format.eu_file_type

    @property
    def served_as(self) -> str:
        return "application/gzip" if self.compressed else self.media_type


DUMPS = {
    dump.name: dump
    for dump in (
        Dump(DUMP_FILES["ttl"], TURTLE, "Turtle"),
        Dump(DUMP_FILES["nt.gz"], N_TRIPLES, "N-Triples, gzip", compressed=True),
        Dump(DUMP_FILES["nq.gz"], N_QUADS, "N-Quads with named graphs, gzip", compressed=True),
        Dump(DUMP_FILES["jsonld"], JSON_LD, "JSON-LD"),
    )
}


@dataclass(frozen=True)
class Statistics:
    """What the VoID description and the catalogue say about the graph, counted over all its named graphs."""

    properties: dict[str, int]  # property IRI → triples
    classes: dict[str, int]  # class IRI → distinct instances
    entities: int
    subjects: int
    objects: int
    wikidata_links: int
    municipality_links: int
    municipality_keys: list[str]
    first_day: str | None
    last_day: str | None

    @property
    def triples(self) -> int:
        return sum(self.properties.values())


_PREFIX = sparql_prologue()
PROPERTIES = "SELECT ?p (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?p"
CLASSES = "SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s a ?class } } GROUP BY ?class"
ENTITIES = (
    "SELECT ?space (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
    "FILTER(isIRI(?s) && STRSTARTS(STR(?s), ?space)) } GROUP BY ?space"
)
SUBJECTS = "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
OBJECTS = "SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
WIKIDATA_LINKS = _PREFIX + (
    f'SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s owl:sameAs ?o }} FILTER(STRSTARTS(STR(?o), "{WD}")) }}'
)
MUNICIPALITY_LINKS = _PREFIX + "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s sck:municipalityKey ?o } }"
MUNICIPALITY_KEYS = _PREFIX + "SELECT DISTINCT ?key WHERE { ?city a sck:City ; sck:municipalityKey ?key }"
# The period the statements are about: the earliest and latest day any dated statement can mean.
PERIOD = (
    _PREFIX
    + """SELECT (MIN(?from) AS ?first) (MAX(?to) AS ?last) WHERE {
  { ?s sck:startEarliest|sck:signedEarliest|sck:earliest ?from }
  UNION { ?s sck:startLatest|sck:endLatest|sck:signedLatest|sck:latest ?to }
}"""
)


def _rows(store: ReadStore, query: str, **bound: ox.Literal) -> list[ox.QuerySolution]:
    return list(store.select(query, substitutions=bound))


def _count(store: ReadStore, query: str, **bound: ox.Literal) -> int:
    rows = _rows(store, query, **bound)
    return int(rows[0]["n"].value) if rows else 0


def _statistics(store: ReadStore) -> Statistics:
    period = _rows(store, PERIOD)[0]
    return Statistics(
        properties={row["p"].value: int(row["n"].value) for row in _rows(store, PROPERTIES)},
        classes={row["class"].value: int(row["n"].value) for row in _rows(store, CLASSES)},
        entities=_count(store, ENTITIES, space=ox.Literal(store.manifest.namespace)),
        subjects=_count(store, SUBJECTS),
        objects=_count(store, OBJECTS),
        wikidata_links=_count(store, WIKIDATA_LINKS),
        municipality_links=_count(store, MUNICIPALITY_LINKS),
        municipality_keys=sorted(row["key"].value for row in _rows(store, MUNICIPALITY_KEYS)),
        first_day=period["first"].value if period["first"] is not None else None,
        last_day=period["last"].value if period["last"] is not None else None,
    )


STATISTICS = Derived("statistics", _statistics)


def dump_file(build: Path, dump: Dump) -> Path:
    """Where the build being served keeps a dump (the layout of graph.published)."""
    return build / "dumps" / dump.name
