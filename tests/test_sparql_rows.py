"""Results cut at the row limit are written exactly as the engine writes them, whatever the terms."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from api.querying.worker import RESULT_FORMATS, _first_rows

TERMS = """SELECT ?x ?y WHERE { VALUES (?x ?y) {
    (1 UNDEF) (UNDEF "tab\\tnew\\nline \\\\ \\"quoted\\"") (<http://example.org/x> "x"^^<http://example.org/dt>)
    ('''long\nliteral'''@en-GB 2.5) ("right to left"@ar--rtl true) ("Ünïcödé ✓" -0.0e0)
    (<<( <http://example.org/a> <http://example.org/b> <<( <http://example.org/c> <http://example.org/d> "e" )>> )>>
     "")
} }"""
QUERIES = [TERMS, "SELECT * WHERE {}", "SELECT * WHERE { FILTER(false) }", "SELECT ?unbound WHERE {}",
           "SELECT ?n WHERE { VALUES ?n { 1 2 3 4 5 } } ORDER BY ?n"]


@pytest.mark.parametrize("fmt", list(RESULT_FORMATS))
@pytest.mark.parametrize("query", QUERIES)
def test_rows_under_the_limit_are_written_as_the_engine_writes_them(query: str, fmt: str) -> None:
    store = ox.Store()
    direct = store.query(query)
    capped = store.query(query)
    assert isinstance(direct, ox.QuerySolutions) and isinstance(capped, ox.QuerySolutions)
    assert _first_rows(capped, RESULT_FORMATS[fmt], 10) == (direct.serialize(format=RESULT_FORMATS[fmt]), False)


def test_rows_over_the_limit_are_cut_and_flagged() -> None:
    store = ox.Store()
    solutions = store.query("SELECT ?n WHERE { VALUES ?n { 1 2 3 4 5 } } ORDER BY ?n")
    assert isinstance(solutions, ox.QuerySolutions)
    payload, truncated = _first_rows(solutions, ox.QueryResultsFormat.CSV, 3)
    assert truncated
    assert payload.decode().split() == ["n", "1", "2", "3"]
