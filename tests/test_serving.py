"""Serving on every core: several server processes share the socket, and /metrics adds up what all of them did."""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.cli import workers_per_process
from graph.pipeline import run_build
from graph.settings import Settings
from tests.conftest import DATA, NAMESPACE, Server, start_server, stop_server

MINI = Path(__file__).parent / "fixtures" / "mini"
LOOKUP = "SELECT ?p ?o WHERE { <https://w3id.org/smartcity-kg/id/city/dortmund> ?p ?o }"


def _sample(metrics: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    match = re.search(
        rf"^{re.escape(name)}{re.escape('{' + wanted + '}') if labels else ''} (\S+)$", metrics, re.MULTILINE
    )
    return float(match.group(1)) if match else 0.0


@pytest.fixture(scope="module")
def two_processes(published_store: Path) -> Iterator[Server]:
    server = start_server(published_store, {"SMARTCITY_KG_SERVER_PROCESSES": "2", "SMARTCITY_KG_QUERY_WORKERS": "2"})
    yield server
    stop_server(server)


def _servers(server: Server) -> list[psutil.Process]:
    """The server processes uvicorn started (by multiprocessing's spawn; not its resource tracker)."""
    return [
        child
        for child in psutil.Process(server.process.pid).children()
        if any("spawn_main" in part for part in child.cmdline())
    ]


@pytest.mark.slow
def test_two_server_processes_each_with_their_share_of_query_workers(two_processes: Server) -> None:
    def workers(server: psutil.Process) -> int:
        return sum(any(part.endswith("worker.py") for part in child.cmdline()) for child in server.children())

    deadline = time.monotonic() + 60  # /health answers as soon as the first process is up
    while time.monotonic() < deadline:
        servers = _servers(two_processes)
        if len(servers) == 2 and all(workers(server) == 1 for server in servers):  # 2 query workers shared out
            break
        time.sleep(0.2)
    assert [workers(server) for server in _servers(two_processes)] == [1, 1]
    with two_processes.client() as client:
        assert _sample(client.get("/metrics").text, "smartcity_kg_server_processes") == 2


@pytest.mark.slow
def test_metrics_add_up_every_process_whichever_answers_the_scrape(two_processes: Server) -> None:
    def scrape() -> str:
        with two_processes.client() as client:  # a new connection: any process may answer it
            return client.get("/metrics").text

    def requests(metrics: str, route: str) -> float:
        return _sample(metrics, "smartcity_kg_http_requests_total", method="GET", route=route, status="200")

    time.sleep(1.5)  # every process has written what it did so far
    before = scrape()
    sent = 40
    for _ in range(sent):  # one connection each, so that both processes answer some
        with two_processes.client() as client:
            assert client.get("/health").status_code == 200
            assert client.get("/sparql", params={"query": LOOKUP}).status_code == 200
    time.sleep(1.5)
    scrapes = [scrape() for _ in range(6)]
    for after in scrapes:
        assert requests(after, "/health") == requests(before, "/health") + sent
        assert requests(after, "/sparql") == requests(before, "/sparql") + sent
        # Each process evaluates the lookup once and answers it from its answer cache after that.
        evaluated, cached = (
            _sample(after, "smartcity_kg_events_total", event=event)
            - _sample(before, "smartcity_kg_events_total", event=event)
            for event in ("query_in_process", "answer_cache_hit")
        )
        assert evaluated + cached == sent
        count = _sample(after, "smartcity_kg_http_request_duration_seconds_count", route="/sparql")
        assert count == requests(after, "/sparql")


def _counters(metrics: str) -> dict[str, float]:
    """Every series of a counter or histogram (buckets, sum and count) in a scrape, by name and labels."""
    kinds = dict(re.findall(r"^# TYPE (\S+) (\S+)$", metrics, re.MULTILINE))
    series = {}
    for name, labels, value in re.findall(r"^([a-z_]+)(\{.*\})? (\S+)$", metrics, re.MULTILINE):
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in kinds else name
        if kinds.get(family) in ("counter", "histogram"):
            series[name + labels] = float(value)
    return series


@pytest.mark.slow
def test_counters_never_go_back_between_scrapes_whichever_process_answers(two_processes: Server) -> None:
    # Scrapes closer together than the processes share their figures: each process must still report at least
    # what the other reported before, or Prometheus reads a counter reset.
    scrapes = []
    for _ in range(40):
        with two_processes.client() as client:  # a new connection each time: either process may answer
            assert client.get("/sparql", params={"query": LOOKUP}).status_code == 200
        with two_processes.client() as client:
            scrapes.append(_counters(client.get("/metrics").text))
    assert len(scrapes[-1]) > 50
    for before, after in itertools.pairwise(scrapes):
        went_back = {name: (value, after.get(name)) for name, value in before.items() if after.get(name, 0) < value}
        assert not went_back
    metrics_requests = 'smartcity_kg_http_requests_total{method="GET",route="/metrics",status="200"}'
    # All scrapes are added up, whichever process answered them; a process counts a request once it has answered
    # it, so each process's last scrape may not be counted yet when the next one arrives.
    assert scrapes[-1][metrics_requests] >= scrapes[0].get(metrics_requests, 0) + 39 - 2


@pytest.mark.slow
def test_each_process_serves_from_the_store(two_processes: Server) -> None:
    answers = set()
    for _ in range(20):
        with two_processes.client() as client:
            answered = client.get("/sparql", params={"query": LOOKUP}, headers={"Accept": "text/csv"})
            assert answered.status_code == 200
            answers.add(answered.content)
    assert len(answers) == 1  # the same build, the same answer, whichever process gave it
    # Both processes have the store open (read-only: the build folder's files are opened by each).
    store = str(two_processes.store.resolve())
    for server in _servers(two_processes):
        assert any(file.path.startswith(store) for file in server.open_files())


def test_sparql_requests_are_counted_under_their_route(published_store: Path) -> None:
    # /sparql is a plain ASGI route matched before FastAPI's; it was counted as "unmatched".
    with TestClient(create_app(Settings(store=published_store))) as client:
        assert client.get("/sparql", params={"query": LOOKUP}).status_code == 200
        assert (
            client.post("/sparql", content=LOOKUP, headers={"Content-Type": "application/sparql-query"}).status_code
            == 200
        )
        metrics = client.get("/metrics").text
    for method in ("GET", "POST"):
        assert _sample(metrics, "smartcity_kg_http_requests_total", method=method, route="/sparql", status="200") == 1
    assert 'route="unmatched"' not in metrics


@pytest.mark.slow
def test_every_process_serves_the_new_build_once_it_is_published(tmp_path: Path) -> None:
    store = tmp_path / "store"
    run_build(MINI, store, NAMESPACE)
    server = start_server(store, {"SMARTCITY_KG_SERVER_PROCESSES": "2", "SMARTCITY_KG_QUERY_WORKERS": "2"})

    def builds() -> set[str]:
        seen = set()
        for _ in range(20):  # a new connection each time: either process may answer
            with server.client() as client:
                seen.add(client.get("/health").json()["build"])
        return seen

    try:
        (first,) = builds()
        manifest, _ = run_build(DATA, store, NAMESPACE)
        assert manifest.build_id != first
        assert builds() == {manifest.build_id}
    finally:
        stop_server(server)


@pytest.mark.slow
def test_server_processes_end_with_their_supervisor_even_killed(published_store: Path) -> None:
    server = start_server(published_store, {"SMARTCITY_KG_SERVER_PROCESSES": "2", "SMARTCITY_KG_QUERY_WORKERS": "2"})
    family = [*_servers(server), *(child for s in _servers(server) for child in s.children())]
    assert len(family) >= 2
    server.process.kill()  # no chance to stop them itself
    server.process.wait()
    _, alive = psutil.wait_procs(family, timeout=30)
    assert not alive, [process.cmdline() for process in alive]
    stop_server(server)


def test_two_query_workers_per_server_process_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    # With one worker each, a long query holds up every other query of its process (docs/performance.md).
    monkeypatch.delenv("SMARTCITY_KG_QUERY_WORKERS", raising=False)
    monkeypatch.delenv("SMARTCITY_KG_SERVER_PROCESSES", raising=False)
    assert Settings().query_workers == 2 * Settings().server_processes
    assert workers_per_process(Settings(server_processes=1)) == 2
    assert workers_per_process(Settings().model_copy(update={"server_processes": 4})) == 2  # --server-processes 4
    assert workers_per_process(Settings(server_processes=4, query_workers=6)) == 2  # 6 shared out, rounded up
    assert workers_per_process(Settings(server_processes=2, query_workers=1)) == 1
    monkeypatch.setenv("SMARTCITY_KG_QUERY_WORKERS", "3")
    assert workers_per_process(Settings(server_processes=1)) == 3
