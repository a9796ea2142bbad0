"""Step 3 of the pipeline: check the graph with the SHACL shapes; violations stop the build, warnings are shown."""

from __future__ import annotations

import gc
import multiprocessing
from dataclasses import dataclass
from pathlib import Path

from pyshacl import validate
from rdflib import Graph, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from graph._batches import Batch, batches, looked_at, shapes_are_local
from graph.build import Triple, new_graph
from graph.resources import resource_dir

__all__ = ["BATCH_SIZE", "Finding", "Report", "load_shapes", "validate_graph", "validate_triples"]

# Big enough that pyshacl's set-up per batch does not matter, small enough to bound each worker's memory and
# to share the work out evenly (batches of memberships cost more to check than batches of cities).
BATCH_SIZE = 50_000


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


def validate_graph(data: Graph, shapes: Graph | None = None) -> Report:
    """Validate `data` as one graph against the project's shapes (or the ones given)."""
    return Report(sorted(_check(data, shapes if shapes is not None else load_shapes(), None)))


def validate_triples(triples: list[Triple], namespace: str, shapes: Graph | None = None, *,
                     batch_size: int = BATCH_SIZE, workers: int = 2) -> Report:
    """The report `validate_graph` gives for these triples, checked in batches on `workers` processes.

    Shapes that look further than a batch holds (see graph._batches) are checked on the whole graph instead.
    """
    shapes = shapes if shapes is not None else load_shapes()
    if len(triples) <= batch_size or not shapes_are_local(shapes):
        return validate_graph(new_graph(namespace, triples), shapes)
    jobs = batches(triples, batch_size, looked_at(shapes))
    global _JOBS  # noqa: PLW0603 - forked workers read their batch from here instead of a pickled copy
    _JOBS = (jobs, namespace, shapes)
    # Frozen objects are never scanned by the cycle collector: forked workers then neither spend time on the
    # parent's million triples nor copy every page of them by touching their reference counts.
    gc.freeze()
    try:
        if workers < 2:
            found = [_check_batch(index) for index in range(len(jobs))]
        else:
            # fork: the workers share the parent's triples; one batch per worker process returns its memory.
            with multiprocessing.get_context("fork").Pool(workers, maxtasksperchild=1) as pool:
                found = pool.map(_check_batch, range(len(jobs)), chunksize=1)
    finally:
        _JOBS = None
        gc.unfreeze()
    return Report(sorted(finding for part in found for finding in part))


_JOBS: tuple[list[Batch], str, Graph] | None = None


def _check_batch(index: int) -> list[Finding]:
    assert _JOBS is not None
    jobs, namespace, shapes = _JOBS
    triples, focus = jobs[index]
    return _check(new_graph(namespace, triples), shapes, focus)


def _check(data: Graph, shapes: Graph, focus: set[Node] | None) -> list[Finding]:
    """pyshacl's results as findings, only those about `focus` nodes when given."""
    _, results, _ = validate(data, shacl_graph=shapes, inference="none", allow_warnings=True)
    assert isinstance(results, Graph)
    return [_finding(results, result, data) for result in results.subjects(SH.resultSeverity, None)
            if focus is None or results.value(result, SH.focusNode) in focus]


def _finding(results: Graph, result: Node, data: Graph) -> Finding:
    def one(predicate: URIRef) -> Node | None:
        return results.value(result, predicate)

    severity = one(SH.resultSeverity)
    message = one(SH.resultMessage)
    source = one(SH.sourceConstraintComponent)
    return Finding(
        severity=str(severity).rsplit("#", 1)[-1] if severity is not None else "Violation",
        focus=_short(data, one(SH.focusNode)),
        path=_short(data, one(SH.resultPath)),
        message=str(message) if message is not None else str(source).rsplit("#", 1)[-1],
        value=_short(data, one(SH.value)),
        shape=str(one(SH.sourceShape) or ""),
    )


def _short(data: Graph, node: Node | None) -> str:
    if node is None:
        return ""
    if isinstance(node, URIRef):
        # Things are shown as their path (id/city/dortmund), which is also where they are served.
        text = str(node)
        marker = text.find("/id/")
        if marker >= 0:
            return text[marker + 1:]
        try:
            return data.namespace_manager.normalizeUri(node)
        except ValueError:
            return f"<{node}>"
    return str(node)
