"""Every error answer has one shape, whoever finds the error: the documented `error` object and RFC 9457 problem
details beside it, as application/json or, when asked for, application/problem+json."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.sparql import routes
from api.sparql.pool import QueryFailedError
from graph.errors import ServiceError
from graph.published import StoreUnavailableError
from graph.remote import BadAnswerError
from graph.settings import Settings
from graph.sparql_guard import Analysis, QueryRefusedError


@pytest.fixture(scope="module")
def app(published_store: Path) -> FastAPI:
    return create_app(Settings(store=published_store, max_header_bytes=4096))


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def assert_one_shape(body: dict[str, Any], status: int) -> str:
    """The body is the service's error: both shapes, agreeing; returns the message."""
    assert body["error"]["status"] == body["status"] == status
    assert body["error"]["message"] == body["detail"] and body["detail"]
    assert body["type"] == "about:blank"
    assert body["title"] and body["title"] != "Error"
    message: str = body["detail"]
    return message


# One request for each producer of errors: a route's own refusal, the framework's routing and validation, the
# content negotiation, the conditional requests, the query guard (in graph/), the header limit (before any route).
PRODUCERS = [
    ("GET", "/api/v1/city/no-such-city", {}, 404, "no city"),
    ("GET", "/no/such/path", {}, 404, "Not Found"),
    ("PUT", "/health", {}, 405, "Method Not Allowed"),
    ("GET", "/api/v1/city?limit=many", {}, 422, "limit"),
    ("GET", "/doc/city/dortmund", {"Accept": "image/png"}, 406, "text/turtle"),
    ("GET", "/doc/city/dortmund?format=yaml", {}, 400, "unknown format 'yaml'"),
    ("GET", "/catalog", {"If-Match": '"not-the-tag"'}, 412, "If-Match"),
    ("GET", "/sparql?query=INSERT%20DATA%20%7B%20%3Ca%3E%20%3Cb%3E%20%3Cc%3E%20%7D", {}, 400, "read-only"),
    ("GET", "/health", {"X-Big": "x" * 5000}, 431, "max_header_bytes"),
]


@pytest.mark.parametrize("case", PRODUCERS, ids=[p[1][:40] for p in PRODUCERS])
def test_every_producer_answers_the_one_shape(
    client: TestClient, case: tuple[str, str, dict[str, str], int, str]
) -> None:
    method, path, headers, status, words = case
    answered = client.request(method, path, headers=headers)
    assert answered.status_code == status
    assert answered.headers["content-type"] == "application/json"
    assert words in assert_one_shape(answered.json(), status)


@pytest.mark.parametrize(
    "accept",
    ["application/problem+json", "application/json;q=0.5, application/problem+json", "application/problem+json, */*"],
)
def test_problem_json_is_sent_to_a_client_that_asks_for_it(client: TestClient, accept: str) -> None:
    answered = client.get("/no/such/path", headers={"Accept": accept})
    assert answered.status_code == 404
    assert answered.headers["content-type"] == "application/problem+json"
    assert_one_shape(answered.json(), 404)


def test_a_refusal_of_problem_json_alone_is_sent_as_problem_json(client: TestClient) -> None:
    # The item offers JSON and JSON-LD, not problem details: Accept naming only those is refused, in that type.
    refused = client.get("/api/v1/city/dortmund", headers={"Accept": "application/problem+json"})
    assert (refused.status_code, refused.headers["content-type"]) == (406, "application/problem+json")
    assert "application/ld+json" in assert_one_shape(refused.json(), 406)


@pytest.mark.parametrize("accept", ["application/json", "*/*", "text/html;q=0.9, application/problem+json;q=0"])
def test_json_is_sent_otherwise(client: TestClient, accept: str) -> None:
    answered = client.get("/sparql?query=INSERT%20DATA%20%7B%7D", headers={"Accept": accept})
    assert answered.status_code == 400
    assert answered.headers["content-type"] == "application/json"


def test_a_refused_query_is_answered_with_everything_its_error_carries(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/sparql lets the one handler write its refusals: headers, extra members and the public message survive,
    and /metrics still counts the refusal."""

    def refuse(query: str, max_nesting: int, endpoint: str) -> Analysis:
        raise QueryRefusedError(
            429,
            "refused for the log: /srv/private/path",
            public="refused for the client",
            headers={"Retry-After": "7"},
            extra={"limit": "max_nesting"},
        )

    def refusals() -> float:
        metrics = client.get("/metrics").text
        found = re.search(r'^smartcity_kg_events_total\{event="query_refused"\} (\S+)$', metrics, re.MULTILINE)
        return float(found.group(1)) if found else 0.0

    before = refusals()
    monkeypatch.setattr(routes, "analyse_query", refuse)
    answered = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } # refused"})
    assert answered.status_code == 429
    assert answered.headers["Retry-After"] == "7"
    body = answered.json()
    assert assert_one_shape(body, 429) == "refused for the client"
    assert body["limit"] == body["error"]["limit"] == "max_nesting"
    assert "/srv/private" not in answered.text
    assert refusals() == before + 1


def test_health_fails_in_the_same_shape(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(store=tmp_path / "nothing-built"))) as client:
        answered = client.get("/health")
    assert answered.status_code == 503
    assert answered.headers["Retry-After"] == "10"
    message = assert_one_shape(answered.json(), 503)
    assert "smartcity-kg build" in message
    assert str(tmp_path) not in answered.text  # the server's paths stay in its log


def test_a_client_never_sees_the_message_meant_for_the_log() -> None:
    unavailable = StoreUnavailableError("/srv/store/current is missing", "no graph has been published here yet")
    assert (unavailable.status, unavailable.public, unavailable.headers) == (
        503,
        "no graph has been published here yet",
        {"Retry-After": "10"},
    )
    assert "/srv/store" in str(unavailable)


@pytest.mark.parametrize(
    ("error", "status", "headers"),
    [
        (QueryRefusedError(413, "too long"), 413, {}),
        (QueryFailedError(503, "busy", retry_after=2), 503, {"Retry-After": "2"}),
        (BadAnswerError("nonsense"), 502, {"Retry-After": "10"}),
        (StoreUnavailableError("gone"), 503, {"Retry-After": "10"}),
    ],
)
def test_the_errors_of_graph_and_api_are_one_type(error: ServiceError, status: int, headers: dict[str, str]) -> None:
    assert isinstance(error, ServiceError)
    assert (error.status, error.headers) == (status, headers)


def test_the_openapi_description_documents_the_one_error_body(app: FastAPI) -> None:
    """An invalid parameter (422) is documented with the body it gets, not FastAPI's default, which clients
    generated from the description would otherwise expect."""
    schema = app.openapi()
    invalid = [
        operation["responses"]["422"]["content"]["application/json"]["schema"]
        for path in schema["paths"].values()
        for operation in path.values()
        if "422" in operation.get("responses", {})
    ]
    assert invalid and all(body == {"$ref": "#/components/schemas/ErrorBody"} for body in invalid)
    assert not {"HTTPValidationError", "ValidationError"} & set(schema["components"]["schemas"])
    error_body = schema["components"]["schemas"]["ErrorBody"]
    assert {"type", "title", "status", "detail", "error"} <= set(error_body["properties"])


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
INSERT = "/sparql?query=INSERT%20DATA%20%7B%20%3Ca%3E%20%3Cb%3E%20%3Cc%3E%20%7D"


@pytest.mark.parametrize(
    ("path", "status", "page"),
    [
        ("/no/such/page", 404, True),  # an address nobody serves: the site's 404
        ("/doc/city/atlantis", 404, True),
        ("/vocab/planet", 404, True),
        ("/id/planet/earth", 404, True),
        ("/q/no-such-link", 404, True),
        ("/ontology/9.9.9", 404, True),
        ("/changes/9.9.9", 404, True),
        ("/doc/city/atlantis.ttl", 404, False),  # the address asks for Turtle: the error is data too
        ("/catalog/9.9.9", 404, False),  # the catalogue is RDF only: a browser gets the same body as any client
        ("/api/v1/city/atlantis", 404, False),
        (INSERT, 400, False),
    ],
)
def test_a_browser_gets_an_error_page_where_it_browses_pages(
    live_server: Any, path: str, status: int, page: bool
) -> None:
    with live_server.client() as client:
        browsed = client.get(path, headers={"Accept": BROWSER, "Accept-Language": "de"})
        fetched = client.get(path, headers={"Accept": "*/*"})
    assert browsed.status_code == fetched.status_code == status
    message = assert_one_shape(fetched.json(), status)  # other clients get the one body, always
    if not page:
        assert browsed.headers["content-type"] == "application/json"
        assert_one_shape(browsed.json(), status)
        return
    assert browsed.headers["content-type"] == "text/html; charset=utf-8"
    assert "Accept" in browsed.headers["vary"] and "Accept" in fetched.headers["vary"]
    text = html.unescape(browsed.text)
    assert f"<h1>{status} · " in text and message in text  # the same message, in the page
    assert '<html lang="de">' in text and "Traceback" not in text
