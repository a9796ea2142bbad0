"""Latency of /reconcile for batches of ten spreadsheet names over real HTTP, beside the label search as reference.

    python benchmarks/reconcile_bench.py [--store STORE_DIR | --alliances N] [--port 8000] [--batches 200]

Starts the service on the store (the curated data built afresh by default; `--alliances N` builds synthetic data
from `smartcity-kg generate` instead), times the first batch (which waits for the build's reconciliation index),
then sends, one after the other from one keep-alive client, as OpenRefine does:
- `POST /reconcile` with a batch of ten names of benchmarks/reconcile-corpus.yaml (form field `queries`);
- the same batch by `GET /reconcile?queries=...`;
- as the reference, the same ten names as ten `GET /api/v1/search?q=...` (the existing label search), timed
  together as one batch, and `GET /health`, the floor of a request on this server.
Prints p50, p95 and the largest time of each in milliseconds. The goal is a p95 under 100 ms for a batch.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

# Run as a script from anywhere: the checkout (which holds benchmarks/) must be importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.reconcile_quality import load_corpus

ROOT = Path(__file__).resolve().parent.parent
BATCH = 10


def _batches() -> list[dict[str, dict[str, object]]]:
    cases = load_corpus()
    return [
        {f"q{number}": case.query() for number, case in enumerate(cases[start : start + BATCH])}
        for start in range(0, len(cases) - BATCH + 1, BATCH)
    ]


def _percentile(times: list[float], share: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _timed(call: Callable[[], None], rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        call()
        times.append((time.perf_counter() - began) * 1000)
    return times


def measure(url: str, batches: int) -> None:
    work = _batches()
    with httpx.Client(base_url=url, timeout=120) as client:
        began = time.perf_counter()
        client.post("/reconcile", data={"queries": json.dumps(work[0])}).raise_for_status()
        cold = (time.perf_counter() - began) * 1000
        turn = iter(range(10**9))

        def post() -> None:
            batch = work[next(turn) % len(work)]
            client.post("/reconcile", data={"queries": json.dumps(batch)}).raise_for_status()

        def get() -> None:
            batch = work[next(turn) % len(work)]
            client.get("/reconcile", params={"queries": json.dumps(batch)}).raise_for_status()

        def search() -> None:
            for query in work[next(turn) % len(work)].values():
                client.get("/api/v1/search", params={"q": str(query["query"])[:200] or "x"})

        def health() -> None:
            client.get("/health").raise_for_status()

        rows = [
            (f"POST /reconcile, {BATCH} names", _timed(post, batches)),
            (f"GET /reconcile, {BATCH} names", _timed(get, batches)),
            (f"reference: {BATCH} x GET /api/v1/search", _timed(search, batches)),
            ("reference: GET /health", _timed(health, batches)),
        ]
        triples = client.get("/health").json().get("triples")
    print(f"\nstore: {triples} triples; first batch (builds the reconciliation index): {cold:.0f} ms\n")
    print("| request | batches | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|---|")
    for name, times in rows:
        print(
            f"| {name} | {len(times)} | {statistics.median(times):.1f} | {_percentile(times, 0.95):.1f} | "
            f"{max(times):.1f} |"
        )
    print("goal: p95 of a batch of ten < 100 ms")


def _store(args: argparse.Namespace, work: Path) -> Path:
    if args.store is not None:
        store: Path = args.store
        return store
    kg = [sys.executable, "-m", "api.cli"]
    data = ROOT / "data"
    if args.alliances:
        data = work / "data"
        subprocess.run(
            [*kg, "generate", "--alliances", str(args.alliances), "--out", str(data)],
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
    subprocess.run(
        [*kg, "build", "--data", str(data), "--store", str(work / "store")],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    return work / "store"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--store", type=Path, help="a published store (default: the curated data, built afresh)")
    source.add_argument("--alliances", type=int, help="build synthetic data of this many alliances instead")
    parser.add_argument("--port", type=int, default=8000, help="loopback port for the server")
    parser.add_argument("--batches", type=int, default=200, help="batches sent for each row of the table")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = _store(args, Path(folder))
        url = f"http://127.0.0.1:{args.port}"
        command = [sys.executable, "-m", "api.cli", "serve", "--store", str(store), "--port", str(args.port)]
        server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(600):
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            measure(url, args.batches)
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
