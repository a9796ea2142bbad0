"""What recording one request's metrics costs: the service's own registry against prometheus_client's.

    python benchmarks/metrics_recording.py      (needs `pip install prometheus-client`)

Per request the service counts it (method, route, status), observes its latency (13 buckets) and moves the
in-flight gauge up and down. Three ways, in one run: `api.http.observability.Metrics` (dictionaries; another
process's figures come from a snapshot file written once a second), prometheus_client in its multiprocess mode
(what several server processes need: every observation is written to a memory-mapped file), and prometheus_client
in one process, for reference. Also: what rendering /metrics costs after these requests.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, values
from prometheus_client import multiprocess as mp

from api.http.observability import BUCKETS, Metrics

ROUTES = ("/sparql", "/doc/{kind}/{name}", "/api/v1/{type}", "/health")
REQUESTS = 200_000


def per_request(record: Callable[[int], None]) -> float:
    """Microseconds `record` takes per request, best of five rounds."""
    best = float("inf")
    for _ in range(5):
        began = time.perf_counter()
        for i in range(REQUESTS // 5):
            record(i)
        best = min(best, (time.perf_counter() - began) / (REQUESTS // 5))
    return best * 1e6


def ours(shared: Path) -> tuple[float, float]:
    metrics = Metrics(shared)

    def record(i: int) -> None:
        metrics.in_flight += 1
        metrics.in_flight -= 1
        metrics.observe("GET", ROUTES[i & 3], 200, 0.002)

    cost = per_request(record)
    metrics.write_snapshot()
    began = time.perf_counter()
    metrics.render()
    return cost, (time.perf_counter() - began) * 1e3


def prometheus(multiprocess: bool) -> tuple[float, float]:
    # The library's own choice, made from PROMETHEUS_MULTIPROC_DIR when it is imported, made here for each row.
    values.ValueClass = values.MultiProcessValue() if multiprocess else values.MutexValue
    registry = CollectorRegistry()
    requests = Counter("requests", "", ("method", "route", "status"), registry=registry)
    latency = Histogram("duration_seconds", "", ("route",), buckets=BUCKETS, registry=registry)
    in_flight = Gauge("in_flight", "", registry=registry, multiprocess_mode="livesum")

    def record(i: int) -> None:
        in_flight.inc()
        in_flight.dec()
        route = ROUTES[i & 3]
        requests.labels("GET", route, "200").inc()
        latency.labels(route).observe(0.002)

    cost = per_request(record)
    if multiprocess:
        registry = CollectorRegistry()
        mp.MultiProcessCollector(registry)
    began = time.perf_counter()
    generate_latest(registry)
    return cost, (time.perf_counter() - began) * 1e3


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        rows = {"service's registry (snapshot file)": ours(Path(folder))}
    with tempfile.TemporaryDirectory() as folder:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
        rows["prometheus_client, multiprocess"] = prometheus(multiprocess=True)
    rows["prometheus_client, one process"] = prometheus(multiprocess=False)
    reference = rows["service's registry (snapshot file)"][0]
    print(f"{'recording one request':40} {'us/request':>11} {'x ours':>7} {'render /metrics ms':>19}")
    for name, (cost, render) in rows.items():
        print(f"{name:40} {cost:11.2f} {cost / reference:7.1f} {render:19.2f}")


if __name__ == "__main__":
    main()
