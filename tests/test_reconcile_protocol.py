"""Whatever a client sends, the reconciliation request readers answer a parsed request or a 400 with a message, and
whatever text is matched, matching answers candidates with scores from 0 to 100."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from api.http.cache import BuildCache
from api.reconcile.extend import ExtProperty, via_municipality
from api.reconcile.identifiers import TYPES
from api.reconcile.index import ReconcileIndex
from api.reconcile.matching import Query, match
from api.reconcile.protocol import MAX_LIMIT, extend_request, queries_02, queries_10
from graph.errors import ServiceError
from graph.store import EmbeddedStore

# As in test_fuzz.py: repeatable under CI, new inputs elsewhere, no example database in the checkout.
FUZZ = hypothesis_settings(max_examples=300, deadline=None, database=None, derandomize=bool(os.environ.get("CI")))
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
FIELDS = st.sampled_from(
    [
        "query",
        "type",
        "limit",
        "properties",
        "type_strict",
        "pid",
        "v",
        "id",
        "ids",
        "conditions",
        "matchType",
        "propertyValue",
        "propertyId",
        "required",
        "settings",
        "queries",
        "colour",
    ]
)
TYPE_NAMES = st.sampled_from([*TYPES, "planet"])
JSON = st.recursive(
    SCALARS | TYPE_NAMES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(FIELDS | st.text(max_size=5), inner, max_size=5),
    max_leaves=25,
)


@pytest.fixture(scope="module")
def index(store: EmbeddedStore) -> ReconcileIndex:
    return ReconcileIndex(store)


def _bad_or_parsed(read: Any, value: Any) -> None:
    try:
        read(value)
    except ServiceError as error:
        assert error.status == 400 and error.public


@FUZZ
@given(JSON)
def test_any_json_is_read_or_refused_with_a_400(value: Any) -> None:
    _bad_or_parsed(queries_02, json.dumps(value))
    _bad_or_parsed(queries_02, json.dumps({"q0": value}))
    _bad_or_parsed(queries_10, value)
    _bad_or_parsed(queries_10, {"queries": [value]})
    _bad_or_parsed(extend_request, value)


@FUZZ
@given(
    st.text(max_size=80) | st.sampled_from(["Stadt Dortmund", "IHK", "05913000", "Q1295", "city/dortmund"]),
    st.lists(TYPE_NAMES.filter(lambda kind: kind in TYPES), max_size=3, unique=True),
    st.integers(min_value=1, max_value=MAX_LIMIT),
)
def test_any_text_is_matched_into_ranked_candidates(
    index: ReconcileIndex, text: str, types: list[str], limit: int
) -> None:
    found = match(index, BuildCache(2**20), Query(text, tuple(types), limit))
    assert len(found) <= limit
    assert all(0 <= candidate.score <= 100 for candidate in found)
    assert [c.score for c in found] == sorted((c.score for c in found), reverse=True)
    assert sum(candidate.match for candidate in found) <= 1 and all(not c.match for c in found[1:])
    assert not types or all(candidate.entry.kind in types for candidate in found)


@pytest.mark.parametrize("text", ["", "   ", "!!!", "GmbH", "Stadt", "e.V.", "\u0000", "ß" * 500])
def test_texts_that_fold_to_little_or_nothing(index: ReconcileIndex, text: str) -> None:
    found = match(index, BuildCache(2**20), Query(text, (), 5))
    assert all(0 <= candidate.score <= 100 for candidate in found)


def test_a_citys_values_through_its_municipality_rename_only_the_variable() -> None:
    # `?s` in a string or an IRI is text: a filter on it must still compare the same text.
    prop = ExtProperty("notes", "Notes", "…", '?s sck:note ?v FILTER(?v != "?s" && ?v != <urn:a?s>) BIND(?s AS ?st)')
    assert via_municipality(prop).pattern == (
        '?agent sck:municipalityOf ?s . ?agent sck:note ?v FILTER(?v != "?s" && ?v != <urn:a?s>) BIND(?agent AS ?st)'
    )
