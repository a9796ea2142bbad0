"""Caches and the values computed once per build belong to the app that made them: sized by its settings, counted
in its /metrics, shared with no other."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.http.cache import BuildCache
from api.http.observability import Metrics
from api.linked_data.describe import Describing, describe
from api.rest.listing import LABEL_INDEX
from api.sparql.readings import REMEMBERED_BYTES, readings_cache, remembered
from graph.settings import Settings
from graph.sparql_guard import Analysis, QueryRefusedError, analyse_query
from tests.conftest import Server, start_server, stop_server
from tests.test_observability import samples, value

ITEM = "/api/v1/city/dortmund"
QUERY = {"query": "ASK { ?s a ?o } # cached per app"}
RECONCILE = json.dumps({"q0": {"query": "Stadt Dortmund", "type": "city"}})
LOOKUP_CACHES = ("descriptions", "vocabulary_triples", "vocabulary_labels", "name_pools")


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
    # The guard's verdict and the formats chosen, read once and then remembered by the app that read them.
    assert (figure(mine, "hits_total", "readings"), figure(mine, "misses_total", "readings")) == (2, 2)
    assert (figure(other, "hits_total", "readings"), figure(other, "entries", "readings")) == (0, 0)
    assert value(mine, "smartcity_kg_events_total", event="overload") == 1
    assert value(other, "smartcity_kg_events_total", event="overload") == 0
    assert value(mine, "smartcity_kg_events_total", event="answer_cache_hit") == 1
    assert value(other, "smartcity_kg_events_total", event="answer_cache_hit") == 0
    # What is computed once per build (the label index, the descriptions of things) is each app's own as well.
    stores = [client.app.state.store.get() for client in two]  # type: ignore[attr-defined]
    values = [client.app.state.per_build for client in two]  # type: ignore[attr-defined]
    assert values[0].get(LABEL_INDEX, stores[0]) is values[0].get(LABEL_INDEX, stores[0])
    assert values[0].get(LABEL_INDEX, stores[0]) is not values[1].get(LABEL_INDEX, stores[1])
    caches = [client.app.state.caches for client in two]  # type: ignore[attr-defined]
    describing = [Describing(kept["descriptions"], kept["vocabulary_triples"]) for kept in caches]
    dortmund = stores[0].manifest.namespace + "id/city/dortmund"
    assert describe(stores[0], dortmund, describing[0]) is describe(stores[0], dortmund, describing[0])
    assert describe(stores[0], dortmund, describing[0]) is not describe(stores[1], dortmund, describing[1])


def test_two_apps_share_no_lookup_cache_and_no_rate(published_store: Path) -> None:
    """The caches of descriptions, vocabulary and name pools, and the short links' creation rate, are each app's."""
    settings = Settings(store=published_store, query_workers=1, short_links_per_minute=1)
    with TestClient(create_app(settings)) as first, TestClient(create_app(settings)) as second:
        for _ in range(2):
            assert first.get("/doc/city/dortmund.ttl").status_code == 200
            assert first.get(ITEM).status_code == 200
            assert first.post("/reconcile", data={"queries": RECONCILE}).status_code == 200
        assert first.post("/q", json={"query": "ASK {}"}).status_code == 201
        assert first.post("/q", json={"query": "ASK { ?s ?p ?o }"}).status_code == 429
        assert second.post("/q", json={"query": "ASK { ?s ?p ?o }"}).status_code == 201  # its own count
        mine, other = first.get("/metrics").text, second.get("/metrics").text
    for cache in LOOKUP_CACHES:
        assert figure(mine, "entries", cache) > 0 and figure(mine, "misses_total", cache) > 0, cache
        assert figure(other, "entries", cache) == 0 and figure(other, "misses_total", cache) == 0, cache
    assert value(mine, "smartcity_kg_events_total", event="short_link_refused") == 1
    assert value(other, "smartcity_kg_events_total", event="short_link_refused") == 0


# A request that needs each value computed once per build.
PER_BUILD = {
    "statistics": "/.well-known/void",
    "landing_figures": "/",
    "history": "/changes",
    "label_index": "/api/v1/search?q=dortmund",
    "ontology": "/ontology.ttl",
    "editor_vocabulary": "/query",
    "reconcile_index": "/reconcile?queries=" + RECONCILE,
}


def test_the_values_of_a_build_are_each_apps_and_counted_in_its_metrics(published_store: Path) -> None:
    settings = Settings(store=published_store, query_workers=1)
    with TestClient(create_app(settings)) as first, TestClient(create_app(settings)) as second:
        for _ in range(2):
            for path in PER_BUILD.values():
                assert first.get(path).status_code == 200, path
        mine, other = first.get("/metrics").text, second.get("/metrics").text
    for name in PER_BUILD:
        # Computed once however often it is asked for, and the time it took counted; nothing in the other app.
        assert value(mine, "smartcity_kg_per_build_computations_total", value=name) == 1, name
        assert value(mine, "smartcity_kg_per_build_seconds_total", value=name) > 0, name
        counted = samples(other)  # listed before its first computation
        assert counted[("smartcity_kg_per_build_computations_total", frozenset({("value", name)}))] == 0, name
        assert counted[("smartcity_kg_per_build_seconds_total", frozenset({("value", name)}))] == 0, name


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
    assert (len(cache), cache.size, cache.evictions) == (3, 90, 1)
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
    (tmp_path / f"{os.getppid()}.json").write_text(
        json.dumps({**other, "caches": {"responses": [5, 6, 7, 8, 1000, 2]}, "per_build": {"history": [1, 0.25]}})
    )
    ended = {"caches": {"responses": [10, 20, 30, 40, 1000, 3]}, "per_build": {"history": [2, 0.5]}}
    (tmp_path / "999999999.json").write_text(json.dumps({**other, **ended}))
    text = metrics.render()
    assert figure(text, "hits_total", "responses") == 1 + 5 + 10  # counters keep what ended processes counted
    assert figure(text, "misses_total", "responses") == 1 + 6 + 20
    assert figure(text, "entries", "responses") == 1 + 7  # what a cache holds goes with its process
    assert figure(text, "bytes", "responses") == 10 + 8
    assert figure(text, "max_bytes", "responses") == 2000
    assert figure(text, "evictions_total", "responses") == 0 + 2 + 3
    # Each process computes a build's values once: counters, kept after a process ends.
    assert value(text, "smartcity_kg_per_build_computations_total", value="history") == 1 + 2
    assert value(text, "smartcity_kg_per_build_seconds_total", value="history") == 0.75


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


# Each lookup cache sized far below what the requests below ask it to keep, so that it must drop values.
SMALL = {"descriptions": 64, "vocabulary_triples": 2, "vocabulary_labels": 1, "name_pools": 24}
SETTING = {
    "descriptions": "DESCRIPTION_CACHE_KB",
    "vocabulary_triples": "VOCABULARY_CACHE_KB",
    "vocabulary_labels": "LABEL_CACHE_KB",
    "name_pools": "NAME_POOL_CACHE_KB",
}
CITIES = ("dortmund", "koeln", "ulm", "aachen", "aalen", "muenchen", "hamburg", "berlin", "jena", "bonn")
POOL_TYPES = ("city", "municipality", "company", "organization", "alliance", "agreement", "agreement")


@pytest.fixture(scope="module")
def small(published_store: Path) -> Iterator[Server]:
    """A server of its own with small lookup caches (and no kept responses: every request reaches the lookups)."""
    env = {f"SMARTCITY_KG_{SETTING[cache]}": str(kb) for cache, kb in SMALL.items()}
    server = start_server(
        published_store, {**env, "SMARTCITY_KG_RESPONSE_CACHE_MB": "0", "SMARTCITY_KG_SHORT_LINKS_PER_MINUTE": "2"}
    )
    yield server
    stop_server(server)


def _ask(client: httpx.Client, cache: str) -> None:
    """Requests that each make the lookups of `cache` keep values, the last one twice."""
    if cache == "name_pools":
        for kind in POOL_TYPES:
            query = {"q0": {"query": "Stadt Dortmund", "type": kind}}
            assert client.post("/reconcile", data={"queries": json.dumps(query)}).status_code == 200
        return
    for city in (*CITIES, CITIES[-1]):
        path = f"/api/v1/city/{city}" if cache == "vocabulary_labels" else f"/doc/city/{city}.ttl"
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize("cache", LOOKUP_CACHES)
def test_a_lookup_cache_is_sized_by_its_setting_and_counted_over_http(small: Server, cache: str) -> None:
    with small.client() as client:
        before = client.get("/metrics").text
        _ask(client, cache)
        after = client.get("/metrics").text
    assert figure(after, "max_bytes", cache) == SMALL[cache] * 2**10
    assert figure(after, "evictions_total", cache) > figure(before, "evictions_total", cache)  # the size holds
    assert 0 < figure(after, "bytes", cache) <= SMALL[cache] * 2**10
    assert figure(after, "entries", cache) > 0
    assert figure(after, "hits_total", cache) > figure(before, "hits_total", cache)  # the last one, asked again
    assert figure(after, "misses_total", cache) > figure(before, "misses_total", cache)


def test_the_short_link_rate_is_the_setting_and_refusals_are_counted(small: Server) -> None:
    with small.client() as client:
        made = [client.post("/q", json={"query": f"ASK {{ ?s ?p {n} }}"}).status_code for n in range(3)]
        metrics = client.get("/metrics").text
    assert made == [201, 201, 429]
    assert value(metrics, "smartcity_kg_events_total", event="short_link_refused") == 1


def test_readings_are_remembered_for_short_texts_refusals_included() -> None:
    """A repeated short text costs a lookup; long ones are not kept, so the memory stays bounded whatever the texts
    clients send; a refusal is remembered too, and raised afresh each time."""
    readings = readings_cache(64 * 1024)
    calls: list[str] = []

    def read(text: str) -> Analysis:
        calls.append(text)
        return analyse_query(text, 64)

    def reading(text: str) -> Analysis:
        return remembered(readings, ("verdict", text), len(text), partial(read, text))

    short = "SELECT * { ?s ?p ?o } # remembered"
    long = "SELECT * { ?s ?p ?o } # not remembered " + "x" * REMEMBERED_BYTES
    assert reading(short) is reading(short)
    assert reading(long) == reading(long) and reading(long) is not reading(long)
    assert calls.count(short) == 1 and calls.count(long) == 4
    refused = "DELETE WHERE { ?s ?p ?o }"
    errors = []
    for _ in range(2):
        with pytest.raises(QueryRefusedError, match="read-only") as error:
            reading(refused)
        errors.append(error.value)
    assert calls.count(refused) == 1 and errors[0] is not errors[1] and errors[0].status == errors[1].status == 400
