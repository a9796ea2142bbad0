"""Content negotiation follows RFC 9110: one table of cases, each a test."""

from __future__ import annotations

import pytest

from api.http.negotiation import NotAcceptableError, negotiate

RDF = ["text/html", "text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml"]
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

CASES = [
    # (Accept header, offered, expected)
    (None, RDF, "text/html"),
    ("", RDF, "text/html"),
    ("*/*", RDF, "text/html"),
    (BROWSER, RDF, "text/html"),
    ("text/turtle", RDF, "text/turtle"),
    ("application/ld+json", RDF, "application/ld+json"),
    ("text/turtle;q=0.5, application/ld+json", RDF, "application/ld+json"),
    ("text/turtle;q=0.9, application/ld+json;q=0.1", RDF, "text/turtle"),
    ("text/*", RDF, "text/html"),
    ("text/*;q=0.5, text/turtle", RDF, "text/turtle"),
    ("text/html;q=0, */*", RDF, "text/turtle"),
    ("*/*;q=0.1, application/rdf+xml", RDF, "application/rdf+xml"),
    ("application/n-triples, text/turtle", RDF, "text/turtle"),  # equal q: the server's order decides
    ("TEXT/TURTLE", RDF, "text/turtle"),
    ("text/turtle; charset=utf-8", RDF, "text/turtle"),
    ('application/ld+json;profile="http://www.w3.org/ns/json-ld#compacted"', RDF, "application/ld+json"),
    (
        'application/ld+json;profile="http://www.w3.org/ns/json-ld#expanded", text/turtle;q=0.5',
        RDF,
        "application/ld+json",
    ),
    ("text/turtle;q=0.9;foo=bar, application/ld+json;q=0.5", RDF, "text/turtle"),
    ("application/json, text/turtle;q=0.8", RDF, "text/turtle"),
    ("garbage, text/turtle", RDF, "text/turtle"),
    ("text/turtle;q=abc, text/html;q=0.2", RDF, "text/html"),
    (
        "application/sparql-results+json",
        ["application/sparql-results+json", "text/csv"],
        "application/sparql-results+json",
    ),
    ("text/csv;q=1, */*;q=0.5", ["application/sparql-results+json", "text/csv"], "text/csv"),
]


@pytest.mark.parametrize(("accept", "offered", "expected"), CASES)
def test_negotiate_picks_the_preferred_type(accept: str | None, offered: list[str], expected: str) -> None:
    assert negotiate(accept, offered) == expected


@pytest.mark.parametrize("accept", ["image/png", "text/turtle;q=0", "*/*;q=0", "application/json"])
def test_nothing_acceptable_raises_with_the_offer(accept: str) -> None:
    with pytest.raises(NotAcceptableError) as caught:
        negotiate(accept, RDF)
    assert caught.value.offered == RDF
