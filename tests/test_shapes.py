"""Every shape has cases that must pass and cases that must fail it, one test each (tests/shapes/<Shape>/), and the
build's compiled checks report on each case exactly what pyshacl reports."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import BNode, Graph, URIRef
from rdflib.namespace import SH

from graph.pipeline.build import Triple, new_graph
from graph.pipeline.validate import load_shapes, validate_graph, validate_triples

CASES = Path(__file__).parent / "shapes"
SHP = "https://w3id.org/smartcity-kg/shapes#"
NS = "https://w3id.org/smartcity-kg/"
SHAPES = load_shapes()


def _cases(prefix: str) -> list[Path]:
    return sorted(CASES.glob(f"*/{prefix}-*.ttl"))


def _graph(case: Path) -> Graph:
    graph = Graph()
    graph.parse(CASES / "_common.ttl")
    graph.parse(case)
    return graph


def _node_shape(shape: str) -> str:
    """The node shape a result came from (property shapes are blank nodes inside one)."""
    node: URIRef | BNode = BNode(shape) if not shape.startswith("http") else URIRef(shape)
    parent = SHAPES.value(None, SH.property, node)
    return str(parent if parent is not None else node)


def test_every_node_shape_has_valid_and_invalid_cases() -> None:
    node_shapes = {str(s).removeprefix(SHP) for s in SHAPES.subjects(None, SH.NodeShape) if str(s).startswith(SHP)}
    violation_shapes = {name for name in node_shapes if not name.endswith("RecommendedShape")}
    folders = {folder.name for folder in CASES.iterdir() if folder.is_dir()}
    assert violation_shapes <= folders, f"shapes without cases: {sorted(violation_shapes - folders)}"
    for folder in folders:
        names = [case.name for case in (CASES / folder).glob("*.ttl")]
        assert any(n.startswith("valid-") for n in names), f"{folder} has no valid case"
        assert any(n.startswith("invalid-") for n in names), f"{folder} has no invalid case"


@pytest.mark.parametrize("case", _cases("valid"), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_valid_case_conforms(case: Path) -> None:
    report = validate_graph(_graph(case), SHAPES)
    assert report.conforms, "\n".join(map(str, report.violations))


@pytest.mark.parametrize("case", _cases("invalid"), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_invalid_case_is_a_violation_of_its_shape(case: Path) -> None:
    report = validate_graph(_graph(case), SHAPES)
    shapes = {_node_shape(finding.shape) for finding in report.violations}
    assert SHP + case.parent.name in shapes, f"expected a violation of {case.parent.name}, got {shapes}"
    assert all(finding.message for finding in report.violations), "every violation says what is wrong"


@pytest.mark.parametrize("case", _cases("*"), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_compiled_checks_report_what_pyshacl_reports(case: Path) -> None:
    triples: list[Triple] = [(s, p, o) for s, p, o in _graph(case)]  # type: ignore[misc]
    assert validate_triples(triples, NS, SHAPES) == validate_graph(new_graph(NS, triples), SHAPES, namespace=NS)


def test_the_corpus_is_not_empty() -> None:
    assert len(_cases("valid")) >= 19
    assert len(_cases("invalid")) >= 19


def test_findings_show_the_graphs_own_things_by_path_and_any_other_iri_in_full() -> None:
    """Only the graph's own things are shown as their path: another site's IRI is not, whatever its path holds."""
    case = _graph(CASES / "CityShape" / "invalid-ags-seven-digits.ttl")
    city = URIRef("https://example.org/city")
    triples: list[Triple] = []
    for name in (f"{NS}id/city/c", "https://example.org/id/city/c"):
        triples += [(URIRef(name) if s == city else s, p, o) for s, p, o in case]  # type: ignore[misc]
    for report in (validate_triples(triples, NS, SHAPES), validate_graph(new_graph(NS, triples), SHAPES, namespace=NS)):
        assert {finding.focus for finding in report.violations} == {"id/city/c", "<https://example.org/id/city/c>"}
