"""Throughput of one cheap SELECT over /sparql against a bare `oxigraph serve-read-only` on the same build.

    python benchmarks/sparql_quick.py --store STORE_DIR [--clients 8] [--seconds 5] [--unique]
    python benchmarks/sparql_quick.py --url http://127.0.0.1:8000/sparql   # measure one running endpoint only

With --store, both servers are started on loopback ports, measured one after the other with the same query, the
same number of keep-alive clients and the same duration, stopped, and the ratio is printed, with the CPU each
server spent per request (steadier than throughput on a machine shared with other work). The clients are
threads over `http.client` (lighter than httpx, so the client steals less of the two cores from the servers).
--unique makes every request's text different (a trailing comment), so that no answer cache can serve it: the
query is evaluated each time.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import psutil  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
QUERY = """PREFIX org: <http://www.w3.org/ns/org#>
SELECT ?member WHERE {
  ?membership org:organization <https://w3id.org/smartcity-kg/id/alliance/drei-gewinnt> ;
              org:role <https://w3id.org/smartcity-kg/vocab/role/member> ;
              org:member ?member .
}"""


@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def describe(self) -> str:
        ordered = sorted(self.latencies) or [0.0]
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return (
            f"{self.rate:8.0f} req/s  p50 {statistics.median(ordered) * 1000:6.1f} ms  "
            f"p99 {p99 * 1000:6.1f} ms  errors {self.errors}"
        )


def measure(url: str, query: str, clients: int, seconds: float, unique: bool = False) -> Result:
    """`clients` keep-alive connections sending the query by GET for `seconds`; counts 200s, times each."""
    parts = urlsplit(url)
    target = f"{parts.path}?{urlencode({'query': query})}"
    if unique:
        target += quote("\n#")  # each request appends its own number to the comment
    headers = {"Accept": "application/sparql-results+json"}
    counts = [0] * clients
    errors = [0] * clients
    latencies: list[list[float]] = [[] for _ in range(clients)]
    start = threading.Barrier(clients + 1)
    deadline = 0.0

    def client(index: int) -> None:
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
        start.wait()
        while (began := time.perf_counter()) < deadline:
            sent = f"{target}{index}-{counts[index] + errors[index]}" if unique else target
            connection.request("GET", sent, headers=headers)
            response = connection.getresponse()
            response.read()
            latencies[index].append(time.perf_counter() - began)
            if response.status == 200:
                counts[index] += 1
            else:
                errors[index] += 1
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    deadline = time.perf_counter() + seconds
    began = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    return Result(sum(counts), sum(errors), elapsed, [x for each in latencies for x in each])


def server_cpu(pid: int) -> float:
    """CPU seconds used so far by a server and its child processes (the query workers)."""
    parent = psutil.Process(pid)
    return sum(sum(p.cpu_times()[:2]) for p in (parent, *parent.children(recursive=True)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    parts = urlsplit(url)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=2)
            connection.request("GET", f"{parts.path}?{urlencode({'query': 'ASK {}'})}")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in time")


def serve(command: list[str], url: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(url, process)
    except RuntimeError:
        process.kill()
        raise
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def compare(store: Path, query: str, clients: int, seconds: float, unique: bool) -> None:
    oxigraph = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    build = (store / "current").resolve()
    ours_port, bare_port = free_port(), free_port()
    runs = {
        "smartcity-kg /sparql": (
            [sys.executable, "-m", "api.cli", "serve", "--store", str(store), "--port", str(ours_port)],
            f"http://127.0.0.1:{ours_port}/sparql",
        ),
        "oxigraph serve-read-only": (
            [
                oxigraph,
                "serve-read-only",
                "--location",
                str(build / "oxigraph"),
                "--union-default-graph",
                "--bind",
                f"127.0.0.1:{bare_port}",
            ],
            f"http://127.0.0.1:{bare_port}/query",
        ),
    }
    results: dict[str, Result] = {}
    for name, (command, url) in runs.items():
        process = serve(command, url)
        try:
            measure(url, query, clients, 1.0, unique)  # warm-up: connections, caches, lazy imports
            before = server_cpu(process.pid)
            results[name] = measure(url, query, clients, seconds, unique)
            cpu = (server_cpu(process.pid) - before) / max(results[name].requests, 1)
        finally:
            stop(process)
        print(f"{name:26} {results[name].describe()}  server CPU {cpu * 1e6:5.0f} us/request")
    ours, bare = results["smartcity-kg /sparql"], results["oxigraph serve-read-only"]
    kind = "a new query text each request" if unique else "the same query text each request"
    print(f"ratio: {ours.rate / bare.rate:.2f}x of the bare server ({clients} clients, {seconds:g} s each, {kind})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--store", type=Path, help="published store folder: start and compare both servers")
    target.add_argument("--url", help="measure this running SPARQL endpoint only")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--query", default=QUERY)
    parser.add_argument("--unique", action="store_true", help="a different query text each request (no cache)")
    args = parser.parse_args()
    if args.url:
        print(measure(args.url, args.query, args.clients, args.seconds, args.unique).describe())
    else:
        compare(args.store, args.query, args.clients, args.seconds, args.unique)


if __name__ == "__main__":
    main()
