"""The editor's examples and vocabulary: questions in plain words, engine notes kept out of the reader's text."""

from __future__ import annotations

import json
import re

import httpx

from api.pages.editor import VOCABULARY, load_examples, prefixed_names, reader_text
from graph.prefixes import VOCABULARIES
from graph.store import EmbeddedStore
from tests.conftest import NAMESPACE


def test_engine_notes_leave_the_text_a_reader_sees() -> None:
    text = (
        "# 1. Which alliances?\n# Parameter: ?x.\n# Engine: Oxigraph plans this first,\n# so it is quick.\n"
        "PREFIX sck: <x#>\nSELECT * WHERE { ?s ?p ?o }\n"
    )
    assert reader_text(text) == (
        "# 1. Which alliances?\n# Parameter: ?x.\nPREFIX sck: <x#>\nSELECT * WHERE { ?s ?p ?o }\n"
    )


def test_a_line_of_a_long_string_is_text_not_an_engine_note() -> None:
    text = 'SELECT ?s WHERE { ?s rdfs:comment """notes:\n# Engine: this line is data\n""" }\n'
    assert reader_text(text) == text
    assert reader_text("# Engine: Oxigraph plans it so.\n# Joins first.\n" + text) == text


def test_completion_reads_the_prefixed_names_of_the_code_only() -> None:
    # Look-alikes in a comment, a string, an IRI and a language tag name no term; escapes are read.
    query = (
        "# schema:Person is not used here\n"
        'SELECT ?s WHERE { ?s a schema:Place ; rdfs:label "foaf:name"@de ; sck:x\\.y <urn:isbn:123> ; dcat:1st ?o }'
    )
    assert list(prefixed_names(query)) == [("schema", "Place"), ("rdfs", "label"), ("sck", "x.y"), ("dcat", "1st")]


def test_every_example_is_headed_by_its_question() -> None:
    examples = load_examples()
    assert len(examples) >= 13
    for example in examples:
        assert example.title.endswith("?"), example.name
        assert not example.title[0].isdigit()
        assert "Oxigraph" not in example.query and "planner" not in example.query, example.name


def test_the_vocabulary_offers_the_ontology_and_the_terms_the_questions_use(store: EmbeddedStore) -> None:
    offered = VOCABULARY.make(store)
    terms = {term["iri"]: term for term in offered["terms"]}  # type: ignore[attr-defined]
    assert terms[f"{NAMESPACE}ontology#Alliance"]["kind"] == "class"
    assert terms[f"{NAMESPACE}ontology#Alliance"]["label"]
    assert terms["http://www.w3.org/ns/org#hasMembership"]["kind"] == "property"


def test_the_editor_page_carries_the_vocabulary_and_the_gallery(client: httpx.Client) -> None:
    page = client.get("/query").text
    assert '<script type="application/json" id="vocabulary">' in page
    # The prefixes completion and the result views use: the service's one map, which every page carries.
    carried = re.search(r'<script type="application/json" id="prefixes">(.*?)</script>', page)
    assert carried is not None and dict(json.loads(carried.group(1))) == VOCABULARIES
    assert "Questions researchers ask" in page
    assert page.count("<li>\n        <h3>") >= 13


def test_the_bundles_are_served_compressed(client: httpx.Client) -> None:
    for name in ("editor.bundle.js", "site.bundle.js", "basemap.json"):
        plain = client.get(f"/static/{name}", headers={"Accept-Encoding": "identity"})
        packed = client.get(f"/static/{name}", headers={"Accept-Encoding": "gzip"})
        assert plain.status_code == packed.status_code == 200
        assert packed.headers["content-encoding"] == "gzip"
        assert packed.content == plain.content  # httpx unpacks it: the same file
        assert int(packed.headers["content-length"]) < len(plain.content) / 2
