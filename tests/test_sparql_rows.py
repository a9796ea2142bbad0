"""Results cut at the row limit are written exactly as the engine writes them, whatever the terms."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from api.sparql import worker
from api.sparql.worker import GRAPH_FORMATS, RESULT_FORMATS, _first_rows, answer

TERMS = """SELECT ?x ?y WHERE { VALUES (?x ?y) {
    (1 UNDEF) (UNDEF "tab\\tnew\\nline \\\\ \\"quoted\\"") (<http://example.org/x> "x"^^<http://example.org/dt>)
    ('''long\nliteral'''@en-GB 2.5) ("right to left"@ar--rtl true) ("Ünïcödé ✓" -0.0e0)
    (<<( <http://example.org/a> <http://example.org/b> <<( <http://example.org/c> <http://example.org/d> "e" )>> )>>
     "")
} }"""
QUERIES = [
    TERMS,
    "SELECT * WHERE {}",
    "SELECT * WHERE { FILTER(false) }",
    "SELECT ?unbound WHERE {}",
    "SELECT ?n WHERE { VALUES ?n { 1 2 3 4 5 } } ORDER BY ?n",
]


@pytest.mark.parametrize("fmt", list(RESULT_FORMATS))
@pytest.mark.parametrize("query", QUERIES)
def test_rows_under_the_limit_are_written_as_the_engine_writes_them(query: str, fmt: str) -> None:
    store = ox.Store()
    direct = store.query(query)
    capped = store.query(query)
    assert isinstance(direct, ox.QuerySolutions) and isinstance(capped, ox.QuerySolutions)
    assert _first_rows(capped, RESULT_FORMATS[fmt], 10, 2**20) == (direct.serialize(format=RESULT_FORMATS[fmt]), False)


def test_rows_over_the_limit_are_cut_and_flagged() -> None:
    store = ox.Store()
    solutions = store.query("SELECT ?n WHERE { VALUES ?n { 1 2 3 4 5 } } ORDER BY ?n")
    assert isinstance(solutions, ox.QuerySolutions)
    payload, truncated = _first_rows(solutions, ox.QueryResultsFormat.CSV, 3, 2**20)
    assert truncated
    assert payload.decode().split() == ["n", "1", "2", "3"]


@pytest.mark.parametrize(
    ("rows", "limit"), [(0, 3), (3, 3), (4, 3), (1, 1), (2, 1), (10_000, 10_000), (10_001, 10_000), (200_000, 10_000)]
)
def test_the_cut_falls_exactly_at_the_limit(rows: int, limit: int) -> None:
    query = f"SELECT ?n WHERE {{ {_numbers(rows)} }} ORDER BY ?n LIMIT {rows}"
    solutions = ox.Store().query(query)
    assert isinstance(solutions, ox.QuerySolutions)
    payload, truncated = _first_rows(solutions, ox.QueryResultsFormat.CSV, limit, 2**20)
    lines = payload.decode().split()
    assert truncated == (rows > limit)
    assert lines[0] == "n"
    assert [int(value) for value in lines[1:]] == list(range(min(rows, limit)))


def _numbers(rows: int) -> str:
    """A pattern whose solutions are ?n = 0, 1, 2 ... at least up to `rows` (one ten-valued digit per place)."""
    places = len(str(max(rows - 1, 1)))
    digits = " ".join(f"VALUES ?d{place} {{ 0 1 2 3 4 5 6 7 8 9 }}" for place in range(places))
    number = " + ".join(f"?d{place} * {10**place}" for place in range(places))
    return f"{digits} BIND({number} AS ?n)"


# A few rows can make a huge answer (REPLACE turned a 3 KB query into 382 MiB under 10,000 rows): answers are cut
# at a row before they pass the byte limit too, in every format, and flagged like a cut at the row limit.
AMPLIFIED = (
    'SELECT (REPLACE(STR(?n), "[0-9]", "{pad}") AS ?x) WHERE {{ {numbers} }}',
    "CONSTRUCT {{ ?s <http://example.org/p> ?x }} WHERE {{ {numbers} "
    'BIND(IRI(CONCAT("http://example.org/", STR(?n))) AS ?s) '
    'BIND(REPLACE(STR(?n), "[0-9]", "{pad}") AS ?x) }}',
)


@pytest.mark.parametrize(
    ("template", "fmt"),
    [(AMPLIFIED[0], fmt) for fmt in RESULT_FORMATS] + [(AMPLIFIED[1], fmt) for fmt in GRAPH_FORMATS],
)
def test_answers_are_cut_at_a_row_before_the_byte_limit(template: str, fmt: str) -> None:
    store = ox.Store()
    query = template.format(pad="x" * 500, numbers=_numbers(1000))
    construct = template.startswith("CONSTRUCT")
    limit = 100_000
    status, payload, written, truncated = answer(
        lambda: store,
        (
            query,
            "http://example.org/",
            None,
            None,
            True,
            None if construct else fmt,
            fmt if construct else None,
            10_000,
            limit,
        ),
        {},
    )
    assert (status, written, truncated) == (0, fmt, True)
    assert limit * 0.8 < len(payload) <= limit
    if fmt == "csv":
        lines = payload.decode().splitlines()
        assert lines[0] == "x" and all(set(line) == {"x"} and len(line) % 500 == 0 for line in lines[1:])
    elif not construct:  # still a well-formed answer in its format, with whole rows only
        rows = ox.parse_query_results(payload, format=RESULT_FORMATS[fmt])
        assert isinstance(rows, ox.QuerySolutions)
        values = [row["x"].value for row in rows]
        assert len(values) > 10 and all(set(value) == {"x"} and len(value) % 500 == 0 for value in values)
    else:
        assert len(list(ox.parse(payload, format=GRAPH_FORMATS[fmt]))) > 10


# A lookup's rows are written directly in the chosen format when no limit can cut them (`answer(..., again=True)`):
# the same outcome as the path through TSV, within the limits and past them.
LIMITS = [(10, 2**20), (5, 2**20), (4, 2**20), (1, 2**20), (10_000, 2**16), (10, 120), (10, 60), (2, 40)]


def _job(query: str, fmt: str, max_rows: int, max_bytes: int, *, graph: bool = False) -> tuple[object, ...]:
    formats = (None, fmt) if graph else (fmt, None)
    return (query, "http://example.org/", None, None, True, *formats, max_rows, max_bytes)


@pytest.mark.parametrize("fmt", list(RESULT_FORMATS))
@pytest.mark.parametrize("query", [*QUERIES, AMPLIFIED[0].format(pad="x" * 50, numbers=_numbers(30))])
@pytest.mark.parametrize(("max_rows", "max_bytes"), LIMITS)
def test_rows_written_directly_are_as_through_tsv(query: str, fmt: str, max_rows: int, max_bytes: int) -> None:
    store = ox.Store()
    job = _job(query, fmt, max_rows, max_bytes)
    assert answer(lambda: store, job, {}, again=True) == answer(lambda: store, job, {})


@pytest.mark.parametrize("fmt", list(RESULT_FORMATS))
def test_a_short_answer_is_written_directly(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store = ox.Store()
    expected = store.query(TERMS)
    assert isinstance(expected, ox.QuerySolutions)

    def through_tsv(*_: object) -> tuple[bytes, bool]:
        raise AssertionError("written through TSV")

    monkeypatch.setattr(worker, "_first_rows", through_tsv)
    assert answer(lambda: store, _job(TERMS, fmt, 10_000, 2**20), {}, again=True) == (
        0,
        expected.serialize(format=RESULT_FORMATS[fmt]),
        fmt,
        False,
    )


@pytest.mark.parametrize("fmt", list(RESULT_FORMATS))
def test_an_answer_a_limit_may_cut_is_cut_through_tsv(fmt: str) -> None:
    # Five rows with a row limit of 4: the direct write stops at 4 rows' worth of bytes, the query is evaluated
    # again and cut at the fourth row, and the answer says so.
    store = ox.Store()
    query = "SELECT ?n WHERE { VALUES ?n { 1 2 3 4 5 } } ORDER BY ?n"
    status, payload, written, truncated = answer(lambda: store, _job(query, fmt, 4, 2**20), {}, again=True)
    assert (status, written, truncated) == (0, fmt, True)
    if fmt == "csv":  # which the engine cannot read back
        assert payload.decode().split() == ["n", "1", "2", "3", "4"]
    else:
        rows = ox.parse_query_results(payload, format=RESULT_FORMATS[fmt])
        assert isinstance(rows, ox.QuerySolutions)
        assert [row["n"].value for row in rows] == ["1", "2", "3", "4"]


GRAPH_QUERIES = [
    "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "CONSTRUCT WHERE { ?s ?p ?o FILTER(false) }",
    "DESCRIBE <http://example.org/s>",
    "CONSTRUCT { <http://example.org/s> <http://example.org/p> ?o } WHERE { VALUES ?o { 1 2 3 4 5 } }",
    AMPLIFIED[1].format(pad="x" * 50, numbers=_numbers(30)),
]
PREFIXES = {"ex": "http://example.org/"}


def _graph_store() -> ox.Store:
    store = ox.Store()
    s, p = ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p")
    objects: list[ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple] = [
        ox.Literal("Ünïcödé ✓", language="de"),
        ox.Literal("tab\tnew\nline"),
        ox.BlankNode("b1"),
        s,
        ox.Triple(s, p, ox.Literal("quoted")),
    ]
    for value in objects:
        store.add(ox.Quad(s, p, value))
    store.add(ox.Quad(ox.BlankNode("b1"), p, ox.Literal("5", datatype=ox.NamedNode("http://example.org/dt"))))
    return store


@pytest.mark.parametrize("fmt", list(GRAPH_FORMATS))
@pytest.mark.parametrize("query", GRAPH_QUERIES)
@pytest.mark.parametrize(("max_rows", "max_bytes"), LIMITS)
def test_triples_written_directly_are_as_through_objects(query: str, fmt: str, max_rows: int, max_bytes: int) -> None:
    store = _graph_store()
    job = _job(query, fmt, max_rows, max_bytes, graph=True)
    assert answer(lambda: store, job, PREFIXES, again=True) == answer(lambda: store, job, PREFIXES)


@pytest.mark.parametrize("fmt", ["ttl", "nt", "rdfxml"])
def test_a_short_graph_is_written_directly(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store = _graph_store()
    query = GRAPH_QUERIES[0]
    triples = store.query(query)
    assert isinstance(triples, ox.QueryTriples)
    expected = ox.serialize(triples, format=GRAPH_FORMATS[fmt], prefixes=PREFIXES)

    def through_objects(*_: object) -> tuple[bytes, bool]:
        raise AssertionError("written through Python objects")

    monkeypatch.setattr(worker, "_first_triples", through_objects)
    job = _job(query, fmt, 10_000, 2**20, graph=True)
    assert answer(lambda: store, job, PREFIXES, again=True) == (0, expected, fmt, False)


def test_a_graph_its_format_cannot_write_is_refused_as_before() -> None:
    # JSON-LD has no triple terms: 406 naming the writer's reason, whichever way the answer is written.
    store = _graph_store()
    job = _job(GRAPH_QUERIES[0], "jsonld", 10_000, 2**20, graph=True)
    outcome = answer(lambda: store, job, PREFIXES, again=True)
    assert outcome == answer(lambda: store, job, PREFIXES)
    assert outcome[0] == worker.Status.UNWRITABLE


# The byte limit is on the answer's text in the chosen format, not on another format's: an answer whose text fits
# is sent whole by a query worker too, and a longer one holds every row (or triple) that fits.
def _wide_store(count: int) -> ox.Store:
    """`count` triples whose Turtle (one subject, a prefix) is far shorter than their N-Triples."""
    store = ox.Store()
    s, p = ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p")
    for n in range(count):
        store.add(ox.Quad(s, p, ox.NamedNode(f"http://example.org/object/{n:04}")))
    return store


@pytest.mark.parametrize("fmt", ["ttl", "jsonld", "rdfxml"])
def test_a_graph_whose_text_fits_is_not_cut_by_its_n_triples_length(fmt: str) -> None:
    store = _wide_store(800)
    query = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
    whole = ox.serialize(store.query(query), format=GRAPH_FORMATS[fmt], prefixes=PREFIXES)  # type: ignore[arg-type]
    n_triples = ox.serialize(store.query(query), format=ox.RdfFormat.N_TRIPLES)  # type: ignore[arg-type]
    assert whole is not None and n_triples is not None and len(whole) < len(n_triples)
    for limit in (len(whole), len(n_triples) - 1):
        assert answer(lambda: store, _job(query, fmt, 10_000, limit, graph=True), PREFIXES) == (0, whole, fmt, False)


@pytest.mark.parametrize("fmt", list(GRAPH_FORMATS))
def test_a_graph_over_the_byte_limit_keeps_every_triple_that_fits(fmt: str) -> None:
    store = _wide_store(800)
    query = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
    whole = ox.serialize(store.query(query), format=GRAPH_FORMATS[fmt], prefixes=PREFIXES)  # type: ignore[arg-type]
    assert whole is not None
    limit = len(whole) * 2 // 3
    status, payload, written, truncated = answer(lambda: store, _job(query, fmt, 10_000, limit, graph=True), PREFIXES)
    assert (status, written, truncated) == (0, fmt, True)
    kept = list(ox.parse(payload, format=GRAPH_FORMATS[fmt]))
    assert len(payload) <= limit and 400 < len(kept) < 800
    # One triple more would not have fitted: the cut is at the last triple that does.
    triples = [quad.triple for quad in store.quads_for_pattern(None, None, None)]
    longer = ox.serialize(sorted(triples, key=str)[: len(kept) + 1], format=GRAPH_FORMATS[fmt], prefixes=PREFIXES)
    assert longer is not None and len(longer) > limit


def test_rows_whose_csv_fits_are_not_cut_by_their_tsv_length() -> None:
    # CSV writes IRIs without brackets and literals without quotes or datatypes: shorter than TSV.
    store = ox.Store()
    query = (
        f"SELECT ?n ?iri ?day WHERE {{ {_numbers(310)} FILTER(?n < 310) "
        'BIND(IRI(CONCAT("http://example.org/", STR(?n))) AS ?iri) '
        'BIND("2016-12-01"^^<http://www.w3.org/2001/XMLSchema#date> AS ?day) } ORDER BY ?n'
    )
    whole, tsv = (_solutions(store, query).serialize(format=RESULT_FORMATS[fmt]) for fmt in ("csv", "tsv"))
    assert whole is not None and tsv is not None and len(whole) < len(tsv)
    for limit in (len(whole), len(tsv) - 1):
        assert answer(lambda: store, _job(query, "csv", 10_000, limit), {}) == (0, whole, "csv", False)
    assert answer(lambda: store, _job(query, "csv", 310, 2**20), {}) == (0, whole, "csv", False)


@pytest.mark.parametrize(("max_rows", "cut"), [(10_000, 1), (10_000, 2), (10_000, 200), (300, 0), (1, 0)])
def test_csv_over_a_limit_is_cut_after_the_last_row_that_fits(max_rows: int, cut: int) -> None:
    # Values holding commas, quotes and line ends are quoted over several lines: a row ends only outside quotes.
    store = ox.Store()
    query = (
        f"SELECT ?n ?text WHERE {{ {_numbers(310)} FILTER(?n < 310) "
        'BIND(CONCAT("a, \\"b\\"\\r\\nc", STR(?n)) AS ?text) } ORDER BY ?n'
    )
    whole = _solutions(store, query).serialize(format=ox.QueryResultsFormat.CSV)
    assert whole is not None
    limit = len(whole) - cut
    status, payload, written, truncated = answer(lambda: store, _job(query, "csv", max_rows, limit), {})
    assert (status, written, truncated) == (0, "csv", True)
    rows = max(r for r in range(min(max_rows, 309) + 1) if len(_csv_rows(whole, r)) <= limit)
    assert payload == _csv_rows(whole, rows)
    assert rows == min(max_rows, 309 if cut < 20 else rows)  # a byte short of the whole: all rows but the last


def _csv_rows(whole: bytes, rows: int) -> bytes:
    """The header and the first `rows` rows of `whole`, a CSV answer whose row n ends with `c<n>"` CRLF."""
    end = whole.index(b"\r\n") + 2
    for n in range(rows):
        end = whole.index(f'c{n}"\r\n'.encode(), end) + len(f'c{n}"\r\n')
    return whole[:end]


def _solutions(store: ox.Store, query: str) -> ox.QuerySolutions:
    solutions = store.query(query)
    assert isinstance(solutions, ox.QuerySolutions)
    return solutions
