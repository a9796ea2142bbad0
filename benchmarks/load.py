"""Mixed traffic against the real server while two runaway SPARQL queries run: throughput, p50/p99 and errors.

    python benchmarks/load.py [--store STORE_DIR] [--seconds 30] [--clients 8] [--timeout 5] [--workers N]
                              [--runaway 2]

Without --store, the curated data in data/ is built into a temporary store first. The server is started on a
loopback port with SMARTCITY_KG_QUERY_TIMEOUT=--timeout. N clients (threads over keep-alive `http.client`
connections, light enough to leave the two cores to the server) each loop over a random mix of entity lookups
(/api/v1 items, /doc Turtle), pages (/doc HTML) and cheap SPARQL selects (each with its own text, so no answer
cache serves them); meanwhile two (--runaway) more clients keep one runaway SPARQL query each running for the
whole time, resubmitting it whenever it is stopped. The runaway clients send from 127.0.0.2, 127.0.0.3, ...,
as an abusive client would from its own address, so that the per-client query-time share does not charge their
seconds to the normal clients. A normal request answered other than 2xx/3xx is an error; the runaway queries are
expected to end in 503 (time limit) or 429 (their client's share used up).
Goal: no errors, and each class of normal requests at p99 under 250 ms while the runaway queries run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from graph.pipeline import run_build

ROOT = Path(__file__).resolve().parent.parent

NAMESPACE = "https://w3id.org/smartcity-kg/"
KINDS = ("city", "alliance", "company", "organization", "pilot", "agreement", "person")
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
CHEAP = "SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }} LIMIT 50"
GOAL_P99 = 0.250
# Weights of the normal request classes: lookups dominate real traffic, queries and pages follow.
MIX = {"api item": 3, "doc turtle": 2, "doc html": 2, "sparql select": 2}


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0

    def add(self, other: Tally) -> None:
        self.latencies += other.latencies
        self.statuses += other.statuses
        self.errors += other.errors


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(store: Path, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--store", str(store), "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited: {process.stderr.read().decode() if process.stderr else ''}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                connection.close()
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start within 60 s")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def keys(port: int) -> list[tuple[str, str]]:
    """The (type, key) of the things the store serves, to look them up."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    found: list[tuple[str, str]] = []
    for kind in KINDS:
        connection.request("GET", f"/api/v1/{kind}?limit=500")
        response = connection.getresponse()
        body = json.loads(response.read())
        found += [(kind, item["key"]) for item in body.get("items", [])]
    connection.close()
    if not found:
        raise SystemExit("the store has no things to look up")
    return found


def normal_client(
    port: int, things: list[tuple[str, str]], deadline: float, seed: int, tallies: dict[str, Tally]
) -> None:
    rng = random.Random(seed)
    classes, weights = list(MIX), list(MIX.values())
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    sent = 0
    while time.perf_counter() < deadline:
        kind, key = rng.choice(things)
        what = rng.choices(classes, weights)[0]
        headers = {"Accept": "text/html"} if what == "doc html" else {}
        if what == "api item":
            target = f"/api/v1/{kind}/{key}"
        elif what == "doc turtle":
            target = f"/doc/{kind}/{key}.ttl"
        elif what == "doc html":
            target = f"/doc/{kind}/{key}"
        else:  # a distinct text each time (a trailing comment), so that the query is evaluated, not served cached
            query = CHEAP.format(iri=f"{NAMESPACE}id/{kind}/{key}") + f"\n# {seed}-{sent}"
            target = "/sparql?" + urlencode({"query": query})
            headers = {"Accept": "application/sparql-results+json"}
        sent += 1
        tally = tallies[what]
        began = time.perf_counter()
        try:
            connection.request("GET", target, headers=headers)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            tally.errors += 1
            tally.statuses[0] += 1
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            continue
        tally.latencies.append(time.perf_counter() - began)
        tally.statuses[response.status] += 1
        if not 200 <= response.status < 400:
            tally.errors += 1
    connection.close()


def runaway_client(port: int, source: str, deadline: float, tally: Tally) -> None:
    body = urlencode({"query": RUNAWAY})
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/sparql-results+json"}
    while time.perf_counter() < deadline:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120, source_address=(source, 0))
        began = time.perf_counter()
        try:
            connection.request("POST", "/sparql", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            tally.statuses[0] += 1
            tally.errors += 1
            time.sleep(0.5)
            continue
        finally:
            connection.close()
        tally.latencies.append(time.perf_counter() - began)
        tally.statuses[response.status] += 1
        if response.status not in (503, 429):
            tally.errors += 1
        if response.status == 429:  # honour the refusal as a well-behaved client would, then try again
            time.sleep(min(float(response.getheader("Retry-After") or 1), max(0.0, deadline - time.perf_counter())))


def run(store: Path, *, seconds: float, clients: int, timeout: float, workers: int | None, runaways: int) -> bool:
    port = free_port()
    env = {"SMARTCITY_KG_QUERY_TIMEOUT": str(timeout)}
    if workers is not None:
        env["SMARTCITY_KG_QUERY_WORKERS"] = str(workers)
    server = start_server(store, port, env)
    try:
        things = keys(port)
        deadline = time.perf_counter() + seconds
        normal = [{what: Tally() for what in MIX} for _ in range(clients)]
        runaway = [Tally() for _ in range(runaways)]
        threads = [
            threading.Thread(target=runaway_client, args=(port, f"127.0.0.{2 + i}", deadline, runaway[i]))
            for i in range(runaways)
        ]
        threads += [
            threading.Thread(target=normal_client, args=(port, things, deadline, i, normal[i])) for i in range(clients)
        ]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
    finally:
        stop_server(server)
    return report(normal, runaway, elapsed, seconds=seconds, clients=clients, timeout=timeout, workers=workers)


def report(
    normal: list[dict[str, Tally]],
    runaway: list[Tally],
    elapsed: float,
    *,
    seconds: float,
    clients: int,
    timeout: float,
    workers: int | None,
) -> bool:
    totals = {what: Tally() for what in MIX}
    for per_client in normal:
        for what, tally in per_client.items():
            totals[what].add(tally)
    everything = Tally()
    for tally in totals.values():
        everything.add(tally)
    stopped = Tally()
    for tally in runaway:
        stopped.add(tally)
    print(
        f"{seconds:g} s, {clients} clients, query timeout {timeout:g} s, query workers "
        f"{workers if workers is not None else 'default'}; {len(runaway)} runaway queries throughout"
    )
    print("| class | requests | per second | p50 | p99 | errors |")
    print("|---|---:|---:|---:|---:|---:|")
    met = everything.errors == 0
    for what, tally in [*totals.items(), ("all normal", everything)]:
        p50, p99 = statistics.median(tally.latencies or [0.0]), percentile(tally.latencies, 0.99)
        met = met and (what == "all normal" or p99 < GOAL_P99)
        print(
            f"| {what} | {len(tally.latencies)} | {len(tally.latencies) / elapsed:.0f} | {p50 * 1000:.1f} ms "
            f"| {p99 * 1000:.1f} ms | {tally.errors} |"
        )
    statuses = ", ".join(f"{status}: {count}" for status, count in sorted(stopped.statuses.items()))
    print(
        f"| runaway (expected 503/429) | {len(stopped.latencies)} | | "
        f"{statistics.median(stopped.latencies or [0.0]):.1f} s | {percentile(stopped.latencies, 0.99):.1f} s "
        f"| {stopped.errors} |"
    )
    print(f"runaway answers by status: {statuses or 'none'}")
    if any(everything.statuses[s] for s in everything.statuses if not 200 <= s < 400):
        print("normal answers by status: " + ", ".join(f"{s}: {n}" for s, n in sorted(everything.statuses.items())))
    print(f"goal (no errors, every class p99 < {GOAL_P99 * 1000:.0f} ms): {'met' if met else 'NOT met'}")
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--store", type=Path, help="published store (default: build data/ into a temporary one)")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long to drive traffic (default 30)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent normal clients (default 8)")
    parser.add_argument("--timeout", type=float, default=5.0, help="the server's query time limit (default 5)")
    parser.add_argument("--workers", type=int, help="the server's query workers (default: the server's default)")
    parser.add_argument(
        "--runaway", type=int, default=2, help="runaway queries kept running (default 2; 0 for a baseline)"
    )
    args = parser.parse_args()
    options: dict[str, Any] = {
        "seconds": args.seconds,
        "clients": args.clients,
        "timeout": args.timeout,
        "workers": args.workers,
        "runaways": args.runaway,
    }
    if args.store is not None:
        return 0 if run(args.store, **options) else 1
    with tempfile.TemporaryDirectory(prefix="smartcity-kg-load-") as folder:
        print("building data/ into a temporary store ...", file=sys.stderr)
        run_build(ROOT / "data", Path(folder), NAMESPACE)
        return 0 if run(Path(folder), **options) else 1


if __name__ == "__main__":
    sys.exit(main())
