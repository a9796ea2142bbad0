"""Caches belong to the app that made them: sized by its settings, counted in its /metrics, shared with no other."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.http.cache import BuildCache
from api.http.observability import Metrics
from api.linked_data.describe import describe
from api.rest.listing import label_index
from graph.settings import Settings
from tests.test_observability import value

ITEM = "/api/v1/city/dortmund"
QUERY = {"query": "ASK { ?s a ?o } # cached per app"}


def figure(metrics: str, name: str, cache: str) -> float:
    return value(metrics, f"smartcity_kg_cache_{name}", cache=cache)


@pytest.fixture(scope="module")
def two(published_store: Path) -> Iterator[tuple[TestClient, TestClient]]:
    """Two apps in one process, serving the same store."""
    settings = Settings(store=published_store, query_workers=1)
    with TestClient(create_app(settings)) as first, TestClient(create_app(settings)) as second:
        yield first, second


def test_two_apps_share_no_cache_and_no_counter(two: tuple[TestClient, TestClient]) -> None:
    first, second = two
    for _ in range(2):
        assert first.get(ITEM).status_code == 200
        assert first.get("/sparql", params=QUERY).status_code == 200
    first.app.state.metrics.record("overload")  # type: ignore[attr-defined]
    mine, other = first.get("/metrics").text, second.get("/metrics").text
    for cache in ("responses", "answers"):
        assert (figure(mine, "hits_total", cache), figure(mine, "misses_total", cache)) == (1, 1), cache
        assert figure(mine, "entries", cache) == 1 and figure(mine, "bytes", cache) > 0
        assert (figure(other, "hits_total", cache), figure(other, "misses_total", cache)) == (0, 0), cache
        assert figure(other, "entries", cache) == 0
    assert value(mine, "smartcity_kg_events_total", event="overload") == 1
    assert value(other, "smartcity_kg_events_total", event="overload") == 0
    assert value(mine, "smartcity_kg_events_total", event="answer_cache_hit") == 1
    assert value(other, "smartcity_kg_events_total", event="answer_cache_hit") == 0
    # What is computed once per build (the label index, the descriptions of things) is each app's own as well.
    stores = [client.app.state.store.get() for client in two]  # type: ignore[attr-defined]
    assert label_index(stores[0]) is label_index(stores[0])
    assert label_index(stores[0]) is not label_index(stores[1])
    dortmund = stores[0].manifest.namespace + "id/city/dortmund"
    assert describe(stores[0], dortmund) is describe(stores[0], dortmund)
    assert describe(stores[0], dortmund) is not describe(stores[1], dortmund)


def test_the_caches_are_sized_in_the_settings(published_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTCITY_KG_RESPONSE_CACHE_MB", "0")
    monkeypatch.setenv("SMARTCITY_KG_RESULT_CACHE_MB", "3")
    settings = Settings(store=published_store)
    assert (settings.response_cache_mb, settings.result_cache_mb) == (0, 3)
    with TestClient(create_app(settings)) as client:
        for _ in range(2):
            assert client.get(ITEM).status_code == 200
        metrics = client.get("/metrics").text
    assert figure(metrics, "max_bytes", "responses") == 0
    assert figure(metrics, "max_bytes", "answers") == 3 * 2**20
    assert figure(metrics, "entries", "responses") == 0  # 0 keeps nothing
    assert figure(metrics, "misses_total", "responses") == 2


def test_a_build_cache_keeps_its_bytes_and_the_current_build() -> None:
    cache: BuildCache[str, bytes] = BuildCache(100, 40)
    assert cache.get("build-1", "a") is None
    for key in "abc":
        cache.put("build-1", key, key.encode() * 30, 30)
    cache.put("build-1", "big", b"x" * 41, 41)  # larger than one value may be
    assert cache.get("build-1", "a") == b"a" * 30
    cache.put("build-1", "d", b"d" * 30, 30)  # over 100 bytes: the least recently used (b) goes
    assert cache.get("build-1", "b") is None
    assert (len(cache), cache.size) == (3, 90)
    assert (cache.hits, cache.misses) == (1, 2)
    assert cache.get("build-2", "a") is None  # a new build: the old one's values go
    assert (len(cache), cache.size) == (0, 0)
    cache.put("build-1", "late", b"l", 1)  # a value of a build no longer served is not kept
    assert len(cache) == 0


def test_the_figures_of_other_processes_are_added_up(tmp_path: Path) -> None:
    cache: BuildCache[str, bytes] = BuildCache(1000, 100)
    cache.get("b", "k")
    cache.put("b", "k", b"v", 10)
    cache.get("b", "k")
    metrics = Metrics(tmp_path, {"responses": cache})
    other = {"requests": [], "latency": {}, "in_flight": 0, "events": {}}
    # A process still running (this test's own parent stands for it) and one that has ended.
    (tmp_path / f"{os.getppid()}.json").write_text(json.dumps({**other, "caches": {"responses": [5, 6, 7, 8, 1000]}}))
    (tmp_path / "999999999.json").write_text(json.dumps({**other, "caches": {"responses": [10, 20, 30, 40, 1000]}}))
    text = metrics.render()
    assert figure(text, "hits_total", "responses") == 1 + 5 + 10  # counters keep what ended processes counted
    assert figure(text, "misses_total", "responses") == 1 + 6 + 20
    assert figure(text, "entries", "responses") == 1 + 7  # what a cache holds goes with its process
    assert figure(text, "bytes", "responses") == 10 + 8
    assert figure(text, "max_bytes", "responses") == 2000


def test_a_lookup_is_kept_once_it_is_asked_again(two: tuple[TestClient, TestClient]) -> None:
    # A lookup costs less to evaluate again than its place in the cache: a text asked once is not kept, so a
    # crawler's or a numbered client's texts do not push out the answers that are asked again.
    client = two[0]
    lookup = {"query": "SELECT ?p ?o { <https://w3id.org/smartcity-kg/id/city/dortmund> ?p ?o } # kept on asking"}
    other = {"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o } # kept at once"}

    def answers() -> tuple[float, float]:
        metrics = client.get("/metrics").text
        return figure(metrics, "entries", "answers"), figure(metrics, "hits_total", "answers")

    entries, hits = answers()
    assert client.get("/sparql", params=lookup).status_code == 200
    assert answers() == (entries, hits)  # asked once: not kept
    assert client.get("/sparql", params=other).status_code == 200
    assert answers() == (entries + 1, hits)  # not a lookup: kept at once
    assert client.get("/sparql", params=lookup).status_code == 200
    assert answers() == (entries + 2, hits)  # asked again: kept
    assert client.get("/sparql", params=lookup).status_code == 200
    assert answers() == (entries + 2, hits + 1)  # and answered from the cache
