"""/sparql under runaway and hostile queries: stopped at the limits, never fetching elsewhere, never going down."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import httpx
import psutil
import pytest

from api.sparql import Job, QueryFailedError, QueryPool
from tests.conftest import Server, start_server, stop_server

pytestmark = pytest.mark.slow

TIMEOUT = 2.0
LIMITS = {
    "SMARTCITY_KG_QUERY_TIMEOUT": str(TIMEOUT),
    "SMARTCITY_KG_QUERY_WORKERS": "2",
    "SMARTCITY_KG_MAX_PENDING_QUERIES": "2",
    "SMARTCITY_KG_CLIENT_QUERY_SECONDS": "1.5",
    "SMARTCITY_KG_QUERY_MEMORY_MB": "400",
    "SMARTCITY_KG_MAX_QUERY_BYTES": "12000",
    "SMARTCITY_KG_CLIENT_CONCURRENT_QUERIES": "1",
}
# Every triple with every triple with every triple: ~10^12 rows to count, in constant memory.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
# Sorting every pair of triples: gigabytes of intermediate results within a second.
MEMORY_HOG = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f LIMIT 1"
CHEAP = "ASK { ?s ?p ?o }"


def cheap(number: int) -> str:
    """A cheap query no answer cache has seen: a worker must evaluate it."""
    return f"{CHEAP} # {number} {time.monotonic()}"


@pytest.fixture(scope="module")
def tight_server(published_store: Path) -> Iterator[Server]:
    """The real service with a 2-second time limit, a short queue and a small time share per client."""
    server = start_server(published_store, env=LIMITS)
    yield server
    stop_server(server)
    if server.process.stderr:
        server.process.stderr.close()


def client_address(name: str) -> dict[str, str]:
    """A client of its own (the service trusts X-Forwarded-For from loopback, as behind a reverse proxy), so each
    test spends its own share of query time."""
    return {"X-Forwarded-For": f"203.0.113.{sum(name.encode()) % 250 + 1}"}


def server_cpu(server: Server, seconds: float) -> float:
    """CPU used by the server and its workers over `seconds`, in percent of one core."""
    parent = psutil.Process(server.process.pid)
    processes = [parent, *parent.children(recursive=True)]
    before = {p.pid: sum(p.cpu_times()[:2]) for p in processes if p.is_running()}
    time.sleep(seconds)
    used = 0.0
    for process in processes:
        try:
            used += sum(process.cpu_times()[:2]) - before.get(process.pid, 0.0)
        except psutil.NoSuchProcess:
            continue
    return used / seconds * 100


def timed_get(client: httpx.Client, path: str, **kwargs: object) -> tuple[httpx.Response, float]:
    began = time.monotonic()
    response = client.get(path, **kwargs)  # type: ignore[arg-type]
    return response, time.monotonic() - began


def test_runaway_query_is_stopped_at_the_limit_while_others_are_served(tight_server: Server) -> None:
    with tight_server.client() as client, ThreadPoolExecutor(1) as pool:
        runaway = pool.submit(
            timed_get, client, "/sparql", params={"query": RUNAWAY}, headers=client_address("runaway")
        )
        time.sleep(0.5)  # the runaway query is now burning a worker
        for number in range(3):
            health, health_took = timed_get(client, "/health")
            answer, answer_took = timed_get(client, "/sparql", params={"query": cheap(number)})
            assert health.status_code == 200 and health_took < 1.0
            assert answer.status_code == 200 and answer_took < 1.0, answer.text
            assert answer.json()["boolean"] is True
        response, took = runaway.result()
    assert response.status_code == 503
    assert "Retry-After" in response.headers
    assert f"time limit of {TIMEOUT:g} s" in response.json()["error"]["message"]
    assert TIMEOUT - 0.1 < took < TIMEOUT + 1.5
    time.sleep(0.5)  # the killed worker is being replaced
    deadline = time.monotonic() + 2.0
    while (cpu := server_cpu(tight_server, 0.5)) > 25 and time.monotonic() < deadline:
        pass
    assert cpu <= 25, f"the server still burns {cpu:.0f}% of a core after the timeout"


def test_burst_of_heavy_queries_is_refused_promptly_and_the_service_recovers(tight_server: Server) -> None:
    burst = 10  # 2 workers + 2 waiting places: the other 6 must be refused at once
    with tight_server.client() as client, ThreadPoolExecutor(burst) as pool:
        # Ten different texts: the same text ten times would share one evaluation.
        answers = list(
            pool.map(
                lambda i: timed_get(
                    client, "/sparql", params={"query": f"{RUNAWAY} # {i}"}, headers=client_address(f"burst-{i}")
                ),
                range(burst),
            )
        )
        refused_at_once = [r for r, took in answers if r.status_code in (429, 503) and took < 1.5]
        assert len(refused_at_once) >= burst - 4
        assert all(r.status_code in (429, 503) for r, _ in answers)
        assert all("Retry-After" in r.headers for r, _ in answers)
        assert all("busy" in r.json()["error"]["message"] for r in refused_at_once)
        health, _ = timed_get(client, "/health")
        answer, took = timed_get(client, "/sparql", params={"query": cheap(0)})
    assert health.status_code == 200
    assert answer.status_code == 200 and took < 2.0, answer.text


def test_a_client_over_its_share_of_query_time_gets_429(tight_server: Server) -> None:
    greedy = client_address("greedy")
    with tight_server.client() as client:
        first, _ = timed_get(client, "/sparql", params={"query": RUNAWAY}, headers=greedy)
        refused, took = timed_get(client, "/sparql", params={"query": cheap(0)}, headers=greedy)
        other, _ = timed_get(client, "/sparql", params={"query": cheap(0)}, headers=client_address("modest"))
    assert first.status_code == 503
    assert refused.status_code == 429 and took < 0.5
    assert int(refused.headers["Retry-After"]) >= 1
    assert "share of query time" in refused.json()["error"]["message"]
    assert other.status_code == 200


def test_refused_texts_are_charged_to_the_client_that_sends_them(tight_server: Server) -> None:
    # Refused only at its end, once all of it has been read: the most a refused text can cost.
    refused = "SELECT * {" + "?s ?p ?o ." * 1150 + "SERVICE <http://127.0.0.1:9/> {} }"
    burner = client_address("burner")
    statuses = []
    with tight_server.client() as client:
        for _ in range(2000):
            answer = client.post(
                "/sparql", content=refused.encode(), headers={"Content-Type": "application/sparql-query", **burner}
            )
            statuses.append(answer.status_code)
            if answer.status_code != 400:
                break
        other = client.get("/sparql", params={"query": cheap(0)}, headers=client_address("bystander"))
    assert statuses[-1] == 429, f"{len(statuses)} refused texts were never charged"
    assert "share of query time" in answer.json()["error"]["message"]
    assert other.status_code == 200


def test_one_client_cannot_hold_every_worker(tight_server: Server) -> None:
    greedy = client_address("holder")
    with tight_server.client() as client, ThreadPoolExecutor(4) as pool:
        running = [
            pool.submit(timed_get, client, "/sparql", params={"query": f"{RUNAWAY} # hold {i}"}, headers=greedy)
            for i in range(4)
        ]
        time.sleep(0.3)
        other, took = timed_get(client, "/sparql", params={"query": cheap(0)}, headers=client_address("patient"))
        held = [future.result()[0] for future in running]
    assert other.status_code == 200 and took < 1.0, (other.status_code, took)
    assert sum(answer.status_code == 429 for answer in held) == 3
    assert all(
        "client_concurrent_queries" in answer.json()["error"]["message"] for answer in held if answer.status_code == 429
    )


def test_a_worker_killed_from_outside_is_not_reported_as_over_its_memory(tight_server: Server) -> None:
    with tight_server.client() as client, ThreadPoolExecutor(1) as pool:
        running = pool.submit(
            timed_get, client, "/sparql", params={"query": f"{RUNAWAY} # killed"}, headers=client_address("killed")
        )
        time.sleep(0.5)
        workers = psutil.Process(tight_server.process.pid).children()
        busy = max(workers, key=lambda worker: worker.cpu_percent(0.2))
        os.kill(busy.pid, signal.SIGKILL)
        killed, _ = running.result()
    assert killed.status_code == 503
    message = killed.json()["error"]["message"]
    assert "killed from outside" in message and "MiB" not in message


def test_query_over_the_memory_limit_is_stopped(tight_server: Server) -> None:
    with tight_server.client() as client:
        hog, _ = timed_get(client, "/sparql", params={"query": MEMORY_HOG}, headers=client_address("hog"))
        answer, _ = timed_get(client, "/sparql", params={"query": cheap(0)})
    assert hog.status_code == 503
    assert "400 MiB" in hog.json()["error"]["message"]
    assert answer.status_code == 200


def test_crashed_worker_is_replaced_and_only_its_query_fails(tight_server: Server) -> None:
    with tight_server.client() as client, ThreadPoolExecutor(1) as pool:
        running = pool.submit(timed_get, client, "/sparql", params={"query": RUNAWAY}, headers=client_address("crash"))
        time.sleep(0.5)
        workers = psutil.Process(tight_server.process.pid).children()
        busy = max(workers, key=lambda worker: worker.cpu_percent(0.2))
        os.kill(busy.pid, signal.SIGSEGV)  # what a stack overflow in the engine looks like from outside
        crashed, took = running.result()
        after = [timed_get(client, "/sparql", params={"query": cheap(number)})[0] for number in range(4)]
    assert crashed.status_code == 500 and took < TIMEOUT
    assert "SIGSEGV" in crashed.json()["error"]["message"]
    assert all(answer.status_code == 200 for answer in after)
    assert tight_server.process.poll() is None


def test_deeply_nested_query_is_refused_and_the_server_stays_up(tight_server: Server) -> None:
    depth = 5000
    nested = "SELECT * WHERE { FILTER(" + "(" * depth + "1" + ")" * depth + ") }"
    braces = "SELECT * WHERE " + "{" * depth + "}" * depth
    with tight_server.client() as client:
        for query in (nested, braces):
            answer = client.post(
                "/sparql", content=query.encode(), headers={"Content-Type": "application/sparql-query"}
            )
            assert answer.status_code == 400
            assert "nest more than 64 deep" in answer.json()["error"]["message"]
        assert client.get("/sparql", params={"query": cheap(0)}).status_code == 200
    assert tight_server.process.poll() is None


def test_oversize_query_is_413_in_a_body_and_414_in_a_url(tight_server: Server) -> None:
    query = "ASK { " + "?s ?p ?o . " * 1200 + "}"  # 13 kB, over the 12 kB allowed
    with tight_server.client() as client:
        in_url = client.get(f"/sparql?query={quote(query)}")
        in_body = client.post("/sparql", content=query.encode(), headers={"Content-Type": "application/sparql-query"})
    assert in_url.status_code == 414
    assert in_body.status_code == 413
    assert "at most 12000 bytes" in in_url.json()["error"]["message"]


class Canary:
    """A TCP listener on loopback that records every connection made to it."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}/"
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.socket.close()


@pytest.fixture
def canary() -> Iterator[Canary]:
    listener = Canary()
    yield listener
    listener.close()


def test_no_query_ever_reaches_another_server(live_server: Server, canary: Canary) -> None:
    url = canary.url
    attempts = [
        {"query": f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"},
        {"query": f"SELECT * WHERE {{ SERVICE SILENT <{url}sparql> {{ ?s ?p ?o }} }}"},
        {"query": f"PREFIX canary: <{url}>\nSELECT * WHERE {{ SERVICE canary:sparql {{ ?s ?p ?o }} }}"},
        {"query": f"SELECT * FROM <{url}> WHERE {{ ?s ?p ?o }}"},
        {"query": f"SELECT * FROM NAMED <{url}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"},
        {"query": f"BASE <{url}>\nSELECT * FROM <data.ttl> WHERE {{ ?s ?p ?o }}"},
        {"query": "SELECT * WHERE { ?s ?p ?o }", "default-graph-uri": url},
        {"query": "SELECT * WHERE { ?s ?p ?o }", "named-graph-uri": url},
        {"query": f"LOAD <{url}>"},
        {"update": f"LOAD <{url}> INTO GRAPH <urn:x>"},
        {"query": f"DESCRIBE <{url}>"},  # allowed: describing an IRI never dereferences it
    ]
    with live_server.client() as client:
        statuses = [client.get("/sparql", params=params).status_code for params in attempts]
    time.sleep(0.3)
    assert canary.connections == 0
    assert statuses[:-1] == [400] * (len(attempts) - 1)
    assert statuses[-1] == 200


def test_workers_have_no_network_even_if_a_query_got_past_the_guard(
    published_store: Path, canary: Canary, caplog: pytest.LogCaptureFixture
) -> None:
    """Defence in depth: a SERVICE query handed straight to a real worker process still reaches nobody."""

    async def evaluate() -> str | None:
        pool = QueryPool(
            workers=1, max_pending=0, timeout=10, memory_mb=512, rest_mb=64, idle_seconds=0, record=lambda _: None
        )
        await pool.start()
        try:
            if not pool.network_isolated:
                return None
            job = Job(
                str((published_store / "current").resolve()),
                f"SELECT * {{ SERVICE <{canary.url}> {{}} }}",
                canary.url,
                None,
                None,
                True,
                "json",
                None,
                10,
            )
            await pool.run(job, asyncio.get_running_loop().time() + 10)
        except QueryFailedError as failure:
            return str(failure)
        finally:
            await pool.close()
        return "answered"

    with ThreadPoolExecutor(1) as thread:  # a loop of its own, whatever else runs in this process
        message = thread.submit(asyncio.run, evaluate()).result()
    if message is None:
        pytest.skip("this machine lets no process leave its network namespace; the guard alone refuses SERVICE")
    time.sleep(0.3)
    assert canary.connections == 0
    assert "the query engine failed" in message  # and the engine's own words only in the log:
    assert "unreachable" in caplog.text.lower()


@pytest.mark.parametrize(("rest_mb", "replaced"), [(16, True), (1024, False)])
def test_a_worker_holding_too_much_memory_after_a_query_is_replaced(
    published_store: Path, rest_mb: int, replaced: bool
) -> None:
    """Idle workers stay small: one still over `worker_rest_mb` after a query (a fresh one already holds more
    than 16 MiB) answers, exits and is replaced; under the limit it stays."""

    async def evaluate() -> tuple[list[str], set[int]]:
        pool = QueryPool(
            workers=1, max_pending=1, timeout=10, memory_mb=512, rest_mb=rest_mb, idle_seconds=0, record=lambda _: None
        )
        await pool.start()
        answers, pids = [], set()
        try:
            for number in range(3):
                while not pool._idle:  # a replacement is starting
                    await asyncio.sleep(0.05)
                pids.add(pool._idle[0].process.pid)
                job = Job(
                    str((published_store / "current").resolve()),
                    f"SELECT ({number} AS ?n) {{}}",
                    "http://127.0.0.1/sparql",
                    None,
                    None,
                    True,
                    "csv",
                    None,
                    10,
                )
                answers.append((await pool.run(job, asyncio.get_running_loop().time() + 10)).payload.decode())
        finally:
            await pool.close()
        return answers, pids

    with ThreadPoolExecutor(1) as thread:
        answers, pids = thread.submit(asyncio.run, evaluate()).result()
    assert [answer.split() for answer in answers] == [["n", str(number)] for number in range(3)]
    assert len(pids) == (3 if replaced else 1)


def test_a_worker_resting_after_queries_is_replaced_by_a_fresh_one(published_store: Path) -> None:
    """Memory comes back at rest: a worker that evaluated a query and then stayed idle for `idle_seconds` gives
    way to a fresh process (counted as "worker_rested"); one that never evaluated anything is kept, and a rested
    worker's replacement answers as the first did."""

    def job(number: int) -> Job:
        store = str((published_store / "current").resolve())
        return Job(store, f"SELECT ({number} AS ?n) {{}}", "http://127.0.0.1/sparql", None, None, True, "csv", None, 10)

    async def evaluate() -> tuple[list[str], list[int], list[str]]:
        events: list[str] = []
        pool = QueryPool(
            workers=2, max_pending=1, timeout=10, memory_mb=512, rest_mb=1024, idle_seconds=0.4, record=events.append
        )
        await pool.start()
        answers, pids = [], []
        try:
            loop = asyncio.get_running_loop()
            pids.append(pool._idle[-1].process.pid)  # the worker the first query takes
            untouched = pool._idle[0].process.pid
            answers.append((await pool.run(job(1), loop.time() + 10)).payload.decode())
            for _ in range(100):  # the rest, then a fresh start
                await asyncio.sleep(0.1)
                if events and len(pool._idle) == 2:
                    break
            live = {worker.process.pid for worker in pool._idle}
            assert untouched in live  # never used: nothing to give back
            assert pids[0] not in live
            pids.extend(live - {untouched})
            answers.append((await pool.run(job(2), loop.time() + 10)).payload.decode())
        finally:
            await pool.close()
        return answers, pids, events

    with ThreadPoolExecutor(1) as thread:
        answers, pids, events = thread.submit(asyncio.run, evaluate()).result()
    assert [answer.split() for answer in answers] == [["n", "1"], ["n", "2"]]
    assert len(set(pids)) == 2
    assert events == ["worker_rested"]


def test_resting_workers_are_counted_in_metrics_and_answer_as_before(published_store: Path) -> None:
    """Over HTTP: a query evaluated by a worker, then a rest, is counted as `worker_rested` in /metrics, and the
    same query then answers the same bytes from the fresh worker; with no queue (`max_pending_queries` 0), two
    queries at once around the rests are both answered, since a rested worker serves until its successor is up."""
    aggregate = "SELECT ?c (COUNT(*) AS ?n) WHERE { ?s a ?c } GROUP BY ?c ORDER BY ?c"
    env = {"SMARTCITY_KG_WORKER_IDLE_SECONDS": "0.3", "SMARTCITY_KG_MAX_PENDING_QUERIES": "0"}
    server = start_server(published_store, env)

    def rested(client: httpx.Client) -> float:
        metrics = client.get("/metrics").text
        return float(next(line.split()[-1] for line in metrics.splitlines() if 'event="worker_rested"' in line))

    try:
        with server.client() as client, ThreadPoolExecutor(2) as pair:
            first = client.post("/sparql", data={"query": aggregate}, headers={"Accept": "text/csv"})
            assert first.status_code == 200
            statuses: list[int] = []
            for round_ in range(8):  # two at once, each round after about one rest
                time.sleep(0.3 + 0.05 * round_)
                asked = [
                    pair.submit(client.post, "/sparql", data={"query": f"{aggregate} # {round_}-{n}"}) for n in range(2)
                ]
                answers = [future.result() for future in asked]
                statuses += [answer.status_code for answer in answers]
            deadline = time.monotonic() + 10
            while rested(client) < 1 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert rested(client) >= 1
            again = client.post("/sparql", data={"query": aggregate}, headers={"Accept": "text/csv"})
            assert again.content == first.content
            assert statuses == [200] * 16
    finally:
        stop_server(server)


def test_oversized_headers_are_refused_with_431(live_server: Server) -> None:
    with live_server.client() as client:
        refused = client.get("/health", headers={"X-Padding": "a" * 20_000})
        assert refused.status_code == 431
        assert "max_header_bytes" in refused.json()["error"]["message"]
        assert client.get("/health", headers={"X-Padding": "a" * 2_000}).status_code == 200
