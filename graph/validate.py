"""Step 3 of the pipeline: check the graph with the SHACL shapes; violations stop the build, warnings are shown."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyshacl import validate
from rdflib import Graph, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from graph.resources import resource_dir

__all__ = ["Finding", "Report", "load_shapes", "validate_graph"]


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
    """Validate `data` against the project's shapes (or the ones given)."""
    _, results, _ = validate(
        data, shacl_graph=shapes if shapes is not None else load_shapes(), inference="none", allow_warnings=True
    )
    assert isinstance(results, Graph)
    findings = [_finding(results, result, data) for result in results.subjects(SH.resultSeverity, None)]
    return Report(sorted(findings))


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
