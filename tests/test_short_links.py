"""Short links `/q/{id}` over real HTTP: made, opened, refused when too long or malformed, bounded in number."""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.http.client_limit import ClientLimit
from api.pages import short_links
from api.pages.short_links import MAX_QUERY_BYTES, ShortLinks
from tests.conftest import start_server, stop_server

QUERY = "SELECT ?s WHERE { ?s a <https://w3id.org/smartcity-kg/ontology#Alliance> }"


def test_a_short_link_opens_the_editor_with_its_query(client: httpx.Client) -> None:
    made = client.post("/q", json={"query": QUERY, "view": "table"})
    assert made.status_code == 201
    path = made.json()["path"]
    assert made.headers["location"] == path
    # The same query gets the same link.
    assert client.post("/q", json={"query": QUERY}).json()["path"] == path
    page = client.get(path)
    assert page.status_code == 200
    assert "SELECT ?s WHERE { ?s a &lt;https://w3id.org/smartcity-kg/ontology#Alliance&gt; }" in page.text
    assert 'data-run-now="true"' in page.text


def test_a_query_too_long_for_a_short_link_is_refused_clearly(client: httpx.Client) -> None:
    long_query = "SELECT * WHERE { ?s ?p ?o }" + " " * MAX_QUERY_BYTES
    answer = client.post("/q", json={"query": long_query})
    assert answer.status_code == 413
    message = answer.json()["error"]["message"]
    assert f"at most {MAX_QUERY_BYTES} bytes" in message
    assert "share the editor's address instead" in message
    # Its length is asked before it is parsed: a long text that is not SPARQL gets the 413, not the parser's 400.
    not_sparql = client.post("/q", json={"query": "SELECT * { ?s " + "|" * MAX_QUERY_BYTES + " ?o }"})
    assert not_sparql.status_code == 413
    # A body far beyond any query is refused before it is read whole.
    huge = client.post(
        "/q", content=b"{" + b" " * (MAX_QUERY_BYTES * 8) + b"}", headers={"Content-Type": "application/json"}
    )
    assert huge.status_code == 413


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "send a JSON object"),
        (b'["SELECT"]', "send a JSON object"),
        (b'{"query": ""}', 'non-empty "query"'),
        (b'{"query": "ASK {}", "view": "pie"}', '"view" must be one of'),
        # Only SPARQL is kept, refused as the endpoint refuses it.
        (b'{"query": "hello there"}', "syntax error"),
        (b'{"query": "SELECT * WHERE { SERVICE <http://127.0.0.1/> { ?s ?p ?o } }"}', "SERVICE"),
        # Text no encoder can write, and JSON nested deeper than any parser's stack.
        (b'{"query": "ASK {} \\ud800"}', "lone surrogate"),
        (b'{"query": ' + b"[" * 30_000 + b"]" * 30_000 + b"}", "send a JSON object"),
    ],
)
def test_malformed_requests_get_a_400_that_says_why(client: httpx.Client, body: bytes, message: str) -> None:
    answer = client.post("/q", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert message in answer.json()["error"]["message"]


def test_an_unknown_short_link_is_a_404(client: httpx.Client) -> None:
    answer = client.get("/q/abcdefghij")
    assert answer.status_code == 404
    assert "no short link" in answer.json()["error"]["message"]
    assert client.get("/q/../etc").status_code == 404


def test_the_number_of_links_is_bounded_by_evicting_the_least_recently_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(short_links, "MAX_LINKS", 3)
    links = ShortLinks(tmp_path)
    made = [links.save(f"ASK {{ ?s ?p {n} }}", "table") for n in range(3)]
    assert links.save("ASK { ?s ?p 0 }", "table") == made[0]  # one already kept costs no room
    assert links.load(made[1].id) == made[1]  # opened: now more recent than made[2]
    newest = links.save("ASK { ?s ?p 4 }", "table")
    assert links.load(made[2].id) is None  # the least recently used made room
    assert [links.load(link.id) for link in (made[0], made[1], newest)] == [made[0], made[1], newest]


def test_the_bound_holds_when_many_save_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(short_links, "MAX_LINKS", 5)
    links = ShortLinks(tmp_path)
    threads = [threading.Thread(target=links.save, args=(f"ASK {{ ?s ?p {n} }}", "table")) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    import sqlite3  # noqa: PLC0415 - reading the file as it is

    with sqlite3.connect(tmp_path / short_links.FILE_NAME) as connection:
        assert connection.execute("SELECT COUNT(*) FROM link").fetchone() == (5,)


def test_one_client_may_make_only_so_many_links_a_minute() -> None:
    rate = ClientLimit(3, window=60)
    assert [rate.take("192.0.2.1") for _ in range(3)] == [None, None, None]
    assert rate.take("192.0.2.1") == 20  # until one link's share of the minute has drained
    assert rate.take("192.0.2.2") is None  # another address is not held up


def test_too_many_links_from_one_address_get_a_429_with_retry_after(published_store: Path) -> None:
    server = start_server(published_store)  # its own: the shared server's other clients are not held up
    try:
        with server.client() as client:
            answers = [client.post("/q", json={"query": f"ASK {{ ?s ?p {n} }}"}) for n in range(40)]
    finally:
        stop_server(server)
    refused = [answer for answer in answers if answer.status_code == 429]
    assert refused and all(answer.status_code in (201, 429) for answer in answers)
    assert 1 <= int(refused[0].headers["retry-after"]) <= 60
    assert "short links a minute" in refused[0].json()["error"]["message"]


def test_a_query_is_checked_without_being_evaluated(client: httpx.Client) -> None:
    # On an empty store the engine would still evaluate this ASK at once: 100^4 rows, minutes of work.
    values = " ".join(f"VALUES ?v{n} {{{' '.join(str(i) for i in range(100))}}}" for n in range(4))
    query = f"ASK {{ {values} FILTER(?v0 + ?v1 + ?v2 + ?v3 < -1) }}"
    began = time.monotonic()
    made = client.post("/q", json={"query": query}, timeout=30)
    assert made.status_code == 201
    assert time.monotonic() - began < 5
    # A text with many triple patterns is still kept: the check refuses only what is not SPARQL.
    patterns = " ".join(f"?s <https://example.org/p{n}> ?o{n} ." for n in range(150))
    assert client.post("/q", json={"query": f"SELECT * WHERE {{ {patterns} }}"}).status_code == 201


def test_the_creation_rate_holds_before_any_work(published_store: Path) -> None:
    server = start_server(published_store)
    try:
        with server.client() as client:
            answers = [client.post("/q", json={"query": "not sparql"}) for _ in range(25)]
    finally:
        stop_server(server)
    # Even requests refused for what they hold count: checking them is work.
    assert [answer.status_code for answer in answers[:20]] == [400] * 20
    assert {answer.status_code for answer in answers[20:]} == {429}


@pytest.fixture(scope="module")
def roomy(published_store: Path) -> Iterator[httpx.Client]:
    """A server of its own that lets one address make many links: each case below asks for one."""
    server = start_server(published_store, {"SMARTCITY_KG_SHORT_LINKS_PER_MINUTE": "1000"})
    try:
        with server.client() as client:
            yield client
    finally:
        stop_server(server)


def _endpoint(client: httpx.Client, query: str) -> httpx.Response:
    return client.post("/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"})


@pytest.mark.parametrize(
    "query",
    [
        "SELECT ?t WHERE { BIND(<<( <urn:s> <urn:p> <urn:o> )>> AS ?t) }",  # a triple term
        "VERSION '1.2' SELECT * WHERE { ?s ?p ?o ~ ?r {| ?q ?z |} } LIMIT 1",  # VERSION, a reifier, an annotation
        "SELECT ?o WHERE { <relative> ?p ?o }",  # relative IRIs: resolved against the endpoint's address
    ],
)
def test_a_query_the_endpoint_answers_can_be_kept(roomy: httpx.Client, query: str) -> None:
    """SPARQL 1.2 as the endpoint speaks it: what `/sparql` answers, a short link keeps."""
    assert _endpoint(roomy, query).status_code == 200
    made = roomy.post("/q", json={"query": query})
    assert made.status_code == 201
    assert query in html.unescape(roomy.get(made.json()["path"]).text)


@pytest.mark.parametrize(
    "query",
    [
        "hello there",
        "SELECT * WHERE { ?s ?p }",
        "SELECT * WHERE { ?s undeclared:p ?o }",
        "SELECT * WHERE { ?s ?p <<( ?a ?b ) >> }",
        "SELECT * WHERE { SERVICE <http://127.0.0.1/> { ?s ?p ?o } }",
        "INSERT DATA { <urn:s> <urn:p> <urn:o> }",
    ],
)
def test_a_query_the_endpoint_refuses_gets_the_endpoints_400(roomy: httpx.Client, query: str) -> None:
    endpoint, made = _endpoint(roomy, query), roomy.post("/q", json={"query": query})
    assert endpoint.status_code == made.status_code == 400
    assert made.json()["error"]["message"] == endpoint.json()["error"]["message"]
