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


@pytest.mark.parametrize(("rows", "limit"), [(0, 3), (3, 3), (4, 3), (1, 1), (2, 1), (10_000, 10_000),
                                             (10_001, 10_000), (200_000, 10_000)])
def test_the_cut_falls_exactly_at_the_limit(rows: int, limit: int) -> None:
    query = f"SELECT ?n WHERE {{ {_numbers(rows)} }} ORDER BY ?n LIMIT {rows}"
    solutions = ox.Store().query(query)
    assert isinstance(solutions, ox.QuerySolutions)
    payload, truncated = _first_rows(solutions, ox.QueryResultsFormat.CSV, limit)
    lines = payload.decode().split()
    assert truncated == (rows > limit)
    assert lines[0] == "n"
    assert [int(value) for value in lines[1:]] == list(range(min(rows, limit)))


def _numbers(rows: int) -> str:
    """A pattern whose solutions are ?n = 0, 1, 2 ... at least up to `rows` (one ten-valued digit per place)."""
    places = len(str(max(rows - 1, 1)))
    digits = " ".join(f"VALUES ?d{place} {{ 0 1 2 3 4 5 6 7 8 9 }}" for place in range(places))
    number = " + ".join(f"?d{place} * {10 ** place}" for place in range(places))
    return f"{digits} BIND({number} AS ?n)"
