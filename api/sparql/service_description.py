"""The SPARQL service description of /sparql (W3C SPARQL 1.1 Service Description), answered to a bare GET."""

from __future__ import annotations

from collections.abc import Collection

import pyoxigraph as ox

from graph._convert import serialize_rdf
from graph.formats import GRAPH, RESULTS
from graph.prefixes import PREFIXES, VOCABULARIES
from graph.settings import Settings

__all__ = ["describe_service"]

SD, FORMATS, VOID = PREFIXES["sd"], PREFIXES["formats"], PREFIXES["void"]
RDF_TYPE = ox.NamedNode(PREFIXES["rdf"] + "type")
XSD_INTEGER = ox.NamedNode(PREFIXES["xsd"] + "integer")
RESULT_FORMATS = tuple(fmt.w3c for fmt in (*RESULTS, *GRAPH) if fmt.w3c)
RDF_FORMATS = {fmt.name: fmt.engine for fmt in GRAPH if isinstance(fmt.engine, ox.RdfFormat)}


def _sd(term: str) -> ox.NamedNode:
    return ox.NamedNode(SD + term)


def describe_service(endpoint: str, graphs: Collection[str], triples: int, settings: Settings, fmt: str) -> bytes:
    """The description of the endpoint at `endpoint` serving `graphs` (`triples` in their union), as `fmt`."""
    service = ox.NamedNode(f"{endpoint}#service")
    dataset, default = ox.BlankNode("dataset"), ox.BlankNode("default")
    limits = (
        f"Read-only SPARQL 1.1 queries over the union of the graphs. A query runs at most "
        f"{settings.query_timeout:g} s; results are cut at {settings.max_rows} rows or "
        f"{settings.max_answer_bytes} bytes (header X-SPARQL-Truncated); query text up to "
        f"{settings.max_query_bytes} bytes; SERVICE and SPARQL Update "
        "are refused."
    )
    statements: list[tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode, ox.NamedNode | ox.BlankNode | ox.Literal]] = [
        (service, RDF_TYPE, _sd("Service")),
        (service, _sd("endpoint"), ox.NamedNode(endpoint)),
        (service, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        (service, _sd("feature"), _sd("UnionDefaultGraph")),
        (service, _sd("defaultEntailmentRegime"), ox.NamedNode("http://www.w3.org/ns/entailment/Simple")),
        (service, ox.NamedNode(PREFIXES["dct"] + "title"), ox.Literal(f"{settings.publisher_name} SPARQL")),
        (service, ox.NamedNode(PREFIXES["rdfs"] + "comment"), ox.Literal(limits, language="en")),
        *((service, _sd("resultFormat"), ox.NamedNode(FORMATS + name)) for name in RESULT_FORMATS),
        (service, _sd("defaultDataset"), dataset),
        (dataset, RDF_TYPE, _sd("Dataset")),
        (dataset, _sd("defaultGraph"), default),
    ]
    named = [ox.BlankNode(f"graph{index}") for index in range(len(graphs))]
    statements += [(dataset, _sd("namedGraph"), node) for node in named]
    statements += [
        (default, RDF_TYPE, _sd("Graph")),
        (default, ox.NamedNode(VOID + "triples"), ox.Literal(str(triples), datatype=XSD_INTEGER)),
    ]
    for node, name in zip(named, sorted(graphs), strict=True):
        statements += [(node, RDF_TYPE, _sd("NamedGraph")), (node, _sd("name"), ox.NamedNode(name))]
    prefixes = {"sd": SD, "formats": FORMATS, "void": VOID, **VOCABULARIES}  # the vocabularies it is written in
    return serialize_rdf([ox.Triple(*statement) for statement in statements], RDF_FORMATS[fmt], prefixes)
