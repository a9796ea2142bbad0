"""The shapes compiled to SPARQL find what pyshacl finds, and shapes the compiler does not know go to pyshacl."""

from __future__ import annotations

import pytest
from rdflib import Graph
from rdflib.collection import Collection
from rdflib.namespace import SH

from graph.pipeline.build import Triple, new_graph
from graph.pipeline.shape_queries import UnsupportedShapesError, compile_shapes
from graph.pipeline.validate import Report, load_shapes, validate_graph, validate_triples

NS = "https://w3id.org/smartcity-kg/"
PREFIXES = """
    @prefix sh: <http://www.w3.org/ns/shacl#> .
    @prefix ex: <http://example.org/> .
    @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""
# Every feature the compiler knows, several of them without sh:message (so with pyshacl's own words).
SHAPES = (
    PREFIXES
    + """
    ex:ThingShape a sh:NodeShape ; sh:targetClass ex:Thing , ex:Other ;
        sh:property [ sh:path ex:kind ; sh:class ex:Kind ] ;
        sh:property [ sh:path ex:code ; sh:pattern "^ab" ; sh:flags "i" ; sh:message "Codes start with ab."@en ] ;
        sh:property [ sh:path ex:size ; sh:datatype xsd:integer ; sh:minCount 1 ] ;
        sh:property [ sh:path ex:name ; sh:minLength 2 ; sh:languageIn ( "en" ) ; sh:uniqueLang true ] ;
        sh:property [ sh:path ex:start ; sh:lessThanOrEquals ex:end ; sh:severity sh:Warning ] ;
        sh:property [ sh:path ex:link ; sh:nodeKind sh:BlankNodeOrIRI ; sh:maxCount 1 ] ;
        sh:property [ sh:path ex:when ; sh:or ( [ sh:datatype xsd:gYear ] [ sh:datatype xsd:date ] ) ] .
    ex:CodedShape a sh:NodeShape ; sh:targetSubjectsOf ex:code ; sh:nodeKind sh:IRI ; sh:class ex:Thing .
"""
)
DATA = (
    PREFIXES
    + """
    ex:SubThing rdfs:subClassOf ex:Thing .
    ex:SubKind rdfs:subClassOf ex:Kind .
    ex:k a ex:SubKind .
    ex:a a ex:SubThing , ex:Other ;                     # a subclass instance, targeted twice: reported once
        ex:kind ex:k , ex:nothing , "k" ;
        ex:code "ABc" , "xab" ;
        ex:size "1.50"^^xsd:decimal , "x"^^xsd:integer , 7 ;
        ex:name "a"@EN , "bb"@en-GB , "cc"@EN-gb , "dd"@de , "plain" ;
        ex:start "2020-01-01"^^xsd:date , "2018"^^xsd:gYear ;
        ex:end "2019-01-01"^^xsd:date , "2021-01-01"^^xsd:date ;
        ex:link [ ex:note "fine" ] , "text" ;
        ex:when "2020"^^xsd:gYear , "2020-02-30"^^xsd:date , "Mai"@DE .
    ex:b a ex:Thing .
    [ a ex:Thing ; ex:code "abz" ] .                      # pyshacl spells out blank nodes in its messages
    ex:c ex:code "ab" .
"""
)


def _graph(text: str) -> Graph:
    graph = Graph()
    graph.parse(data=text, format="turtle")
    return graph


def _compare(data: Graph, shapes: Graph) -> Report:
    triples: list[Triple] = [(s, p, o) for s, p, o in data]  # type: ignore[misc]
    compiled = validate_triples(triples, NS, shapes)
    assert compiled == validate_graph(new_graph(NS, triples), shapes, namespace=NS)
    return compiled


def test_every_compiled_feature_reports_what_pyshacl_reports() -> None:
    report = _compare(_graph(DATA), _graph(SHAPES))
    found = {(f.focus, f.path.removeprefix("<http://example.org/").rstrip(">"), f.value) for f in report.findings}
    assert found >= {
        ("<http://example.org/a>", "kind", "<http://example.org/nothing>"),
        ("<http://example.org/a>", "kind", "k"),
        ("<http://example.org/a>", "code", "xab"),
        ("<http://example.org/a>", "size", "1.50"),  # reported as written, not as the store keeps it
        ("<http://example.org/a>", "size", "x"),  # ill-typed
        ("<http://example.org/a>", "name", "a"),
        ("<http://example.org/a>", "name", "dd"),
        ("<http://example.org/a>", "name", "plain"),
        ("<http://example.org/a>", "start", "2020-01-01"),
        ("<http://example.org/a>", "start", "2018"),  # a year is no date to compare with
        ("<http://example.org/a>", "link", "text"),
        ("<http://example.org/a>", "when", "2020-02-30"),
        ("<http://example.org/a>", "when", "Mai"),
        ("<http://example.org/b>", "size", ""),
        ("<http://example.org/c>", "", "<http://example.org/c>"),
    }
    messages = {f.message for f in report.findings}
    assert (
        'Less than 1 values on [ <http://example.org/code> Literal("abz") ; rdf:type <http://example.org/Thing> ]'
        "->ex:size"
    ) in messages
    assert "Value is not of Node Kind sh:IRI" in messages
    assert [f.message for f in report.findings if f.value == "Mai"] == [
        'Node Literal("Mai", lang=DE) must conform to one or more shapes in '
        "[ sh:datatype xsd:gYear ] , [ sh:datatype xsd:date ]"
    ]


def test_values_that_cannot_be_compared_are_violations() -> None:
    # pyshacl itself fails on an ill-typed date here (TypeError); SHACL makes it a result.
    data = _graph(PREFIXES + 'ex:x a ex:Thing ; ex:start "2020-02-30"^^xsd:date ; ex:end "2021-01-01"^^xsd:date .')
    report = validate_triples([(s, p, o) for s, p, o in data], NS, _graph(SHAPES))  # type: ignore[misc]
    assert [(f.path, f.value, f.severity) for f in report.findings if "start" in f.path] == [
        ("<http://example.org/start>", "2020-02-30", "Warning")
    ]


def test_every_constraint_of_the_project_shapes_is_compiled() -> None:
    shapes = load_shapes()
    members = {m for head in shapes.objects(None, SH["or"]) for m in Collection(shapes, head)}
    constraints = {
        SH.minCount,
        SH.maxCount,
        SH["class"],
        SH.datatype,
        SH.nodeKind,
        SH.pattern,
        SH.minLength,
        SH.languageIn,
        SH["or"],
        SH.uniqueLang,
        SH.lessThanOrEquals,
    }
    expected = {(s, p) for s, p, _ in shapes if p in constraints and s not in members}
    assert {(check.shape, check.parameter) for check in compile_shapes(shapes).checks} == expected


@pytest.mark.parametrize(
    "shape",
    [
        "ex:S sh:targetClass ex:A ; sh:property [ sh:path ex:p ; sh:node ex:T ] .",
        "ex:S sh:targetClass ex:A ; sh:property [ sh:path [ sh:inversePath ex:p ] ; sh:minCount 1 ] .",
        "ex:S sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:minCount 1 ] .",
        "ex:S sh:targetClass ex:A ; sh:property [ sh:path ex:p ; sh:maxLength 3 ] .",
        "ex:S sh:targetClass ex:A ; sh:sparql [ sh:select 'SELECT $this WHERE { }' ] .",
        "ex:S a sh:NodeShape , rdfs:Class ; sh:targetClass ex:A ; sh:property [ sh:path ex:p ; sh:minCount 1 ] .",
        "ex:S sh:targetClass ex:A ; sh:property [ sh:path ex:p ; sh:datatype xsd:string , xsd:date ] .",
        "ex:S sh:targetClass ex:A ; sh:property [ sh:path ex:p ; sh:minCount 1 ; sh:message 'a'@en , 'b'@de ] .",
        "ex:S sh:targetClass ex:A ; sh:property [ sh:path ex:p ; sh:pattern 'a' ; sh:flags 'x' ] .",
        "ex:S sh:targetClass ex:A ; sh:property [ sh:path ex:p ; sh:or ( [ sh:path ex:q ; sh:minCount 1 ] ) ] .",
        "ex:S sh:targetClass ex:A ; sh:minCount 1 .",
    ],
)
def test_what_the_compiler_does_not_know_is_recognised(shape: str) -> None:
    with pytest.raises(UnsupportedShapesError):
        compile_shapes(_graph(PREFIXES + shape))


def test_shapes_the_compiler_does_not_know_are_checked_by_pyshacl() -> None:
    shapes = _graph(SHAPES + "ex:ThingShape sh:property [ sh:path ex:code ; sh:maxLength 2 ] .")
    report = _compare(_graph(DATA), shapes)
    assert any(f.message.startswith("String length not <= ") and f.value == "ABc" for f in report.findings)
