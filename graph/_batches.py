"""Split a graph into batches that SHACL can check one by one with exactly the results of checking it whole.

This holds when every shape looks only at its focus node's own triples and at the types of the nodes they point
to: focus nodes chosen by class or by being a subject, predicate paths, and constraints on the value nodes
themselves. Then a batch needs all triples of its subjects, the rdf:type triples of the nodes they point to,
and every rdfs:subClassOf triple; results about other focus nodes (a referenced node, seen only by its type)
are dropped, because the batch that holds that node's triples reports them.
"""

from __future__ import annotations

from collections.abc import Iterator

from rdflib import Graph, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH
from rdflib.term import Node

from graph.build import Triple

__all__ = ["Batch", "batches", "looked_at", "shapes_are_local"]

Batch = tuple[list[Triple], set[Node]]  # the triples to check, and the focus nodes whose results count

# Constraints on a value node that need nothing but the node itself and its types.
_ON_VALUE = {SH[name] for name in (
    "class", "datatype", "nodeKind", "pattern", "flags", "minLength", "maxLength", "languageIn", "in", "hasValue",
    "minInclusive", "maxInclusive", "minExclusive", "maxExclusive", "or", "and", "xone", "not",
    "message", "severity", "name", "description", "deactivated",
)}
# Constraints on a focus node that need nothing but its own triples (besides the ones above).
_ON_FOCUS = _ON_VALUE | {SH[name] for name in (
    "targetClass", "targetSubjectsOf", "property", "path", "minCount", "maxCount", "uniqueLang",
    "lessThan", "lessThanOrEquals", "equals", "disjoint", "order", "group",
)}


def shapes_are_local(shapes: Graph) -> bool:
    """Whether every shape only uses what a batch holds (else the graph must be checked whole)."""
    for _, predicate, obj in shapes:
        if str(predicate).startswith(str(SH)) and predicate not in _ON_FOCUS:
            return False
        if predicate == SH.path and not isinstance(obj, URIRef):
            return False  # inverse or sequence paths reach other nodes' triples
    return all(_value_only(shapes, nested) for nested in _nested(shapes))


def _nested(shapes: Graph) -> Iterator[Node]:
    for logic in (SH["or"], SH["and"], SH.xone):
        for members in shapes.objects(None, logic):
            yield from Collection(shapes, members)
    yield from shapes.objects(None, SH["not"])


def _value_only(shapes: Graph, shape: Node) -> bool:
    return all(not str(p).startswith(str(SH)) or p in _ON_VALUE for p in shapes.predicates(shape, None))


def looked_at(shapes: Graph) -> set[Node]:
    """The predicates local shapes can see: the others change no result and need not be checked at all."""
    predicates: set[Node] = {RDF.type, RDFS.subClassOf}
    for link in (SH.path, SH.targetSubjectsOf, SH.lessThan, SH.lessThanOrEquals, SH.equals, SH.disjoint):
        predicates.update(shapes.objects(None, link))
    return predicates


def batches(triples: list[Triple], size: int, predicates: set[Node]) -> list[Batch]:
    """Batches of about `size` triples with these predicates, each subject's in one batch, plus its lookups."""
    batch_of: dict[Node, int] = {}
    grouped: list[list[Triple]] = []
    types: dict[Node, list[Triple]] = {}
    hierarchy: list[Triple] = []
    for triple in triples:
        subject, predicate, _ = triple
        if predicate not in predicates:
            continue
        index = batch_of.get(subject)
        if index is None:
            if not grouped or len(grouped[-1]) >= size:
                grouped.append([])
            index = batch_of[subject] = len(grouped) - 1
        grouped[index].append(triple)
        if predicate == RDF.type:
            types.setdefault(subject, []).append(triple)
        elif predicate == RDFS.subClassOf:
            hierarchy.append(triple)
    result: list[Batch] = []
    for own in grouped:
        subjects: set[Node] = {triple[0] for triple in own}
        referenced = {o for _, _, o in own if o in types and o not in subjects}
        extra = [triple for node in referenced for triple in types[node]]
        result.append(([*own, *extra, *hierarchy], subjects))
    return result
