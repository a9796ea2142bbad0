"""The one table of formats: name, aliases, media type, suffix and engine format, for every route and command."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import pyoxigraph as ox

__all__ = [
    "ATOM",
    "CSV",
    "DATASET",
    "FORMATS",
    "GRAPH",
    "GRAPH_FORMS",
    "HTML",
    "JSON",
    "JSON_LD",
    "N_QUADS",
    "N_TRIPLES",
    "RDF_XML",
    "RESULTS",
    "RESULTS_JSON",
    "RESULTS_XML",
    "RESULT_FORMS",
    "TRIG",
    "TSV",
    "TURTLE",
    "Format",
    "find",
    "for_query",
    "media_types",
    "names",
]

# graph: triples (CONSTRUCT, DESCRIBE, a thing's description); dataset: quads with their named graphs;
# results: SELECT and ASK answers; page: HTML for people; document: the service's own JSON documents (the releases
# and what each changed, a release's files), offered beside their pages.
Kind = Literal["graph", "dataset", "results", "page", "document"]


@dataclass(frozen=True)
class Format:
    name: str  # on the command line and in ?format=
    media_type: str
    suffix: str  # of URLs (`/doc/city/dortmund.ttl`) and files
    title: str
    kind: Kind
    engine: ox.RdfFormat | ox.QueryResultsFormat | None  # None: not written by the engine (HTML)
    w3c: str | None = None  # the term in http://www.w3.org/ns/formats/
    eu_file_type: str | None = None  # the EU file-type authority's code, for the catalogue
    rdflib: str | None = None  # rdflib's name for it, where rdflib writes it (the catalogue is built with rdflib)
    aliases: tuple[str, ...] = ()  # further names other clients send (SPARQLWrapper: format=turtle, json-ld)

    @property
    def content_type(self) -> str:
        # text/* defaults to ASCII without a charset (RFC 2046); say UTF-8, which is what every body here is.
        return f"{self.media_type}; charset=utf-8" if self.media_type.startswith("text/") else self.media_type

    @property
    def rdf_format(self) -> ox.RdfFormat:
        """The engine's RDF format, for a graph or dataset format; ValueError for the others."""
        if not isinstance(self.engine, ox.RdfFormat):
            raise ValueError(f"{self.title} is not an RDF format")
        return self.engine

    def answers_to(self, text: str) -> bool:
        wanted = text.strip().lower()
        return wanted in (self.name, self.suffix, self.media_type, *self.aliases)


HTML = Format("html", "text/html", "html", "HTML", "page", None)
JSON = Format("json", "application/json", "json", "JSON", "document", None)
ATOM = Format("atom", "application/atom+xml", "atom", "Atom", "document", None)  # the feed of the releases
TURTLE = Format(
    "ttl",
    "text/turtle",
    "ttl",
    "Turtle",
    "graph",
    ox.RdfFormat.TURTLE,
    w3c="Turtle",
    eu_file_type="RDF_TURTLE",
    rdflib="turtle",
    aliases=("turtle", "n3", "text/n3", "application/turtle", "application/x-turtle"),
)
JSON_LD = Format(
    "jsonld",
    "application/ld+json",
    "jsonld",
    "JSON-LD",
    "graph",
    ox.RdfFormat.JSON_LD,
    w3c="JSON-LD",
    eu_file_type="JSON_LD",
    rdflib="json-ld",
    aliases=("json-ld", "json", "application/json"),
)
N_TRIPLES = Format(
    "nt",
    "application/n-triples",
    "nt",
    "N-Triples",
    "graph",
    ox.RdfFormat.N_TRIPLES,
    w3c="N-Triples",
    eu_file_type="RDF_N_TRIPLES",
    rdflib="nt11",
    # text/plain: N-Triples' media type before its registration; text/ntriples: Virtuoso's name for it.
    aliases=("ntriples", "n-triples", "text/plain", "text/ntriples"),
)
RDF_XML = Format(
    "rdfxml",
    "application/rdf+xml",
    "rdf",
    "RDF/XML",
    "graph",
    ox.RdfFormat.RDF_XML,
    w3c="RDF_XML",
    eu_file_type="RDF_XML",
    rdflib="xml",
    aliases=("rdf+xml", "xml", "application/xml"),
)
N_QUADS = Format(
    "nq",
    "application/n-quads",
    "nq",
    "N-Quads",
    "dataset",
    ox.RdfFormat.N_QUADS,
    w3c="N-Quads",
    eu_file_type="RDF_N_QUADS",
    rdflib="nquads",
    aliases=("nquads", "n-quads"),
)
TRIG = Format(
    "trig",
    "application/trig",
    "trig",
    "TriG",
    "dataset",
    ox.RdfFormat.TRIG,
    w3c="TriG",
    eu_file_type="RDF_TRIG",
    rdflib="trig",
)
RESULTS_JSON = Format(
    "json",
    "application/sparql-results+json",
    "srj",
    "SPARQL results in JSON",
    "results",
    ox.QueryResultsFormat.JSON,
    w3c="SPARQL_Results_JSON",
    eu_file_type="JSON",
    aliases=("application/json",),
)
RESULTS_XML = Format(
    "xml",
    "application/sparql-results+xml",
    "srx",
    "SPARQL results in XML",
    "results",
    ox.QueryResultsFormat.XML,
    w3c="SPARQL_Results_XML",
    eu_file_type="XML",
    aliases=("application/xml",),
)
CSV = Format(
    "csv", "text/csv", "csv", "CSV", "results", ox.QueryResultsFormat.CSV, w3c="SPARQL_Results_CSV", eu_file_type="CSV"
)
TSV = Format(
    "tsv",
    "text/tab-separated-values",
    "tsv",
    "TSV",
    "results",
    ox.QueryResultsFormat.TSV,
    w3c="SPARQL_Results_TSV",
    eu_file_type="TSV",
)

FORMATS = (HTML, TURTLE, JSON_LD, N_TRIPLES, RDF_XML, N_QUADS, TRIG, RESULTS_JSON, RESULTS_XML, CSV, TSV, JSON, ATOM)
GRAPH = tuple(fmt for fmt in FORMATS if fmt.kind == "graph")
DATASET = tuple(fmt for fmt in FORMATS if fmt.kind == "dataset")
RESULTS = tuple(fmt for fmt in FORMATS if fmt.kind == "results")
# The query forms whose answer is a results table (or a boolean), and those whose answer is a graph.
RESULT_FORMS, GRAPH_FORMS = ("SELECT", "ASK"), ("CONSTRUCT", "DESCRIBE")


def find(text: str, among: Iterable[Format]) -> Format | None:
    """The format among `among` that `text` names (its name, suffix, media type or an alias), if any."""
    return next((fmt for fmt in among if fmt.answers_to(text)), None)


def for_query(text: str, form: str | None) -> tuple[Format | None, Format | None]:
    """The formats `text` names for the answer of a query of `form` (SELECT, ASK, CONSTRUCT, DESCRIBE; None when
    not known): (the one for a SELECT/ASK result, the one for a CONSTRUCT/DESCRIBE result), each None where `text`
    names none of that kind or the form gives no answer of that kind. A word means what it means for the answer it
    names: `xml` is SPARQL XML results for a SELECT and RDF/XML for a CONSTRUCT, `json` SPARQL JSON results or
    JSON-LD. `/sparql`'s ?format= and the command line's --format both read it so."""
    results = find(text, RESULTS) if form not in GRAPH_FORMS else None
    graph = find(text, GRAPH) if form not in RESULT_FORMS else None
    return results, graph


def media_types(among: Iterable[Format]) -> dict[str, str]:
    """Media types a client may put in Accept for one of `among` → that format's name: each format's own type
    first, then the generic ones other servers answer too (`application/json` for SPARQL JSON results or JSON-LD,
    as Fuseki and Virtuoso do). A wildcard therefore picks a format's own type."""
    formats = list(among)
    table = {fmt.media_type: fmt.name for fmt in formats}
    for fmt in formats:
        for alias in fmt.aliases:
            if "/" in alias:
                table.setdefault(alias, fmt.name)
    return table


def names(among: Iterable[Format]) -> dict[str, str]:
    """Every word that names one of `among` → that format's name; the first format to claim a word keeps it."""
    table: dict[str, str] = {}
    for fmt in among:
        for word in (fmt.name, fmt.suffix, fmt.media_type, *fmt.aliases):
            table.setdefault(word, fmt.name)
    return table
