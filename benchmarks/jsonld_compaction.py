"""JSON-LD compaction of the service's documents: the hand-written compaction (api/http/context.py) beside pyld's
and rdflib's JSON-LD serializers given the same published context, on the same triples, in the same run.

    python benchmarks/jsonld_compaction.py STORE_DIR [--repeat 50]

Each column is the time from the description's triples (pyoxigraph) to the JSON text, as a route needs it: pyld
reads them as N-Triples (`from_rdf`) and compacts with the context given as a document (no fetch); rdflib gets
them in a Graph and writes JSON-LD with the context. `equal` says whether the document equals the hand-written one
as JSON; `same triples` whether it reads back as the same graph (each parsed with the context by rdflib).
pyld is not a dependency of the project: install it beside the project's packages to measure it (it is skipped
when missing).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib.compare import isomorphic

from api.http.cache import BuildCache
from api.http.context import compact, load_context
from api.linked_data.describe import Describing, describe
from api.linked_data.routes import _describe_vocabulary
from api.pages.ontology import load_ontology
from graph.store import EmbeddedStore, open_embedded

CONTEXT_URL = "https://example.org/context.jsonld"
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_BIGGEST_ALLIANCE = """SELECT ?alliance (COUNT(*) AS ?n) WHERE {
  ?alliance a <https://w3id.org/smartcity-kg/ontology#Alliance> ; ?p ?o
} GROUP BY ?alliance ORDER BY DESC(?n) LIMIT 1"""


def _documents(store: EmbeddedStore) -> list[tuple[str, str, list[ox.Triple]]]:
    """(name, root, triples) of the documents compacted: the biggest alliance's /doc, a vocabulary (a list of its
    concepts), the ontology. (A REST list page is written from the REST API's models with a context of its own,
    not compacted from triples.)"""
    row = next(iter(store.select(_BIGGEST_ALLIANCE)))
    alliance = row["alliance"].value
    caches = Describing(BuildCache(2**26), BuildCache(2**26))
    described = describe(store, alliance, caches)
    assert described is not None
    mint = store.manifest.minter
    scheme = str(mint.scheme("role"))
    vocabulary = _describe_vocabulary(store, scheme)
    assert vocabulary is not None
    ontology = load_ontology(store)
    root = next(iter(ontology.of_type("http://www.w3.org/2002/07/owl#Ontology")))
    return [
        (f"/doc {alliance.rsplit('/', 1)[-1]}", alliance, list(described.triples)),
        ("/vocab/role", scheme, list(vocabulary.triples)),
        ("/ontology", root, list(ontology.triples)),
    ]


def _hand(triples: list[ox.Triple], root: str) -> str:
    return json.dumps(compact(triples, root, CONTEXT_URL), ensure_ascii=False, indent=2)


def _pyld(context: dict[str, Any]) -> Callable[[list[ox.Triple], str], str] | None:
    try:
        from pyld import jsonld  # type: ignore[import-not-found, import-untyped, unused-ignore]  # noqa: PLC0415
    except ImportError:
        return None

    def write(triples: list[ox.Triple], root: str) -> str:
        nquads = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
        assert nquads is not None
        expanded = jsonld.from_rdf(nquads.decode(), {"format": "application/n-quads"})
        document = jsonld.compact(expanded, context)
        document["@context"] = CONTEXT_URL
        return json.dumps(document, ensure_ascii=False, indent=2)

    return write


def _rdflib(context: dict[str, Any]) -> Callable[[list[ox.Triple], str], str]:
    def write(triples: list[ox.Triple], root: str) -> str:
        graph = _graph(triples)
        document = json.loads(graph.serialize(format="json-ld", context=context["@context"], auto_compact=True))
        document["@context"] = CONTEXT_URL
        return json.dumps(document, ensure_ascii=False, indent=2)

    return write


def _term(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> rdflib.term.Node:
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    if term.datatype.value == _XSD_STRING:  # the same literal in RDF 1.1; rdflib tells the two apart
        return rdflib.Literal(term.value)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))


def _graph(triples: list[ox.Triple]) -> rdflib.Graph:
    graph = rdflib.Graph()
    for triple in triples:
        assert not isinstance(triple.object, ox.Triple)
        graph.add((_term(triple.subject), _term(triple.predicate), _term(triple.object)))  # type: ignore[arg-type]
    return graph


def _read_back(text: str, context: dict[str, Any]) -> rdflib.Graph:
    document = json.loads(text)
    document["@context"] = context["@context"]
    return rdflib.Graph().parse(data=json.dumps(document), format="json-ld")


def _timed(write: Callable[[list[ox.Triple], str], str], triples: list[ox.Triple], root: str, repeat: int) -> float:
    """Median microseconds per document."""
    write(triples, root)  # warm: caches of the context, imports
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        write(triples, root)
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store", type=Path, help="a folder holding a published store (smartcity-kg build)")
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    store = open_embedded(args.store)
    context = json.loads(load_context()[0])
    writers: dict[str, Callable[[list[ox.Triple], str], str] | None] = {
        "hand": _hand,
        "pyld": _pyld(context),
        "rdflib": _rdflib(context),
    }
    print(f"median µs per document of {args.repeat}; equal: the same JSON as hand's; same triples: read back")
    print(f"{'document':34} {'triples':>7} {'writer':>7} {'µs':>10} {'/ hand':>7} {'equal':>6} {'same triples':>13}")
    for name, root, triples in _documents(store):
        expected = _graph(triples)
        reference = _hand(triples, root)
        hand_us = 0.0
        for writer_name, write in writers.items():
            if write is None:
                print(f"{name:34} {len(triples):7} {writer_name:>7} {'not installed':>10}")
                continue
            micros = _timed(write, triples, root, args.repeat)
            hand_us = hand_us or micros
            text = write(triples, root)
            equal = json.loads(text) == json.loads(reference)
            same = isomorphic(_read_back(text, context), expected)
            print(
                f"{name:34} {len(triples):7} {writer_name:>7} {micros:10.0f} {micros / hand_us:7.1f} "
                f"{'yes' if equal else 'no':>6} {'yes' if same else 'no':>13}"
            )


if __name__ == "__main__":
    main()
