"""Conditional requests over real HTTP: every GET route sends validators, answers 304 to a client that has its
answer, and answers HEAD with the head of its GET; the ETags are the same in every server process."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import Server, start_server, stop_server
from tests.test_observability import samples

QUERY = "SELECT ?a WHERE { ?a a <https://w3id.org/smartcity-kg/ontology#Alliance> } LIMIT 3"
QUERIES = quote('{"q0": {"query": "Dortmund", "type": "city"}}')

# One URL of every GET route that answers a representation of the build.
ROUTES = [
    "/",
    "/query",
    f"/embed?query={quote(QUERY)}",
    "/search?q=dort",
    "/api/v1",
    "/api/v1/search?q=dort",
    "/api/v1/city?limit=3",
    "/api/v1/alliance?member=dortmund",
    "/api/v1/city/dortmund",
    "/api/v1/lookup?id=city/dortmund",
    "/reconcile",
    "/reconcile/1.0-draft",
    f"/reconcile?queries={QUERIES}",
    "/reconcile/suggest/entity?prefix=dort",
    "/reconcile/suggest/type?prefix=c",
    "/reconcile/suggest/property?prefix=a",
    "/reconcile/extend/propose?type=city",
    "/reconcile/preview?id=city/dortmund",
    "/catalog",
    "/catalog.nt",
    "/.well-known/void",
    "/doc/city/dortmund",
    "/vocab/role",
    "/ontology",
    "/context.jsonld",
    "/changes",
    "/changes.atom",
    "/dumps/graph.ttl",
    "/static/pages.css",
    "/static/editor.bundle.js",
    "/favicon.ico",
    "/docs",
    "/docs/assets/swagger-ui.css",
    "/sparql",  # the service description
    "/sparql?format=html",  # the query editor
    "/openapi.json",
]


@pytest.fixture(scope="module")
def short_link(client: httpx.Client) -> str:
    made = client.post("/q", json={"query": QUERY, "view": "table"})
    assert made.status_code == 201
    path: str = made.json()["path"]
    return path


def _urls(short_link: str) -> list[str]:
    return [*ROUTES, short_link]


def test_every_get_route_answers_304_to_a_client_that_has_its_answer(client: httpx.Client, short_link: str) -> None:
    for url in _urls(short_link):
        first = client.get(url)
        assert first.status_code == 200, url
        etag = first.headers.get("etag")
        assert etag, f"{url} sends no ETag"
        strong = etag.removeprefix("W/")
        for tag in (etag, strong, f"W/{strong}", f'"another", {etag}', "*"):
            again = client.get(url, headers={"If-None-Match": tag})
            assert again.status_code == 304, (url, tag)
            assert again.content == b"" and again.headers["etag"] == etag, url
        assert client.head(url, headers={"If-None-Match": etag}).status_code == 304, url
        assert client.get(url, headers={"If-None-Match": '"from-another-build"'}).status_code == 200, url
        modified = first.headers.get("last-modified")
        if modified is not None:
            assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304, url


@pytest.mark.parametrize("encoding", ["gzip", "identity"])
def test_head_has_the_head_of_get(client: httpx.Client, short_link: str, encoding: str) -> None:
    """HEAD says what GET would send, the content coding and its length included, and sends nothing else."""
    compressed = 0
    for url in _urls(short_link):
        headers = {"Accept-Encoding": encoding}
        # Read as sent: httpx would otherwise unpack a gzip body and keep its Content-Length.
        with client.stream("GET", url, headers=headers) as got:
            body = b"".join(got.iter_raw())
        head = client.head(url, headers=headers)
        assert head.status_code == got.status_code == 200, url
        assert head.content == b"", url
        for name in ("etag", "content-type", "content-encoding", "vary", "last-modified", "content-location"):
            assert head.headers.get(name) == got.headers.get(name), (url, name)
        if got.headers.get("content-encoding") == "gzip":
            compressed += 1
            gzip.decompress(body)  # what was sent is gzip
            # rdflib writes blank nodes in another order each time: the length is compared where bytes repeat.
            if url not in ("/.well-known/void", "/catalog", "/catalog.nt"):
                assert head.headers["content-length"] == str(len(body)), url
        elif "content-length" in got.headers:
            assert head.headers["content-length"] == got.headers["content-length"] == str(len(body)), url
    assert (compressed > 0) == (encoding == "gzip")
    # SPARQL answers, which carry no validators, alike.
    sparql = f"/sparql?query={quote('SELECT * WHERE { ?s ?p ?o } LIMIT 200')}"
    got, head = client.get(sparql, headers=headers), client.head(sparql, headers=headers)
    assert head.status_code == got.status_code == 200 and head.content == b""
    assert head.headers.get("content-encoding") == got.headers.get("content-encoding")
    assert (got.headers.get("content-encoding") == "gzip") == (encoding == "gzip")


def test_an_etag_changes_with_the_representation(client: httpx.Client) -> None:
    def tag(url: str, **headers: str) -> str:
        answer = client.get(url, headers=headers)
        assert answer.status_code == 200, url
        etag: str = answer.headers["etag"]
        return etag

    # The media type, the language, the page, the filters, the text searched for: each is another representation.
    pairs = [
        (
            ("/api/v1/city/dortmund", {"Accept": "application/json"}),
            ("/api/v1/city/dortmund", {"Accept": "application/ld+json"}),
        ),
        (("/doc/city/dortmund", {"Accept-Language": "en"}), ("/doc/city/dortmund", {"Accept-Language": "de"})),
        (("/catalog", {"Accept": "text/turtle"}), ("/catalog", {"Accept": "application/n-triples"})),
        (("/api/v1/city?limit=3", {}), ("/api/v1/city?limit=3&offset=3", {})),
        (("/api/v1/search?q=dort", {}), ("/api/v1/search?q=bonn", {})),
        (("/reconcile/suggest/entity?prefix=dort", {}), ("/reconcile/suggest/entity?prefix=bonn", {})),
        (("/search?q=dort", {}), ("/search?q=bonn", {})),
    ]
    for (url, headers), (other_url, other_headers) in pairs:
        assert tag(url, **headers) != tag(other_url, **other_headers), (url, other_url)
    # A validator that does not name the exact bytes is weak (gzip may be chosen), else strong.
    assert tag("/api/v1", **{"Accept-Encoding": "gzip"}).startswith('W/"')
    assert tag("/api/v1", **{"Accept-Encoding": "identity"}).startswith('"')


@pytest.fixture(scope="module")
def another_server(published_store: Path) -> Iterator[Server]:
    server = start_server(published_store)
    yield server
    stop_server(server)


def test_etags_are_the_same_in_every_server_process(
    live_server: Server, another_server: Server, short_link: str
) -> None:
    """Two server processes of the same build tag each answer alike: a client may revalidate with either. Both are
    asked under one address (Host), as behind one name; answers that name the address in their links vary by it."""
    for url in _urls(short_link):
        tags = set()
        for server in (live_server, another_server):
            answer = httpx.get(server.url + url, headers={"Host": "kg.example", "Accept-Encoding": "identity"})
            assert answer.status_code == 200, url
            tags.add(answer.headers["etag"])
        assert len(tags) == 1, url


def test_a_range_of_an_unknown_unit_is_ignored(client: httpx.Client) -> None:
    """RFC 9110 §14.2: a server ignores a Range whose unit it does not know, and sends the whole file."""
    whole = client.get("/dumps/graph.ttl")
    for wanted in ("lines=0-1", "items=0-5", "Bytes-ish=0-1"):
        answer = client.get("/dumps/graph.ttl", headers={"Range": wanted})
        assert answer.status_code == 200, wanted
        assert answer.content == whole.content
        assert "content-range" not in answer.headers
    assert client.get("/dumps/graph.ttl", headers={"Range": "BYTES=0-9"}).status_code == 206


@pytest.mark.parametrize("method", ["PROPFIND", "TRACE", "MKCOL"])
def test_an_unknown_method_is_501_in_the_error_shape_and_counted(client: httpx.Client, method: str) -> None:
    def answered() -> float:
        found = samples(client.get("/metrics").text)
        return sum(
            count
            for (name, labels), count in found.items()
            if name == "smartcity_kg_http_requests_total" and {("method", "other"), ("status", "501")} <= labels
        )

    before = answered()
    for url in ("/catalog", "/sparql", "/no/such/page"):
        answer = client.request(method, url)
        assert answer.status_code == 501, (method, url)
        error = answer.json()["error"]
        assert error["status"] == 501 and f"the method {method} is not implemented" in error["message"]
        assert answer.headers["content-type"].startswith("application/json")
    assert answered() == before + 3
    # Methods the service knows are still 405 where a resource does not answer them, naming those it does.
    refused = client.request("DELETE", "/catalog")
    assert refused.status_code == 405 and set(refused.headers["allow"].split(", ")) == {"GET", "HEAD"}
