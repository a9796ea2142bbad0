"""The guard reads a query the way the SPARQL grammar does: one table of what it must refuse, and what not."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from urllib.parse import urljoin

import pytest

from graph import sparql_guard
from graph.sparql_guard import (
    Analysis,
    QueryRefusedError,
    analyse_query,
    check_dataset,
    check_standard,
    check_syntax,
)

BASE = "http://127.0.0.1:8000/sparql"

ALLOWED = [
    # (query, form, FROM graphs, FROM NAMED graphs, deterministic)
    ("SELECT * WHERE { ?s ?p ?o }", "SELECT", (), (), True),
    ('SELECT * WHERE { ?s ?p "SERVICE <http://x/> {}" }', "SELECT", (), (), True),
    ("SELECT * WHERE { ?s ?p '''INSERT\nDATA''' }", "SELECT", (), (), True),
    ("PREFIX ex: <http://x/>\nSELECT * WHERE { ?s ex:SERVICE ex:drop }", "SELECT", (), (), True),
    ("PREFIX ex: <http://x/>\nSELECT * WHERE { ?s ex:a\\-LOAD ?o }", "SELECT", (), (), True),
    ("SELECT ?service ?load WHERE { ?service ?load ?o }", "SELECT", (), (), True),
    ("SELECT * WHERE { ?s <http://x/SERVICE> ?o } # SERVICE", "SELECT", (), (), True),
    ("ASK {} # LOAD <http://x/>\n", "ASK", (), (), True),
    ('SELECT * WHERE { ?s ?p "x"@service }', "SELECT", (), (), True),
    ("SELECT * WHERE { _:service ?p ?o }", "SELECT", (), (), True),
    (
        'SELECT * WHERE { ?s ?p "(((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((" }',
        "SELECT",
        (),
        (),
        True,
    ),
    ("CONSTRUCT WHERE { ?s ?p ?o }", "CONSTRUCT", (), (), True),
    ("describe <http://x/a>", "DESCRIBE", (), (), True),
    ("SELECT (RAND() AS ?r) WHERE {}", "SELECT", (), (), False),
    ("SELECT (now() AS ?t) WHERE {}", "SELECT", (), (), False),
    ("SELECT * FROM <http://x/g> FROM NAMED <http://x/h> WHERE {}", "SELECT", ("http://x/g",), ("http://x/h",), True),
    (
        "PREFIX g: <http://x/graph/>\nSELECT * FROM g:data FROM NAMED g:onto WHERE {}",
        "SELECT",
        ("http://x/graph/data",),
        ("http://x/graph/onto",),
        True,
    ),
    ("BASE <http://x/dir/>\nSELECT * FROM <g> WHERE {}", "SELECT", ("http://x/dir/g",), (), True),
    ("SELECT * FROM <g> WHERE {}", "SELECT", ("http://127.0.0.1:8000/g",), (), True),
    ("SELECT * FROM <http://x/\\u0067> WHERE {}", "SELECT", ("http://x/g",), (), True),
    ("SELECT * WHERE { SELECT * WHERE { ?s ?p ?o } }", "SELECT", (), (), True),
]


@pytest.mark.parametrize(("query", "form", "graphs", "named", "deterministic"), ALLOWED)
def test_allowed(query: str, form: str, graphs: tuple[str, ...], named: tuple[str, ...], deterministic: bool) -> None:
    assert analyse_query(query, 64, BASE) == Analysis(
        form, graphs, named, deterministic, lookup=query.startswith("describe")
    )


# Lookups are evaluated in the server's own process, where no time limit can stop them: only queries whose cost
# is bounded by one subject's triples may pass, and anything else must not.
LOOKUPS = [
    "SELECT ?p ?o WHERE { <http://x/a> ?p ?o }",
    "PREFIX ex: <http://x/>\nSELECT DISTINCT * { ex:a ?p ?o . } ORDER BY ?p DESC(?o) LIMIT 10 OFFSET 5",
    "BASE <http://x/>\nSELECT ?o { <a> a ?o } # a comment",
    "DESCRIBE <http://x/a> <http://x/b>",
    "ASK { <http://x/a> a <http://x/C> }",
    'SELECT ?s WHERE { <http://x/a> <http://x/p> "x"@en }',
    'SELECT ?s WHERE { <http://x/a> <http://x/p> "x"^^<http://x/d> }',
    "CONSTRUCT { ?o <http://x/q> <http://x/a> ; a <http://x/C> } WHERE { <http://x/a> <http://x/p> ?o }",
]
NOT_LOOKUPS = [
    "SELECT ?p ?o WHERE { ?s ?p ?o }",  # no constant subject: the whole store
    "SELECT ?p ?o WHERE { ?s <http://x/p> <http://x/a> }",  # a constant object may have any number of subjects
    "SELECT ?p ?o WHERE { <http://x/a> ?p ?o . ?o ?q ?r }",  # a join
    "SELECT ?p ?o WHERE { <http://x/a> ?p ?o ; ?q ?r }",  # a product of the subject's triples with themselves
    "SELECT ?o WHERE { <http://x/a> <http://x/p>* ?o }",  # a path
    "SELECT ?o WHERE { <http://x/a> ?p ?o FILTER(REGEX(?o, 'x')) }",
    "SELECT (COUNT(*) AS ?n) WHERE { <http://x/a> ?p ?o }",
    "SELECT ?p ?o FROM <http://x/g> WHERE { <http://x/a> ?p ?o }",
    "SELECT ?p ?o WHERE { <http://x/a> ?p ?o } ORDER BY STR(?o)",
    "SELECT ?p ?o WHERE { <http://x/a> ?p ?o } VALUES ?p { <http://x/p> }",
    "SELECT ?p WHERE { <http://x/a> ?p ?o } GROUP BY ?p",
    "SELECT ?p WHERE { <http://x/a> ?p [] }",
    "DESCRIBE ?x WHERE { ?x ?p ?o }",
    "SELECT ?p ?o WHERE { { <http://x/a> ?p ?o } }",
    "SELECT ?p ?o WHERE { GRAPH ?g { <http://x/a> ?p ?o } }",
    "SELECT ?p ?o WHERE { <http://x/a> ?p ?o } LIMIT",
    "DESCRIBE " + " ".join(f"<http://x/{n}>" for n in range(9)),  # each thing costs a scan: a few at most
    "SELECT ?p ?o WHERE { <http://x/" + "a" * 5000 + "> ?p ?o }",  # the text is parsed in the server process too
]


@pytest.mark.parametrize("query", LOOKUPS)
def test_lookups(query: str) -> None:
    assert analyse_query(query, 64, BASE).lookup


@pytest.mark.parametrize("query", NOT_LOOKUPS)
def test_not_lookups(query: str) -> None:
    assert not analyse_query(query, 64, BASE).lookup


REFUSED = [
    # (query, words the message must contain)
    ("SELECT * WHERE { SERVICE <http://x/> { ?s ?p ?o } }", "SERVICE (at line 1, column 18)"),
    ("SELECT * WHERE {\n  ?s ?p ?o .\n  service silent ?x {}\n}", "line 3, column 3"),
    ("INSERT DATA { <http://x/a> <http://x/b> <http://x/c> }", "read-only: INSERT"),
    ("DELETE WHERE { ?s ?p ?o }", "read-only: DELETE"),
    ("LOAD <http://x/data.ttl>", "read-only: LOAD"),
    ("CLEAR ALL", "read-only: CLEAR"),
    ("DROP GRAPH <http://x/g>", "read-only: DROP"),
    ("CREATE GRAPH <http://x/g>", "read-only: CREATE"),
    ("ADD DEFAULT TO <http://x/g>", "read-only: ADD"),
    ("MOVE DEFAULT TO <http://x/g>", "read-only: MOVE"),
    ("COPY DEFAULT TO <http://x/g>", "read-only: COPY"),
    ("WITH <http://x/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "read-only: WITH"),
    ("SELECT * WHERE " + "{" * 65 + "}" * 65, "more than 64 deep at line 1, column 80"),
    ("SELECT * WHERE { FILTER(" + "(" * 70 + "1" + ")" * 70 + ") }", "more than 64 deep"),
    ("SELECT * WHERE { ?s ?p " + "[ ?p " * 70 + "]" * 70 + " }", "more than 64 deep"),
    ("BASE <http://[x/> SELECT * FROM <g> WHERE {}", "<http://[x/> is not a valid IRI"),
    ("SELECT * FROM <http://[x/> WHERE {}", "not a valid IRI"),
]


@pytest.mark.parametrize(("query", "words"), REFUSED)
def test_refused(query: str, words: str) -> None:
    with pytest.raises(QueryRefusedError) as refused:
        analyse_query(query, 64, BASE)
    assert refused.value.status == 400
    assert words in str(refused.value)


def test_an_escape_beyond_unicode_is_read_without_failing() -> None:
    # chr() refuses code points over U+10FFFF: the guard must not fail where the engine reports the error.
    assert analyse_query("SELECT * FROM <http://x/\\UFFFFFFFF> WHERE {}", 64, BASE).from_graphs


def test_nesting_at_the_limit_passes() -> None:
    assert analyse_query("SELECT * WHERE " + "{" * 64 + "}" * 64, 64, BASE).form == "SELECT"


def test_dataset_must_name_graphs_of_the_store() -> None:
    store = frozenset({"http://x/graph/data"})
    check_dataset(("http://x/graph/data",), (), store)
    with pytest.raises(QueryRefusedError) as refused:
        check_dataset((), ("http://127.0.0.1:9/",), store)
    assert "<http://127.0.0.1:9/>, which is not a graph of this store" in str(refused.value)
    assert "<http://x/graph/data>" in str(refused.value)


# Texts that made a backtracking reader take seconds to minutes of the server process's CPU (`a.a.a…` took 36 s):
# every one, at the largest size accepted, is read in time linear in its length.
PATHOLOGICAL = {
    "dotted names": "a." * 32_000,
    "colons": "a:" * 32_000,
    "dotted prefixes": "a.:" * 21_000,
    "dotted local names": "ex:a." * 12_800,
    "unclosed long strings": "'''\\'" * 12_800,
    "unclosed strings": '"\\"' * 21_000,
    "quotes": "'" * 64_000,
    "long strings": "'''a" * 16_000,
    "less-than signs": "<" * 64_000,
    "unclosed IRIs": "<a" * 32_000,
    "comments": "#" * 64_000,
    "escapes": "\\u0053" * 10_000,
    "variables": "?a" * 32_000,
    "triple patterns": "SELECT * {" + "?s ?p ?o ." * 6_000 + "}",
    "dots": "." * 64_000,
    "expressions": "SELECT * { FILTER(" + "?a<a>" * 12_000 + ") }",
}


@pytest.mark.parametrize("text", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_reading_is_linear(text: str) -> None:
    began = time.process_time()
    with contextlib.suppress(QueryRefusedError):
        analyse_query(text, 64, BASE)
    assert time.process_time() - began < 2.0  # seconds of CPU; each takes a small fraction of that


def _cpu(text: str) -> float:
    began = time.process_time()
    with contextlib.suppress(QueryRefusedError):
        analyse_query(text, 64, BASE)
    return time.process_time() - began


def test_too_deep_nesting_is_refused_before_the_rest_is_read() -> None:
    deep = "({[a" * 15_990  # 64 kB, too deep from its 65th bracket on
    with pytest.raises(QueryRefusedError, match="nest more than 64 deep at line 1, column 86"):
        analyse_query(deep, 64, BASE)
    accepted = "SELECT * {" + "?s ?p ?o ." * 6_395 + "}"  # as long, read to its end
    assert len(accepted) >= len(deep)
    assert _cpu(deep) * 10 < _cpu(accepted)


def test_many_base_declarations_are_refused_before_they_cost_quadratic_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each relative BASE resolves against the one before, so each resolution reads a longer IRI: thousands of
    # them made the guard take seconds. Counting resolutions shows the refusal comes before that cost does.
    resolved: list[str] = []

    def counting_urljoin(base: str, iri: str) -> str:
        resolved.append(iri)
        return urljoin(base, iri)

    monkeypatch.setattr(sparql_guard, "urljoin", counting_urljoin)
    text = "BASE<http://e/>" + "BASE<a/>" * 8190 + "ASK{}"
    with pytest.raises(QueryRefusedError, match=f"more than {sparql_guard.MAX_BASES} BASE"):
        analyse_query(text, 64)
    assert 0 < len(resolved) <= sparql_guard.MAX_BASES
    assert analyse_query("BASE <http://e/> BASE <a/> ASK {}", 64).form == "ASK"


@pytest.mark.parametrize("check", [check_syntax, check_standard], ids=["syntax", "standard"])
def test_the_checks_plan_without_evaluating(check: Callable[[str], None]) -> None:
    # 1300^3 rows to sort or count: evaluated, any of these would run for minutes and outgrow the memory.
    values = " ".join(str(n) for n in range(1300))
    blocks = " ".join(f"VALUES ?v{n} {{ {values} }}" for n in range(3))
    began = time.monotonic()
    check(f"SELECT * WHERE {{ {blocks} }} ORDER BY ?v0")
    check(f"SELECT (COUNT(*) AS ?n) WHERE {{ {blocks} }}")
    check(f"ASK {{ {blocks} FILTER(?v0 + ?v1 + ?v2 < -1) }}")
    check(f"CONSTRUCT {{ ?v0 <urn:p> ?v1 }} WHERE {{ {blocks} }} ORDER BY ?v2")
    check(f"SELECT ?smartcity_kg_probe WHERE {{ {blocks} BIND(1 AS ?smartcity_kg_probe) }} ORDER BY ?v0")
    assert time.monotonic() - began < 5


def test_a_servers_function_is_refused_before_anything_runs() -> None:
    values = " ".join(str(n) for n in range(1300))
    blocks = " ".join(f"VALUES ?v{n} {{ {values} }}" for n in range(3))
    fetch = "<http://www.openlinksw.com/schemas/bif#http_get>"
    query = f"SELECT * WHERE {{ {blocks} BIND({fetch}(?v0) AS ?x) }} ORDER BY ?x"
    with pytest.raises(QueryRefusedError) as refused:
        check_standard(query)
    assert refused.value.status == 400
    assert f"{fetch} is neither a function of SPARQL 1.1" in str(refused.value)
    check_syntax(query)  # the embedded store answers it (the function evaluates as unbound): it parses


@pytest.mark.parametrize(
    "query",
    [
        "SELECT ?t WHERE { BIND(<<( <urn:s> <urn:p> <urn:o> )>> AS ?t) }",  # a triple term (SPARQL 1.2)
        "VERSION '1.2' SELECT * WHERE { ?s ?p ?o ~ ?r {| ?q ?z |} }",  # a reifier and an annotation
        "SELECT * WHERE { <relative> ?p ?o }",  # resolved against the endpoint's address
        "PREFIX ex: <https://example.org/> CONSTRUCT WHERE { ?s ex:p ?o }",
    ],
)
def test_the_syntax_check_accepts_what_the_engine_parses(query: str) -> None:
    check_syntax(query, "http://127.0.0.1/sparql")


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("hello there", "syntax error: error at 1:1"),
        ("SELECT * WHERE { ?s ?p }", "syntax error: error at 1:25"),
        ("SELECT * WHERE { ?s undeclared:p ?o }", "Prefix not found"),
        ("INSERT DATA { <urn:s> <urn:p> <urn:o> }", "syntax error"),
    ],
)
def test_the_syntax_check_refuses_with_the_engines_message(query: str, words: str) -> None:
    with pytest.raises(QueryRefusedError) as refused:
        check_syntax(query, "http://127.0.0.1/sparql")
    assert refused.value.status == 400
    assert words in str(refused.value)
