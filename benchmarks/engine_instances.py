"""CPU time of the competency questions and aggregates on one engine against several engines over the same store.

    python benchmarks/engine_instances.py --store /tmp/sr-bench/store --instances 1 2 4

Each query worker opens the published store with an engine (and its caches) of its own, where bare Oxigraph's
threads share one. Here, in one process, the mix of `benchmarks/wrk.py` (every competency question bound to 20
things, and the aggregates) is evaluated on N engines opened read-only on the same store, query i on engine i mod N,
after one round to warm them; printed: milliseconds of CPU per query, for each N, each N in a fresh process.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
from lookup_floor import written
from serve import ROOT, draw_workload


def per_query(store: Path, instances: int, rounds: int, cq_limit: float) -> float:
    workload = draw_workload(store, cq_limit)
    queries = [text for text, _ in (*workload.questions, *workload.aggregates)]
    location = str((store / "current" / "oxigraph").resolve())
    engines = [ox.Store.read_only(location) for _ in range(instances)]

    def run(times: int) -> float:
        began = time.process_time()
        for _ in range(times):
            for number, text in enumerate(queries):
                written(engines[number % instances].query(text, use_default_graph_as_union=True))
        return (time.process_time() - began) / (times * len(queries)) * 1000

    run(1)  # every engine has now read what its share of the queries reads
    return run(rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, required=True, help="a published store (smartcity-kg build)")
    parser.add_argument("--instances", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cq-limit", type=float, default=1.5, help="leave out questions slower than this (s)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # one measurement, in this process
    args = parser.parse_args()
    if args.one is not None:
        print(f"{per_query(args.store, args.one, args.rounds, args.cq_limit):.1f}")
        return
    print("| engines | ms of CPU per query |\n|---:|---:|")
    for count in args.instances:
        command = [sys.executable, __file__, "--store", str(args.store), "--one", str(count)]
        command += ["--rounds", str(args.rounds), "--cq-limit", str(args.cq_limit)]
        figure = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT).stdout.strip()
        print(f"| {count} | {figure} |")


if __name__ == "__main__":
    main()
