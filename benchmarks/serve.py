"""Serving speed at several graph sizes: /sparql against bare Oxigraph and rdflib, REST items, /doc, start-up."""

from __future__ import annotations

import argparse
import contextlib
import gzip
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"10k": 20, "100k": 200, "1m": 2000}  # alliances per size: about 480 triples each
NAMESPACE = "https://w3id.org/smartcity-kg/"
KINDS = ("alliance", "city", "municipality", "company", "organization", "agreement", "pilot", "person", "source")
SELECT_TYPES = "application/sparql-results+json"
GRAPH_TYPES = "text/turtle"
# The parameter each competency question names in its header, and the kind of thing bound to it.
PARAMETERS = {"alliance": "alliance", "company": "company", "agreement": "agreement", "statement": "agreement"}
PREFIXES = """PREFIX sck: <https://w3id.org/smartcity-kg/ontology#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX prov: <http://www.w3.org/ns/prov#>
"""
AGGREGATES = (
    "SELECT ?class (COUNT(?s) AS ?n) WHERE { ?s a ?class } GROUP BY ?class ORDER BY DESC(?n)",
    PREFIXES + "SELECT ?alliance (COUNT(?m) AS ?members) WHERE { ?alliance org:hasMembership ?m } "
    "GROUP BY ?alliance ORDER BY DESC(?members) ?alliance LIMIT 10",
    PREFIXES + "SELECT ?role (COUNT(*) AS ?n) WHERE { ?m a org:Membership ; org:role ?role } GROUP BY ?role",
    PREFIXES + "SELECT (COUNT(DISTINCT ?source) AS ?sources) WHERE { ?statement prov:wasDerivedFrom ?source }",
)
KINDS_OF_QUERY = ("lookup", "cq", "aggregate", "mix")
MIX = ("lookup",) * 16 + ("cq",) * 3 + ("aggregate",)  # of every 20 requests of the mix


# --- the load generator ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]
    server_cpu: float = 0.0  # CPU seconds of the server and its child processes during the run
    client_cpu: float = 0.0  # CPU seconds of this process (the clients) during the run

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies) or [0.0]
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) * 1000 if self.latencies else 0.0

    @property
    def cpu_per_request(self) -> float:
        """Server CPU milliseconds per answered request."""
        return self.server_cpu / max(self.requests, 1) * 1000


def _process_cpu(pid: int) -> float:
    """CPU seconds used so far by a process and its children (the query workers), those still running and those
    that have ended and been reaped (workers replaced after a time limit or to give back memory)."""
    try:
        parent = psutil.Process(pid)
        family = [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for process in family:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
    return total


def run_load(
    port: int, requests: Callable[[int, int], Request], clients: int, seconds: float, server_pid: int | None
) -> Result:
    """`clients` threads, each on its own keep-alive connection, sending `requests(client, n)` for `seconds`."""
    counts, errors = [0] * clients, [0] * clients
    latencies: list[list[float]] = [[] for _ in range(clients)]
    barrier = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        barrier.wait()
        sent = 0
        while (began := time.perf_counter()) < deadline[0]:
            request = requests(index, sent)
            sent += 1
            try:
                connection.request(request.method, request.path, body=request.body, headers=request.headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                status = 0
            latencies[index].append(time.perf_counter() - began)
            if status == 200:
                counts[index] += 1
            else:
                errors[index] += 1
        connection.close()

    cpu_before = _process_cpu(server_pid) if server_pid else 0.0
    elapsed, own_cpu = _drive(client, clients, seconds, barrier, deadline)
    return Result(
        sum(counts),
        sum(errors),
        elapsed,
        [x for each in latencies for x in each],
        (_process_cpu(server_pid) - cpu_before) if server_pid else 0.0,
        own_cpu,
    )


def run_in_process(call: Callable[[int, int], None], clients: int, seconds: float) -> Result:
    """The same load, but calling `call(client, n)` in this process (for rdflib's engine)."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    barrier = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(index: int) -> None:
        barrier.wait()
        sent = 0
        while (began := time.perf_counter()) < deadline[0]:
            try:
                call(index, sent)
            except Exception:  # a failing query is counted, not fatal
                errors[index] += 1
            sent += 1
            latencies[index].append(time.perf_counter() - began)

    elapsed, own_cpu = _drive(client, clients, seconds, barrier, deadline)
    done = [x for each in latencies for x in each]
    return Result(len(done) - sum(errors), sum(errors), elapsed, done, own_cpu, 0.0)


def _drive(
    client: Callable[[int], None], clients: int, seconds: float, barrier: threading.Barrier, deadline: list[float]
) -> tuple[float, float]:
    """Start the client threads together, let them run for `seconds`; (wall seconds, this process's CPU seconds)."""
    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    own_before = time.process_time()
    began = time.perf_counter()
    deadline[0] = began + seconds
    barrier.wait()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, time.process_time() - own_before


# --- the workload ------------------------------------------------------------------------------------------------
@dataclass
class Workload:
    """The queries and paths of one size, drawn once with a fixed seed so every server gets the same ones."""

    lookups: list[tuple[str, str]]  # (query, accept)
    questions: list[tuple[str, str]]
    aggregates: list[tuple[str, str]]
    things: list[tuple[str, str]]  # (kind, key) of every thing, shuffled: the cold REST and /doc requests
    hot: list[tuple[str, str]]  # a few hundred of them, requested again and again
    too_slow: dict[str, float]  # competency questions left out: over the limit once, on an idle engine

    def queries(self, kind: str) -> list[tuple[str, str]]:
        return {"lookup": self.lookups, "cq": self.questions, "aggregate": self.aggregates}[kind]


def _bind(query: str, name: str, iri: str) -> str:
    """The query with `?name` bound to `iri` inside its WHERE (where the engine can start from it)."""
    head, found, rest = query.partition("WHERE {")
    if not found:
        return query
    return f"{head}WHERE {{\n  VALUES ?{name} {{ <{iri}> }}{rest}"


_PROBE = """import sys, time, pyoxigraph as ox
store = ox.Store.read_only(sys.argv[1])
query = sys.stdin.read()
began = time.perf_counter()
for _ in store.query(query, use_default_graph_as_union=True):
    pass
print(time.perf_counter() - began)
"""


def _probe(store_dir: Path, query: str, limit: float) -> float:
    """Seconds one evaluation of `query` takes in a process of its own, killed after `limit` (inf then):
    the engine cannot be interrupted, and a question that takes minutes would stall every client behind it."""
    location = str((store_dir / "current" / "oxigraph").resolve())
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, location],
            input=query,
            capture_output=True,
            text=True,
            timeout=limit + 1,
            check=True,
        )
    except subprocess.TimeoutExpired:
        return float("inf")
    return float(done.stdout)


def draw_workload(store_dir: Path, cq_limit: float, seed: int = 7) -> Workload:
    rng = random.Random(seed)
    store = ox.Store.read_only(str((store_dir / "current" / "oxigraph").resolve()))
    by_kind: dict[str, list[str]] = {kind: [] for kind in KINDS}
    prefix = f"{NAMESPACE}id/"
    solutions = store.query(
        "SELECT ?s WHERE { ?s a ?c FILTER(STRSTARTS(STR(?c), 'https://w3id.org/smartcity-kg/ontology#')) }",
        use_default_graph_as_union=True,
    )
    assert isinstance(solutions, ox.QuerySolutions)
    for row in solutions:
        iri = row["s"].value
        kind, _, key = iri.removeprefix(prefix).partition("/")
        if iri.startswith(prefix) and kind in by_kind and key and "/" not in key and "#" not in key:
            by_kind[kind].append(iri)
    del store
    for iris in by_kind.values():
        iris.sort()
    everything = sorted({iri for iris in by_kind.values() for iri in iris})
    lookups: list[tuple[str, str]] = []
    for iri in rng.sample(everything, min(400, len(everything))):
        lookups.append((f"DESCRIBE <{iri}>", GRAPH_TYPES))
        lookups.append((f"SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }}", SELECT_TYPES))
    questions: list[tuple[str, str]] = []
    too_slow: dict[str, float] = {}
    for path in sorted((ROOT / "queries").glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        header = next((line for line in text.splitlines() if line.startswith("# Parameter")), "")
        name = next((p for p in PARAMETERS if f"?{p} " in header), None)
        bindings = [_bind(text, name, rng.choice(by_kind[PARAMETERS[name]])) if name else text for _ in range(20)]
        seconds = _probe(store_dir, bindings[0], cq_limit)
        if seconds > cq_limit:
            too_slow[path.stem] = seconds
            continue
        questions += [(bound, GRAPH_TYPES if "CONSTRUCT" in text else SELECT_TYPES) for bound in bindings]
    rng.shuffle(questions)
    aggregates = [(query, SELECT_TYPES) for query in AGGREGATES]
    things = [(iri.removeprefix(prefix).split("/")[0], iri.rsplit("/", 1)[1]) for iri in everything]
    rng.shuffle(things)
    return Workload(lookups, questions, aggregates, things, things[:200], too_slow)


def sparql_requests(workload: Workload, kind: str, path: str, unique: bool) -> Callable[[int, int], Request]:
    """Requests of one kind (or the mix); with `unique`, each text gets its own trailing comment so that no
    answer cache can serve it and every request is evaluated."""
    counter = iter(range(1 << 62))
    lock = threading.Lock()

    def make(client: int, sent: int) -> Request:
        chosen = MIX[sent % len(MIX)] if kind == "mix" else kind
        queries = workload.queries(chosen)
        with lock:
            number = next(counter)
        query, accept = queries[(client * 7919 + sent) % len(queries)]
        if unique:
            query = f"{query}\n# {number}"
        return Request("POST", path, query.encode(), {"Content-Type": "application/sparql-query", "Accept": accept})

    return make


class Cold:
    """Things in a fixed shuffled order, each handed out once (wrapping around only when all have been)."""

    def __init__(self, things: list[tuple[str, str]]) -> None:
        self.things = things
        self.next = 0
        self.wrapped = False
        self.lock = threading.Lock()

    def take(self) -> tuple[str, str]:
        with self.lock:
            if self.next >= len(self.things):
                self.next, self.wrapped = 0, True
            thing = self.things[self.next]
            self.next += 1
            return thing


def item_requests(workload: Workload, cold: Cold | None, doc: bool) -> Callable[[int, int], Request]:
    def make(client: int, sent: int) -> Request:
        kind, key = cold.take() if cold else workload.hot[(client * 7919 + sent) % len(workload.hot)]
        if doc:
            return Request("GET", f"/doc/{kind}/{key}.ttl")
        return Request("GET", f"/api/v1/{kind}/{key}", headers={"Accept": "application/json"})

    return make


# --- servers -----------------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    sparql_path: str
    started_in: float

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def memory(self) -> tuple[float, float, float]:
        """(RSS, PSS, RSS of the server process alone) in MB of the server and its children: RSS counts pages
        shared between them once per process, PSS splits each shared page between the processes sharing it."""
        rss = pss = 0
        parent = psutil.Process(self.process.pid)
        for process in (parent, *parent.children(recursive=True)):
            info = process.memory_full_info()
            rss += info.rss
            pss += info.pss
        return rss / 2**20, pss / 2**20, parent.memory_info().rss / 2**20


def _wait_healthy(port: int, path: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                connection.close()
                return
            connection.close()
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"no healthy {path} within {timeout} s")


def start(
    name: str, command: list[str], port: int, *, health: str, sparql_path: str, env: dict[str, str] | None = None
) -> Server:
    began = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_healthy(port, health, process)
    except RuntimeError:
        process.kill()
        process.wait()
        raise
    return Server(name, process, port, sparql_path, time.perf_counter() - began)


def start_ours(store: Path) -> Server:
    port = free_port()
    # Every client of the benchmark has the same address, so the per-client share of query time and the queue
    # bound would measure the limits rather than the speed: both are raised for the run.
    env = {
        "SMARTCITY_KG_CLIENT_QUERY_SECONDS": "1000000",
        "SMARTCITY_KG_MAX_PENDING_QUERIES": "256",
        "SMARTCITY_KG_CLIENT_CONCURRENT_QUERIES": "1000",
    }
    command = [str(Path(sys.executable).parent / "smartcity-kg"), "serve", "--store", str(store), "--port", str(port)]
    return start("ours", command, port, health="/health", sparql_path="/sparql", env=env)


def start_oxigraph(store: Path) -> Server:
    port = free_port()
    binary = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    command = [
        binary,
        "serve-read-only",
        "--location",
        str((store / "current" / "oxigraph").resolve()),
        "--bind",
        f"127.0.0.1:{port}",
        "--union-default-graph",
    ]
    return start("oxigraph", command, port, health="/query?query=ASK%7B%7D", sparql_path="/query")


class RdflibEngine:
    """rdflib's in-memory engine on the merged dump, queried in this process (no HTTP), answers serialised as
    a server would: SPARQL JSON for SELECT, Turtle for DESCRIBE and CONSTRUCT."""

    def __init__(self, store: Path) -> None:
        import rdflib  # noqa: PLC0415 -- only the smallest size loads it

        self.graph = rdflib.Graph()
        dump = store / "current" / "dumps" / "graph.nt.gz"
        self.graph.parse(data=gzip.decompress(dump.read_bytes()), format="nt")

    def run(self, query: str) -> bytes:
        result = self.graph.query(query)
        if result.type in ("CONSTRUCT", "DESCRIBE"):
            return result.serialize(format="turtle") or b""
        return result.serialize(format="json") or b""


# --- one size ----------------------------------------------------------------------------------------------------
@dataclass
class Row:
    area: str
    what: str
    engine: str
    clients: int
    result: Result
    note: str = ""


def ensure_store(size: str, work: Path, given: dict[str, Path]) -> Path:
    if size in given:
        return given[size]
    store = work / size / "store"
    if (store / "current").exists():
        return store
    data = work / size / "data"
    shutil.rmtree(data, ignore_errors=True)
    kg = str(Path(sys.executable).parent / "smartcity-kg")
    subprocess.run([kg, "generate", "--alliances", str(SIZES[size]), "--out", str(data)], check=True)
    subprocess.run([kg, "build", "--data", str(data), "--store", str(store)], check=True)
    return store


def _measure_ours(
    store: Path,
    workload: Workload,
    clients: list[int],
    seconds: float,
    *,
    facts: dict[str, float],
    log: Callable[[str], None],
) -> list[Row]:
    rows: list[Row] = []
    ours = start_ours(store)
    facts["startup_s"] = ours.started_in
    facts["rss_idle_mb"], facts["pss_idle_mb"], facts["api_rss_idle_mb"] = ours.memory()
    log(f"   ours healthy after {ours.started_in:.2f} s; idle RSS {facts['rss_idle_mb']:.0f} MB")
    try:
        # Warm-up: connections, lazy imports, the label index and the engines' page caches.
        for kind in KINDS_OF_QUERY:
            run_load(ours.port, sparql_requests(workload, kind, "/sparql", True), 2, 1.0, None)
        run_load(ours.port, item_requests(workload, None, False), 2, 1.0, None)
        run_load(ours.port, item_requests(workload, None, True), 2, 1.0, None)
        rows += _measure_sparql(ours, workload, clients, seconds, log)
        cold = Cold(workload.things)
        for doc in (False, True):
            what = "/doc/{type}/{key}.ttl" if doc else "/api/v1/{type}/{key}"
            for n in clients:
                for label, source in ((" cold", cold), (" hot", None)):
                    rows.append(
                        Row(
                            "items",
                            what + label,
                            "ours",
                            n,
                            run_load(ours.port, item_requests(workload, source, doc), n, seconds, ours.process.pid),
                        )
                    )
                    log(f"   {what}{label} {n} clients: {_cell(rows[-1].result)}")
        facts["cold_wrapped"] = float(cold.wrapped)
        facts["rss_mb"], facts["pss_mb"], facts["api_rss_mb"] = ours.memory()
    finally:
        ours.stop()
    return rows


def _measure_sparql(
    server: Server, workload: Workload, clients: list[int], seconds: float, log: Callable[[str], None]
) -> list[Row]:
    rows: list[Row] = []
    for n in clients:
        for kind in (*KINDS_OF_QUERY, "mix, repeated texts"):
            unique = kind != "mix, repeated texts"
            make = sparql_requests(workload, kind.partition(",")[0], server.sparql_path, unique)
            rows.append(
                Row("sparql", kind, server.name, n, run_load(server.port, make, n, seconds, server.process.pid))
            )
            log(f"   {server.name} {kind} {n} clients: {_cell(rows[-1].result)}")
    return rows


def _measure_oxigraph(
    store: Path,
    workload: Workload,
    clients: list[int],
    seconds: float,
    *,
    facts: dict[str, float],
    log: Callable[[str], None],
) -> list[Row]:
    bare = start_oxigraph(store)
    facts["oxigraph_startup_s"] = bare.started_in
    try:
        for kind in KINDS_OF_QUERY:
            run_load(bare.port, sparql_requests(workload, kind, "/query", True), 2, 1.0, None)
        rows = _measure_sparql(bare, workload, clients, seconds, log)
        facts["oxigraph_rss_mb"], _, _ = bare.memory()
    finally:
        bare.stop()
    return rows


def _measure_rdflib(
    store: Path,
    workload: Workload,
    clients: list[int],
    seconds: float,
    *,
    facts: dict[str, float],
    log: Callable[[str], None],
) -> list[Row]:
    rows: list[Row] = []
    began = time.perf_counter()
    engine = RdflibEngine(store)
    facts["rdflib_load_s"] = time.perf_counter() - began
    for n in clients:
        for kind in KINDS_OF_QUERY:
            make = sparql_requests(workload, kind, "", True)

            def call(client: int, sent: int, make: Callable[[int, int], Request] = make) -> None:
                request = make(client, sent)
                assert request.body is not None
                engine.run(request.body.decode())

            rows.append(Row("sparql", kind, "rdflib", n, run_in_process(call, n, seconds)))
            log(f"   rdflib {kind} {n} clients: {_cell(rows[-1].result)}")
    return rows


def measure_size(
    size: str,
    store: Path,
    clients: list[int],
    seconds: float,
    *,
    rdflib_sizes: set[str],
    cq_limit: float,
    log: Callable[[str], None],
) -> tuple[list[Row], dict[str, float], dict[str, float]]:
    workload = draw_workload(store, cq_limit)
    triples = json.loads((store / "current" / "build.json").read_text())["triples"]
    log(
        f"== {size}: {triples:,} triples, {len(workload.things):,} things, load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    facts: dict[str, float] = {"triples": triples}
    for name, took in workload.too_slow.items():
        log(f"   left out {name}: " + ("over the limit" if took == float("inf") else f"{took:.1f} s"))
    rows = _measure_ours(store, workload, clients, seconds, facts=facts, log=log)
    rows += _measure_oxigraph(store, workload, clients, seconds, facts=facts, log=log)
    if size in rdflib_sizes:
        rows += _measure_rdflib(store, workload, clients, seconds, facts=facts, log=log)
    return rows, facts, workload.too_slow


# --- report ------------------------------------------------------------------------------------------------------
def _cell(result: Result) -> str:
    errors = f", {result.errors} err" if result.errors else ""
    return f"{result.rate:,.0f}/s · {result.p50:.1f} / {result.percentile(0.99):.0f} ms{errors}"


def report(
    size: str, rows: list[Row], facts: dict[str, float], clients: list[int], *, left_out: dict[str, float], limit: float
) -> Iterator[str]:
    yield f"\n### {size}: {int(facts['triples']):,} triples\n"
    yield (
        "Each cell: requests per second · p50 / p99 latency; `ours/ox` is the ratio of throughputs, "
        "`CPU` the server CPU per request (ours, oxigraph).\n"
    )
    engines = sorted({row.engine for row in rows if row.area == "sparql"}, key=["ours", "oxigraph", "rdflib"].index)
    header = ["query", "clients", *engines, "ours/ox", *(["ours/rdflib"] if "rdflib" in engines else []), "CPU ms/req"]
    yield "| " + " | ".join(header) + " |"
    yield "|" + "|".join("---" if i < 1 else "---:" for i in range(len(header))) + "|"
    found = {(row.what, row.engine, row.clients): row.result for row in rows if row.area == "sparql"}
    for what in ("lookup", "cq", "aggregate", "mix", "mix, repeated texts"):
        for n in clients:
            cells = {engine: found.get((what, engine, n)) for engine in engines}
            if not any(cells.values()):
                continue
            ours, bare, slow = cells.get("ours"), cells.get("oxigraph"), cells.get("rdflib")
            line = [what, str(n), *(_cell(r) if r else "-" for r in cells.values())]
            line.append(f"{ours.rate / bare.rate:.2f}" if ours and bare and bare.rate else "-")
            if "rdflib" in engines:
                line.append(f"{ours.rate / slow.rate:.1f}" if ours and slow and slow.rate else "-")
            line.append(f"{ours.cpu_per_request:.2f} / {bare.cpu_per_request:.2f}" if ours and bare else "-")
            yield "| " + " | ".join(line) + " |"
    yield "\n| item request | clients | throughput | p50 | p99 | errors | server CPU ms/req |"
    yield "|---|---:|---:|---:|---:|---:|---:|"
    for row in rows:
        if row.area == "items":
            r = row.result
            yield (
                f"| {row.what} | {row.clients} | {r.rate:,.0f}/s | {r.p50:.1f} ms | {r.percentile(0.99):.1f} ms | "
                f"{r.errors} | {r.cpu_per_request:.2f} |"
            )
    yield ""
    lines = [
        f"start-up to a healthy /health: {facts['startup_s']:.2f} s (oxigraph serve-read-only: "
        f"{facts['oxigraph_startup_s']:.2f} s)",
        f"memory of the server with its query workers: idle RSS {facts['rss_idle_mb']:.0f} MB "
        f"(PSS {facts['pss_idle_mb']:.0f} MB, the server process {facts['api_rss_idle_mb']:.0f} MB); after "
        f"the run RSS {facts['rss_mb']:.0f} MB (PSS {facts['pss_mb']:.0f} MB, the server process "
        f"{facts['api_rss_mb']:.0f} MB); oxigraph serve-read-only after its run "
        f"{facts['oxigraph_rss_mb']:.0f} MB",
    ]
    if "rdflib_load_s" in facts:
        lines.append(f"rdflib: loading the N-Triples dump took {facts['rdflib_load_s']:.1f} s")
    if left_out:
        lines.append(
            "competency questions left out (one evaluation took longer than the limit): "
            + ", ".join(
                f"{name} ({'>' if took == float('inf') else ''}{min(took, limit):.1f} s)"
                for name, took in left_out.items()
            )
        )
    if facts.get("cold_wrapped"):
        lines.append("cold item requests wrapped around: every thing had been asked for once")
    yield from (f"- {line}" for line in lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), default=list(SIZES))
    parser.add_argument("--clients", nargs="+", type=int, default=[1, 8, 32])
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each measurement")
    parser.add_argument(
        "--work",
        type=Path,
        default=Path("/tmp/smartcity-kg-bench"),
        help="where generated data and stores are kept between runs",
    )
    parser.add_argument(
        "--store",
        action="append",
        default=[],
        metavar="SIZE=DIR",
        help="use this published store for a size instead of generating one (e.g. 1m=/tmp/bench-1m)",
    )
    parser.add_argument(
        "--cq-limit",
        type=float,
        default=1.5,
        help="leave out competency questions that take longer than this once (seconds)",
    )
    parser.add_argument(
        "--rdflib-sizes",
        nargs="*",
        default=["10k"],
        help="sizes at which rdflib's engine is measured too (it loads the whole graph in memory)",
    )
    args = parser.parse_args()
    given = {size: Path(folder) for size, _, folder in (item.partition("=") for item in args.store)}

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    print(
        f"# smartcity-kg serving benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
        f"clients: {len(args.clients)} runs of {args.seconds:g} s each (threads, one keep-alive "
        "http.client connection each)"
    )
    for size in args.sizes:
        store = ensure_store(size, args.work, given)
        rows, facts, slow = measure_size(
            size,
            store,
            args.clients,
            args.seconds,
            rdflib_sizes=set(args.rdflib_sizes),
            cq_limit=args.cq_limit,
            log=log,
        )
        for line in report(size, rows, facts, args.clients, left_out=slow, limit=args.cq_limit):
            print(line, flush=True)
        print(f"- load average after this size: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)


if __name__ == "__main__":
    main()
