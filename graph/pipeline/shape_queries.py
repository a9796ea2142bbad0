"""SHACL shapes compiled to SPARQL: each constraint becomes one query for its violations, run on Oxigraph.

Only what the project's shapes use is compiled: targets by class and by subject, predicate paths, and the
constraints sh:minCount, sh:maxCount, sh:class, sh:datatype, sh:nodeKind, sh:pattern (with sh:flags),
sh:minLength, sh:languageIn, sh:or, sh:uniqueLang and sh:lessThanOrEquals, with sh:severity and sh:message.
Shapes that use anything else raise UnsupportedShapesError, and the caller checks them with pyshacl instead.

Each answer row is one result as pyshacl reports it: the focus node, and the value node where the constraint
has one. Conditions are wrapped in COALESCE(…, false) so that a value that makes an expression fail (comparing
a date with a string) counts as a violation, as the specification says, instead of dropping out of the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, XSD
from rdflib.term import Node

from graph._convert import nt_term
from graph.pipeline.build import Triple

__all__ = ["Check", "CompiledShapes", "UnsupportedShapesError", "compile_shapes", "passing_into", "violations"]

# rdflib marks literals whose text does not fit their datatype ("2020-02-30"^^xsd:date) as ill-typed, and
# pyshacl goes by that mark; the store lists those literals in a graph of their own for sh:datatype to see.
ILL_TYPED = "urn:x-smartcity-kg:ill-typed"

_TARGETS = {SH.targetClass, SH.targetSubjectsOf}
# Constraints on each value node alone: each compiles to a condition, so they may also stand inside sh:or.
_ON_VALUE = {SH["class"], SH.datatype, SH.nodeKind, SH.pattern, SH.minLength, SH.languageIn, SH["or"]}
# Constraints on all the values of a path together, which only property shapes have.
_ON_PATH = {SH.minCount, SH.maxCount, SH.uniqueLang, SH.lessThanOrEquals}
_ABOUT = {SH.severity, SH.message, SH.flags}
_SUPPORTED = _TARGETS | _ON_VALUE | _ON_PATH | _ABOUT | {SH.property, SH.path}
_SHAPE_TYPES = {SH.NodeShape, SH.PropertyShape}
_NODE_KINDS = {
    SH.IRI: "isIRI(?value)",
    SH.BlankNode: "isBlank(?value)",
    SH.Literal: "isLiteral(?value)",
    SH.BlankNodeOrIRI: "(isBlank(?value) || isIRI(?value))",
    SH.BlankNodeOrLiteral: "(isBlank(?value) || isLiteral(?value))",
    SH.IRIOrLiteral: "(isIRI(?value) || isLiteral(?value))",
}
# pyshacl reads no other regular-expression flags (and ignores letters it does not know).
_FLAGS = {"", "i", "m", "im", "mi"}


class UnsupportedShapesError(Exception):
    """The shapes use something the compiler does not translate: pyshacl has to check them."""


@dataclass(frozen=True)
class Check:
    """One constraint of one shape, and the query that selects its results."""

    shape: Node  # the shape the results come from (sh:sourceShape)
    parameter: URIRef  # the constraint's parameter (sh:minCount, …), which names its constraint component
    path: URIRef | None  # the property shape's path (sh:resultPath); None for a node shape
    severity: Node
    message: Literal | None
    query: str  # SELECT ?focus [?value]: one row per result


@dataclass(frozen=True)
class CompiledShapes:
    checks: list[Check]
    predicates: frozenset[URIRef]  # the only predicates the checks look at


def compile_shapes(shapes: Graph) -> CompiledShapes:
    """Every constraint of every shape with targets as a query; UnsupportedShapesError if one cannot be."""
    unknown = {p for p in shapes.predicates() if str(p).startswith(str(SH))} - _SUPPORTED
    if unknown:
        raise UnsupportedShapesError(f"not compiled: {', '.join(sorted(map(str, unknown)))}")
    compiler = _Compiler(shapes)
    for shape in sorted({s for target in _TARGETS for s in shapes.subjects(target, None)}, key=str):
        compiler.node_shape(shape)
    return CompiledShapes(compiler.checks, frozenset(compiler.predicates))


def passing_into(store: ox.Store, triples: Iterable[Triple], predicates: frozenset[URIRef]) -> Iterator[str]:
    """The text of each triple (`nt_text`) as it comes, the triples with these predicates loaded into `store` (a
    store on disk, whose memory does not grow with the graph) on their way, as N-Quads text (faster than terms): a
    stream of triples is checked and written elsewhere in one pass, without being held, and formatted once for both.
    """
    marker = f"<{ILL_TYPED}> <{ILL_TYPED}> {{}} <{ILL_TYPED}> ."
    lines: list[str] = []
    for s, p, o in triples:
        value = nt_term(o)
        text = f"{nt_term(s)} <{p}> {value}"
        if p in predicates:
            lines.append(f"{text} .")
            if isinstance(o, Literal) and o.ill_typed:
                lines.append(marker.format(value))
            if len(lines) >= _LINES_AT_ONCE:
                _load(store, lines)
                lines.clear()
        yield text
    _load(store, lines)


# Enough lines to make loading cheap per line, few enough that their text is small beside the store.
_LINES_AT_ONCE = 100_000


def _load(store: ox.Store, lines: list[str]) -> None:
    # Parsed apart from the store so that blank nodes keep their names (Store.load renames them); leniently,
    # because the terms are rdflib's, checked when they were made, and the results must be about those terms.
    quads = ox.parse("\n".join(lines), format=ox.RdfFormat.N_QUADS, rename_blank_nodes=False, lenient=True)
    # Written as files of their own: a transaction would keep them in memory until the next compaction.
    store.bulk_extend(quads)


def violations(store: ox.Store, compiled: CompiledShapes) -> Iterator[tuple[Check, ox.QuerySolution]]:
    """Each result of each check: the check, and the row with its ?focus (and ?value)."""
    for check in compiled.checks:
        solutions = store.query(check.query)
        assert isinstance(solutions, ox.QuerySolutions)
        for row in solutions:
            yield check, row


class _Compiler:
    def __init__(self, shapes: Graph) -> None:
        self.shapes = shapes
        self.checks: list[Check] = []
        self.predicates: set[URIRef] = {RDF.type, RDFS.subClassOf}
        self.conditions: dict[Node, Callable[[Node], str]] = {
            SH["class"]: self._class,
            SH.datatype: self._datatype,
            SH.nodeKind: self._node_kind,
            SH.pattern: self._pattern,
            SH.minLength: self._min_length,
            SH.languageIn: self._language_in,
            SH["or"]: self._or,
        }

    def node_shape(self, shape: Node) -> None:
        self._require_shape_types(shape)
        if (shape, SH.path, None) in self.shapes:
            raise UnsupportedShapesError(f"{shape}: a property shape with targets of its own")
        focus = self._focus(shape)
        self._constraints(shape, None, focus)
        for prop in self._values(shape, SH.property):
            self._require_shape_types(prop)
            if any((prop, p, None) in self.shapes for p in (*_TARGETS, SH.property)):
                raise UnsupportedShapesError(f"{prop}: targets or property shapes inside a property shape")
            path = self._one(prop, SH.path)
            if not isinstance(path, URIRef):
                raise UnsupportedShapesError(f"{prop}: sh:path is not one predicate")
            self.predicates.add(path)
            self._constraints(prop, path, focus)

    def _focus(self, shape: Node) -> str:
        """A subquery giving each focus node of the shape once (a node may be targeted several ways)."""
        parts = []
        classes = self._values(shape, SH.targetClass)
        if classes:
            parts.append(
                f"VALUES ?class {{ {' '.join(map(_iri, classes))} }} "
                f"?type <{RDFS.subClassOf}>* ?class . ?focus <{RDF.type}> ?type ."
            )
        for predicate in self._values(shape, SH.targetSubjectsOf):
            self.predicates.add(_as_iri(predicate))
            parts.append(f"?focus {_iri(predicate)} [] .")
        union = " UNION ".join(f"{{ {part} }}" for part in parts)
        return f"{{ SELECT DISTINCT ?focus WHERE {{ {union} }} }}"

    def _constraints(self, shape: Node, path: URIRef | None, focus: str) -> None:
        severity = self._one(shape, SH.severity) or SH.Violation
        message = self._one(shape, SH.message)
        if message is not None and not isinstance(message, Literal):
            raise UnsupportedShapesError(f"{shape}: sh:message is not a literal")
        values = f"?focus <{path}> ?value ." if path is not None else "BIND(?focus AS ?value)"
        parameters = {_as_iri(p) for p in self.shapes.predicates(shape, None) if p in _ON_VALUE | _ON_PATH}
        for parameter in sorted(parameters):
            if path is None and parameter in _ON_PATH:
                raise UnsupportedShapesError(f"{shape}: {parameter} in a node shape")
            for query in self._queries(shape, parameter, focus, values):
                self.checks.append(Check(shape, parameter, path, severity, message, query))

    def _queries(self, shape: Node, parameter: URIRef, focus: str, values: str) -> Iterator[str]:
        if parameter == SH.minCount:
            least = _count(self._one(shape, parameter))
            if least > 0:
                yield (
                    f"SELECT ?focus WHERE {{ {focus} OPTIONAL {{ {values} }} }} "
                    f"GROUP BY ?focus HAVING (COUNT(?value) < {least})"
                )
        elif parameter == SH.maxCount:
            most = _count(self._one(shape, parameter))
            yield f"SELECT ?focus WHERE {{ {focus} {values} }} GROUP BY ?focus HAVING (COUNT(?value) > {most})"
        elif parameter == SH.uniqueLang:
            if self._one(shape, parameter) != Literal(True):
                raise UnsupportedShapesError(f"{shape}: sh:uniqueLang other than true")
            # one result for each language that two values share
            yield (
                f"SELECT ?focus WHERE {{ {focus} {values} BIND(LCASE(LANG(?value)) AS ?lang) "
                f'FILTER(?lang != "") }} GROUP BY ?focus ?lang HAVING (COUNT(?value) > 1)'
            )
        elif parameter == SH.lessThanOrEquals:
            for other in self._values(shape, parameter):
                self.predicates.add(_as_iri(other))
                # one result for each pair of values out of order
                yield (
                    f"SELECT ?focus ?value WHERE {{ {focus} {values} ?focus {_iri(other)} ?other "
                    f"FILTER(!COALESCE(?value <= ?other, false)) }}"
                )
        elif parameter == SH["class"]:
            for cls in self._values(shape, parameter):  # one constraint for each class
                yield _value_query(focus, values, _instance_of(cls))
        else:
            yield _value_query(focus, values, self.conditions[parameter](shape))

    # Conditions a value node meets when it conforms, as SPARQL expressions that never fail.

    def _class(self, shape: Node) -> str:
        return " && ".join(_instance_of(cls) for cls in self._values(shape, SH["class"]))

    def _datatype(self, shape: Node) -> str:
        datatype = self._one(shape, SH.datatype)
        if datatype in (RDFS.Literal, RDFS.Datatype):
            raise UnsupportedShapesError(f"{shape}: sh:datatype {datatype}")  # pyshacl lets any literal match
        return (
            f"COALESCE(isLiteral(?value) && DATATYPE(?value) = {_iri(datatype)} && NOT EXISTS {{ "
            f"GRAPH <{ILL_TYPED}> {{ <{ILL_TYPED}> <{ILL_TYPED}> ?value }} }}, false)"
        )

    def _node_kind(self, shape: Node) -> str:
        kind = _as_iri(self._one(shape, SH.nodeKind))
        if kind not in _NODE_KINDS:
            raise UnsupportedShapesError(f"{shape}: sh:nodeKind {kind}")
        return _NODE_KINDS[kind]

    def _pattern(self, shape: Node) -> str:
        pattern, flags = self._one(shape, SH.pattern), self._one(shape, SH.flags) or Literal("")
        if str(flags) not in _FLAGS:
            raise UnsupportedShapesError(f"{shape}: sh:flags {flags}")
        return f"COALESCE(!isBlank(?value) && REGEX(STR(?value), {_string(pattern)}, {_string(flags)}), false)"

    def _min_length(self, shape: Node) -> str:
        least = _count(self._one(shape, SH.minLength))
        return f"COALESCE(!isBlank(?value) && STRLEN(STR(?value)) >= {least}, false)"

    def _language_in(self, shape: Node) -> str:
        ranges = self._list(shape, SH.languageIn)
        return "COALESCE(" + " || ".join(f"langMatches(LANG(?value), {_string(r)})" for r in ranges) + ", false)"

    def _or(self, shape: Node) -> str:
        return "(" + " || ".join(self._conforms(member) for member in self._list(shape, SH["or"])) + ")"

    def _conforms(self, member: Node) -> str:
        """A member of sh:or: a shape of constraints on the value node alone."""
        self._require_shape_types(member)
        used = {_as_iri(p) for p in self.shapes.predicates(member, None) if str(p).startswith(str(SH))}
        if used - _ON_VALUE - _ABOUT:
            raise UnsupportedShapesError(f"{member}: a member of sh:or with more than constraints on a value")
        return "(" + " && ".join([self.conditions[p](member) for p in sorted(used & _ON_VALUE)] or ["true"]) + ")"

    def _require_shape_types(self, shape: Node) -> None:
        # Any other type could make the shape a class, which targets its instances implicitly.
        if set(self.shapes.objects(shape, RDF.type)) - _SHAPE_TYPES:
            raise UnsupportedShapesError(f"{shape}: a shape with a type other than sh:NodeShape/sh:PropertyShape")

    def _values(self, shape: Node, parameter: URIRef) -> list[Node]:
        return sorted(self.shapes.objects(shape, parameter), key=str)

    def _one(self, shape: Node, parameter: URIRef) -> Node | None:
        found = self._values(shape, parameter)
        if len(found) > 1:
            raise UnsupportedShapesError(f"{shape}: more than one {parameter}")
        return found[0] if found else None

    def _list(self, shape: Node, parameter: URIRef) -> list[Node]:
        head = self._one(shape, parameter)
        members = list(Collection(self.shapes, head)) if head is not None else []
        if not members:
            raise UnsupportedShapesError(f"{shape}: {parameter} is not a list with members")
        return members


def _value_query(focus: str, values: str, condition: str) -> str:
    return f"SELECT DISTINCT ?focus ?value WHERE {{ {focus} {values} FILTER(!({condition})) }}"


def _instance_of(cls: Node) -> str:
    # SHACL instances: of the class or of any of its subclasses, as the data graph says.
    return f"EXISTS {{ ?value <{RDF.type}>/<{RDFS.subClassOf}>* {_iri(cls)} }}"


def _count(literal: Node | None) -> int:
    if not (isinstance(literal, Literal) and literal.datatype == XSD.integer and int(literal) >= 0):
        raise UnsupportedShapesError(f"not a count: {literal}")
    return int(literal)


def _string(literal: Node | None) -> str:
    """The text of a literal as a SPARQL string (Turtle's syntax for literals is SPARQL's)."""
    if not isinstance(literal, Literal):
        raise UnsupportedShapesError(f"not a literal: {literal}")
    return Literal(str(literal)).n3()


def _as_iri(node: Node | None) -> URIRef:
    if not isinstance(node, URIRef):
        raise UnsupportedShapesError(f"not an IRI: {node}")
    return node


def _iri(node: Node | None) -> str:
    return f"<{_as_iri(node)}>"
