"""Hostile input never breaks the service: arbitrary queries, paths and parameters get a 4xx with a message, not a 5xx.

The properties run against the real app in process (fast enough for a few hundred examples); the OpenAPI
description is checked against the real server over a socket by schemathesis.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from api.app import create_app
from api.rest.listing import FILTERS
from api.rest.models import THING_MODELS
from graph.settings import Settings
from tests.conftest import NAMESPACE, start_server, stop_server

# Bounded so that the whole file runs in well under a minute; no example database is written into the checkout.
# Under CI the examples are derived from each test's name (derandomize), so a run there can be repeated exactly;
# elsewhere every run explores new inputs.
FUZZ = hypothesis_settings(
    max_examples=200,
    deadline=None,
    database=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TRACE_MARKS = ("Traceback (most recent call last)", 'File "/', "site-packages")
KINDS = sorted(THING_MODELS)
SUFFIXES = ("", ".ttl", ".jsonld", ".nt", ".rdf", ".html", ".xyz")


@pytest.fixture(scope="module")
def client(published_store: Path) -> Iterator[TestClient]:
    # A short time limit: a generated query that happens to be expensive is stopped fast (503), not waited on;
    # a large share per client: the examples all come from one address and must not be throttled to 429s.
    settings = Settings(store=published_store, query_timeout=3, client_query_seconds=100_000)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        assert_serving(client)
        yield client
        assert_serving(client)  # a service that answered every input with 503 would pass `check` alone


def assert_serving(client: TestClient) -> None:
    """The service answers real questions: a healthy store, a thing's page and a query with rows."""
    assert client.get("/health").json()["status"] == "ok"
    assert client.get("/api/v1/city/dortmund").status_code == 200
    rows = client.get(
        "/sparql",
        params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 3"},
        headers={"Accept": "application/sparql-results+json"},
    ).json()["results"]["bindings"]
    assert len(rows) == 3


def check(response: httpx.Response) -> None:
    """What every answer owes its client: no server error, no stack trace, and a message with every refusal."""
    status, body = response.status_code, response.text
    # The documented answer of a query stopped at the time limit, or of a full queue: only on /sparql, with a
    # Retry-After and a message that says so. Any other 503 is a failure of the service.
    stopped = (
        status == 503
        and "Retry-After" in response.headers
        and response.request.url.path == "/sparql"
        and ("stopped" in body or "busy" in body)
    )
    assert status < 500 or stopped, f"{status} for {response.request.method} {response.request.url}: {body[:500]}"
    assert not any(mark in body for mark in TRACE_MARKS), body[:2000]
    if status < 400 or response.request.method == "HEAD":
        return
    media_type = response.headers.get("content-type", "").split(";")[0]
    if media_type == "application/json":
        message = json.loads(body)["error"]["message"]
        assert isinstance(message, str) and message.strip()
    else:
        assert media_type == "text/html", f"{status} answered as {media_type!r}"
        assert "<" in body and body.strip()


# --- SPARQL: arbitrary text, and text shaped like SPARQL --------------------------------------------------------

KEYWORDS = (
    "SELECT",
    "ASK",
    "CONSTRUCT",
    "DESCRIBE",
    "WHERE",
    "FILTER",
    "OPTIONAL",
    "UNION",
    "MINUS",
    "GRAPH",
    "SERVICE",
    "BIND",
    "AS",
    "VALUES",
    "LIMIT",
    "ORDER BY",
    "GROUP BY",
    "FROM NAMED",
    "INSERT DATA",
    "LOAD",
    "DROP ALL",
    "WITH",
    "a",
    "*",
    ".",
    ";",
    ",",
    "|",
    "^",
    "!",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "<",
    ">",
    '"',
    "'''",
    "#",
    "\\",
    "\x00",
    "\ufeff",
    "\u202e",
    "\U0001f600",
)
PREFIXES = (
    "PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>\n"
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\nPREFIX org: <http://www.w3.org/ns/org#>\n"
    f"PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\nPREFIX id: <{NAMESPACE}id/>\n"
)
FUNCTIONS = (
    "STR",
    "LANG",
    "UCASE",
    "STRLEN",
    "ISIRI",
    "BOUND",
    "ABS",
    "REGEX",
    "CONTAINS",
    "CONCAT",
    "COALESCE",
    "IF",
    "SUBSTR",
    "REPLACE",
    "STRDT",
    "IRI",
    "ENCODE_FOR_URI",
    "MD5",
    "xsd:integer",
    "<urn:fn>",
)

variables = st.sampled_from(("?s", "?o", "?x", "$y", "?ü", "?label"))
known_names = st.sampled_from(
    (
        f"<{NAMESPACE}id/city/dortmund>",
        f"<{NAMESPACE}id/alliance/drei-gewinnt>",
        "<urn:x>",
        "rdf:type",
        "rdfs:label",
        "org:member",
        "org:organization",
        "<../relative>",
        "undeclared:x",
    )
)
# Mostly names that parse, so that most queries get past the parser; one in ten an IRI of arbitrary text.
names = st.integers(0, 9).flatmap(lambda n: st.builds("<{}>".format, st.text(max_size=20)) if n == 0 else known_names)
literals = st.one_of(
    st.builds(lambda text: json.dumps(text, ensure_ascii=False), st.text(max_size=30)),  # escapes, unicode, NUL
    st.builds("'{}'@{}".format, st.text(max_size=10), st.from_regex(r"[a-z]{1,3}(-[a-zA-Z0-9]{1,4})?", fullmatch=True)),
    st.integers().map(str),
    st.floats().map(repr),
    st.sampled_from(("true", "UNDEF", '"x"^^xsd:date', "1e999")),
)
terms = st.one_of(variables, names, literals)
expressions = st.recursive(
    terms,
    lambda inner: st.one_of(
        st.builds("{}({})".format, st.sampled_from(FUNCTIONS), st.lists(inner, max_size=3).map(", ".join)),
        st.builds("({} {} {})".format, inner, st.sampled_from(("=", "!=", "<", "&&", "||", "+", "/", "IN")), inner),
        st.builds("!{}".format, inner),
        st.builds(lambda depth, e: "(" * depth + e + ")" * depth, st.sampled_from((1, 2, 63, 70)), inner),  # the cap
    ),
    max_leaves=6,
)
triples = st.builds(
    "{} {} {} .".format,
    st.one_of(variables, names),
    st.one_of(
        variables,
        names,
        st.sampled_from(("a", "rdfs:label|org:member", "^org:member", "org:member*", "(org:member/org:organization)+")),
    ),
    terms,
)
groups = st.recursive(
    st.lists(triples, min_size=1, max_size=3).map(" ".join),
    lambda inner: st.lists(
        st.one_of(
            inner.map("{{ {} }}".format),
            st.builds("{{ {} }} UNION {{ {} }}".format, inner, inner),
            st.builds(
                "{} {{ {} }}".format,
                st.sampled_from(
                    ("OPTIONAL", "MINUS", "GRAPH ?g", "FILTER NOT EXISTS", "SERVICE <http://169.254.169.254/>")
                ),
                inner,
            ),
            expressions.map("FILTER ({})".format),
            st.builds("BIND ({} AS {})".format, expressions, variables),
            st.builds("VALUES {} {{ {} }}".format, variables, st.lists(terms, max_size=3).map(" ".join)),
            triples,
        ),
        min_size=1,
        max_size=4,
    ).map(" ".join),
    max_leaves=8,
)
forms = st.sampled_from(
    (
        "SELECT *",
        "SELECT DISTINCT ?s",
        "ASK",
        "CONSTRUCT { ?s ?p ?o }",
        "DESCRIBE ?s",
        "SELECT (COUNT(*) AS ?n)",
        "SELECT ?s (SAMPLE(?o) AS ?any)",
        "SELECT *",
        "ASK",
        "SELECT ?s ?o",
        "INSERT { ?s ?p ?o }",
        "SELECT * FROM <urn:nowhere>",
        "SELECT * FROM NAMED <urn:elsewhere>",
    )
)
tails = st.sampled_from(
    ("", "LIMIT 5", "ORDER BY ?s LIMIT 2", "GROUP BY ?s", "OFFSET 99999", "LIMIT -1", "VALUES ?s { UNDEF }")
)
well_formed = st.builds("{}{} WHERE {{ {} }} {}".format, st.just(PREFIXES), forms, groups, tails)


@st.composite
def mangled(draw: st.DrawFn) -> str:
    """A well-formed query with a few tokens inserted or characters cut out, as a typo or an attack would."""
    query = draw(well_formed)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(query)))
        if draw(st.booleans()):
            query = f"{query[:at]} {draw(st.sampled_from(KEYWORDS))} {query[at:]}"
        else:
            query = query[:at] + query[at + draw(st.integers(1, 5)) :]
    return query


huge = st.builds(
    lambda size, query: query.replace("WHERE {", f'WHERE {{ FILTER (?s != "{"x" * size}")', 1),
    st.sampled_from((30_000, 63_500, 70_000)),
    well_formed,
)  # under, at and over max_query_bytes
# Mostly queries the engine evaluates (its answers are where a crash or a stack trace would come from).
queries = st.integers(0, 9).flatmap(
    lambda n: (mangled(), huge, st.lists(st.sampled_from(KEYWORDS)).map(" ".join))[n] if n < 3 else well_formed
)


@FUZZ
@given(query=st.text())
def test_any_text_as_a_query(client: TestClient, query: str) -> None:
    check(client.get("/sparql", params={"query": query}))


@FUZZ
@given(query=queries)
def test_near_sparql_by_get(client: TestClient, query: str) -> None:
    assume(len(quote(query, safe="")) < 65_000)  # the HTTP client itself refuses longer URLs (64 KiB)
    check(client.get("/sparql", params={"query": query}))


@FUZZ
@given(query=queries, accept=st.sampled_from(("", "text/csv", "application/rdf+xml", "image/png", "*/*;q=0")))
def test_near_sparql_by_post(client: TestClient, query: str, accept: str) -> None:
    headers = {"Accept": accept} if accept else {}
    check(client.post("/sparql", data={"query": query}, headers=headers))
    check(
        client.post(
            "/sparql",
            content=query.encode("utf-8", "surrogatepass"),
            headers={**headers, "Content-Type": "application/sparql-query"},
        )
    )


@FUZZ
@given(
    body=st.binary(max_size=300),
    content_type=st.sampled_from(
        (
            "application/x-www-form-urlencoded",
            "application/sparql-query",
            "application/sparql-query; charset=latin-1",
            "application/sparql-update",
            "multipart/form-data; boundary=x",
            "text/plain",
            "",
        )
    ),
)
def test_arbitrary_bytes_posted(client: TestClient, body: bytes, content_type: str) -> None:
    check(client.post("/sparql", content=body, headers={"Content-Type": content_type}))


# --- linked data and REST: arbitrary path segments and parameters ------------------------------------------------

segments = st.one_of(
    st.text(min_size=1, max_size=60),
    st.sampled_from(("..", ".", "%", "dortmund", "drei-gewinnt", "a" * 3000, "x.ttl.ttl", "\x00")),
)
kinds = st.one_of(st.sampled_from(KINDS), st.text(min_size=1, max_size=20))
accepts = st.one_of(
    st.just("text/html"), st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)
)


def _segment(text: str) -> str:
    return quote(text, safe="") or "%20"


@FUZZ
@given(kind=kinds, key=segments, suffix=st.sampled_from(SUFFIXES), accept=accepts)
def test_any_thing_path(client: TestClient, kind: str, key: str, suffix: str, accept: str) -> None:
    path = f"{_segment(kind)}/{_segment(key)}"
    headers = {"Accept": accept}
    check(client.get(f"/id/{path}", headers=headers, follow_redirects=False))
    check(client.get(f"/doc/{path}{suffix}", headers=headers))
    check(client.head(f"/doc/{path}{suffix}", headers=headers))
    check(client.get(f"/vocab/{path}{suffix}", headers=headers))
    check(client.head(f"/vocab/{path}{suffix}", headers=headers))
    check(client.get(f"/api/v1/{path}", headers=headers))


@FUZZ
@given(
    kind=kinds,
    params=st.dictionaries(
        st.one_of(
            st.sampled_from(sorted({name for names in FILTERS.values() for name in names} | {"limit", "offset"})),
            st.text(max_size=10),
        ),
        st.one_of(
            st.text(max_size=40),
            st.integers().map(str),
            st.sampled_from(("2017-06-30", "2017-02-30", "-1", "dortmund", "9" * 40)),
        ),
        max_size=5,
    ),
)
def test_any_list_parameters(client: TestClient, kind: str, params: dict[str, str]) -> None:
    check(client.get(f"/api/v1/{_segment(kind)}", params=params))


@FUZZ
@given(q=st.text(max_size=300), kind=st.one_of(st.none(), kinds))
def test_any_search(client: TestClient, q: str, kind: str | None) -> None:
    params = {"q": q} if kind is None else {"q": q, "type": kind}
    check(client.get("/api/v1/search", params=params))


# --- the OpenAPI description, against the real server ----------------------------------------------------------


@pytest.mark.slow
def test_openapi_operations_hold_to_their_schema(published_store: Path, tmp_path: Path) -> None:
    """Every operation in /openapi.json, fed by schemathesis with valid and invalid input: never a server error,
    and every documented answer in its documented content type and schema."""
    server = start_server(published_store, {"SMARTCITY_KG_QUERY_TIMEOUT": "3"})
    # Its probes send TRACE, which no resource here implements: RFC 9110 §9.1 answers that 501, not a server fault.
    (tmp_path / "schemathesis.toml").write_text(
        '[checks.not_a_server_error]\nexpected-statuses = ["2xx", "3xx", "4xx", "501"]\n', encoding="utf-8"
    )
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "run",
                f"{server.url}/openapi.json",
                "--max-examples",
                "25",
                "--checks",
                "not_a_server_error,response_schema_conformance,content_type_conformance,response_headers_conformance",
                "--request-timeout",
                "20",
                "--no-color",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=90,
            env={**os.environ, "SCHEMATHESIS_HOOKS": "", "NO_COLOR": "1"},
            check=False,
        )
    finally:
        stop_server(server)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "passed" in done.stdout
