"""Step 3 of the pipeline: check the graph with the SHACL shapes; violations stop the build, warnings are shown."""

from __future__ import annotations

import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from pyshacl import validate
from pyshacl.constraints import CONSTRAINT_PARAMETERS_MAP
from pyshacl.shapes_graph import ShapesGraph
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from graph._convert import nt_term, nt_text
from graph.iris import Minter
from graph.pipeline.build import Triple, new_graph
from graph.pipeline.shape_queries import (
    Check,
    CompiledShapes,
    UnsupportedShapesError,
    compile_shapes,
    passing_into,
    violations,
)
from graph.resources import resource_dir

__all__ = ["Finding", "Report", "Validation", "load_shapes", "validate_graph", "validate_triples"]


@dataclass(frozen=True, order=True)
class Finding:
    """One SHACL result in plain words."""

    severity: str
    focus: str
    path: str
    message: str
    value: str
    shape: str

    def __str__(self) -> str:
        parts = [f"{self.severity}: {self.focus}"]
        if self.path:
            parts.append(f"{self.path}:")
        parts.append(self.message)
        if self.value:
            parts.append(f"(value: {self.value})")
        return " ".join(parts)


@dataclass(frozen=True)
class Report:
    findings: list[Finding]

    @property
    def violations(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity == "Violation"]

    @property
    def warnings(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity != "Violation"]

    @property
    def conforms(self) -> bool:
        return not self.violations


def load_shapes(folder: Path | None = None) -> Graph:
    shapes = Graph()
    for file in sorted((folder or resource_dir("shapes")).glob("*.ttl")):
        shapes.parse(file, format="turtle")
    return shapes


def validate_graph(data: Graph, shapes: Graph | None = None, *, namespace: str | None = None) -> Report:
    """pyshacl's report on `data` as one rdflib graph, against the project's shapes (or the ones given); the things
    of `namespace` are shown as their paths."""
    shapes = shapes if shapes is not None else load_shapes()
    _, results, _ = validate(data, shacl_graph=shapes, inference="none", allow_warnings=True)
    assert isinstance(results, Graph)

    def one(result: Node, predicate: URIRef) -> Node | None:
        return results.value(result, predicate)

    minter = Minter(namespace) if namespace is not None else None
    findings = []
    for result in results.subjects(SH.resultSeverity, None):
        message = one(result, SH.resultMessage)
        source = one(result, SH.sourceConstraintComponent)
        findings.append(
            _finding(
                data,
                minter,
                severity=one(result, SH.resultSeverity),
                focus=one(result, SH.focusNode),
                path=one(result, SH.resultPath),
                value=one(result, SH.value),
                shape=one(result, SH.sourceShape),
                message=str(message) if message is not None else str(source).rsplit("#", 1)[-1],
            )
        )
    return Report(sorted(findings))


def validate_triples(triples: list[Triple], namespace: str, shapes: Graph | None = None) -> Report:
    """The report `validate_graph` gives for these triples, from the shapes compiled to SPARQL (on Oxigraph).

    Shapes that use what graph.pipeline.shape_queries does not compile are checked by pyshacl on the whole graph.
    """
    with Validation(namespace, shapes) as validation:
        deque(validation.passing(triples), maxlen=0)
        return validation.report(lambda: triples)


class Validation:
    """The report of `validate_triples` on triples that pass through it on their way elsewhere, none held.

    With the compiled shapes, the triples are loaded into a store on disk as they pass (its memory is bounded by
    its caches, where in memory it grew with the graph); only those about blank nodes are held, which pyshacl
    spells out in its findings. Where findings give literals, the triples are asked for once more, as a stream, for
    the literals as they were written. Shapes the compiler does not translate need the whole graph for pyshacl:
    then the triples are held as they pass.
    """

    def __init__(self, namespace: str, shapes: Graph | None = None) -> None:
        self.namespace = namespace
        self.shapes = shapes if shapes is not None else load_shapes()
        self.compiled: CompiledShapes | None
        try:
            self.compiled = compile_shapes(self.shapes)
        except UnsupportedShapesError:
            self.compiled = None
        self.held: list[Triple] = []
        self.store: ox.Store | None = None

    def __enter__(self) -> Validation:
        self.folder = tempfile.TemporaryDirectory(prefix="smartcity-kg-validation-")
        if self.compiled is not None:
            self.store = ox.Store(self.folder.name)
        return self

    def __exit__(self, *_: object) -> None:
        self.store = None  # closed before its folder goes
        self.folder.cleanup()

    def passing(self, triples: Iterable[Triple]) -> Iterator[str]:
        """The text of each of `triples` (`nt_text`) as it comes, each seen by the checks on its way: formatted once,
        for the validation store and for the caller alike."""
        if self.compiled is None:
            for triple in triples:
                self.held.append(triple)
                yield nt_text(triple)
            return
        assert self.store is not None, "passing() is used inside `with Validation(...)`"
        yield from passing_into(self.store, self._holding_blank(triples), self.compiled.predicates)

    def _holding_blank(self, triples: Iterable[Triple]) -> Iterator[Triple]:
        for triple in triples:
            if isinstance(triple[0], BNode):
                self.held.append(triple)
            yield triple

    def report(self, again: Callable[[], Iterable[Triple]]) -> Report:
        """The findings on the triples that passed; `again` gives them once more, asked only where a finding's
        literal is to be spelled as written."""
        if self.compiled is None:
            return validate_graph(new_graph(self.namespace, self.held), self.shapes, namespace=self.namespace)
        assert self.store is not None, "report() is used inside `with Validation(...)`"
        # Compacted first: the batches were written as files of their own, which every query would have to merge.
        self.store.optimize()
        found = list(violations(self.store, self.compiled))
        if not found:
            return Report([])
        described = _Described(self.held, again, self.namespace, shapes=self.shapes, store=self.store, found=found)
        return Report(sorted(described.findings()))


class _Described:
    """The rows of the compiled checks as the findings pyshacl gives: its terms, its words, its prefixes."""

    def __init__(
        self,
        blank: list[Triple],
        again: Callable[[], Iterable[Triple]],
        namespace: str,
        *,
        shapes: Graph,
        store: ox.Store,
        found: list[tuple[Check, ox.QuerySolution]],
    ) -> None:
        self.found = found
        self.minter = Minter(namespace)
        # pyshacl describes nodes with the data graph's prefixes, to which it binds sh: as it describes its
        # results, and spells out blank nodes with their triples.
        self.data = new_graph(namespace, blank)
        self.data.namespace_manager.bind("sh", SH, override=False, replace=False)
        pairs = {(_term(row["focus"]), check.path) for check, row in found if isinstance(row["value"], ox.Literal)}
        self.literals = _written_literals(again() if pairs else (), store, pairs)
        self.shapes = {shape.node: shape for shape in ShapesGraph(shapes).shapes}

    def findings(self) -> list[Finding]:
        findings = []
        for check, row in self.found:
            focus, value = _term(row["focus"]), row["value"]
            if isinstance(value, ox.Literal):
                node: Node | None = self.literals[focus, check.path, value]
            else:
                node = _term(value) if value is not None else None
            message = str(check.message) if check.message is not None else self._generic_message(check, focus, node)
            findings.append(
                _finding(
                    self.data,
                    self.minter,
                    severity=check.severity,
                    focus=focus,
                    path=check.path,
                    value=node,
                    shape=check.shape,
                    message=message,
                )
            )
        return findings

    def _generic_message(self, check: Check, focus: Node, value: Node | None) -> str:
        """pyshacl's own text for a result of a shape without sh:message."""
        component = CONSTRAINT_PARAMETERS_MAP[check.parameter](self.shapes[check.shape])
        return str(component.make_generic_messages(self.data, focus, value)[0])


_Spelled = tuple[Node, URIRef | None, ox.Literal]  # subject, path and literal as the store spells it


def _written_literals(
    triples: Iterable[Triple], store: ox.Store, pairs: set[tuple[Node, URIRef | None]]
) -> dict[_Spelled, Literal]:
    """The literals of these subjects and paths as the triples spell them, by the spelling the store gives them.

    Oxigraph keeps literals in a canonical form ("1.50"^^xsd:decimal becomes "1.5", language tags lower case),
    in which the results give them; the store puts the literals as written in the same form, to match them.
    """
    candidates = [(s, p, o) for s, p, o in triples if isinstance(o, Literal) and (s, p) in pairs]
    if not candidates:
        return {}
    rows = " ".join(f"({index} {nt_term(o)})" for index, (_, _, o) in enumerate(candidates))
    canonical = store.query(f"SELECT ?index ?literal WHERE {{ VALUES (?index ?literal) {{ {rows} }} }}")
    assert isinstance(canonical, ox.QuerySolutions)
    written: dict[_Spelled, Literal] = {}
    for row in canonical:
        s, p, o = candidates[int(row["index"].value)]
        written[s, p, row["literal"]] = o
    return written


def _term(node: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None) -> Node:
    if isinstance(node, ox.NamedNode):
        return URIRef(node.value)
    if isinstance(node, ox.BlankNode):
        return BNode(node.value)
    raise TypeError(f"not a focus or value node: {node}")


def _finding(
    data: Graph,
    minter: Minter | None,
    *,
    severity: Node | None,
    focus: Node | None,
    path: Node | None,
    value: Node | None,
    shape: Node | None,
    message: str,
) -> Finding:
    return Finding(
        severity=str(severity).rsplit("#", 1)[-1] if severity is not None else "Violation",
        focus=_short(data, minter, focus),
        path=_short(data, minter, path),
        message=message,
        value=_short(data, minter, value),
        shape=str(shape or ""),
    )


def _short(data: Graph, minter: Minter | None, node: Node | None) -> str:
    if node is None:
        return ""
    if isinstance(node, URIRef):
        # The graph's own things are shown as their path (id/city/dortmund), which is also where they are served;
        # another site's IRI, whatever its path, by its prefix or in full.
        local = minter.local(node) if minter is not None and minter.parse(node) is not None else None
        if local is not None:
            return local
        try:
            return data.namespace_manager.normalizeUri(node)
        except ValueError:
            return f"<{node}>"
    return str(node)
