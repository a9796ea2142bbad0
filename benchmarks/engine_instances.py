"""CPU time of the competency questions and aggregates on one engine against several engines over the same store.

    python benchmarks/engine_instances.py --store /tmp/sr-bench/store --instances 1 2 4
    python benchmarks/engine_instances.py --store /tmp/sr-bench/store --instances 4 --routes served-any served-question

Each query worker opens the published store with an engine (and its caches) of its own, where bare Oxigraph's
threads share one. Here, in one process, the mix of `benchmarks/wrk.py` (every competency question bound to 20
things, and the aggregates) is evaluated on N engines opened read-only on the same store, after one round to warm
them, each query sent to an engine by a route:

- `turn`: query i on engine i mod N;
- `question`: every text of one question (its text with the IRIs bound into it blanked) on the same engine;
- `served-any`: as the service spreads them, N engines in server processes of `--per-process` workers, each query
  to a server process drawn at random (the one whose connection it came on), then to any of its workers;
- `served-question`: the same, then to its question's worker in that process.

Printed: milliseconds of CPU per query, for each N and route, each in a fresh process.
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
from lookup_floor import written
from serve import ROOT, draw_workload

ROUTES = ("turn", "question", "served-any", "served-question")
IRI = re.compile(r"<[^>]*>")


def router(route: str, instances: int, per_process: int) -> Callable[[int, str], int]:
    """The engine a query goes to, given its place in the mix and its text."""
    questions: dict[str, int] = {}
    draw = random.Random(7)  # the same draws for every run of a route

    def question(text: str, among: int) -> int:
        return questions.setdefault(IRI.sub("<>", text), len(questions)) % among

    def route_of(number: int, text: str) -> int:
        if route == "turn":
            return number % instances
        if route == "question":
            return question(text, instances)
        first = draw.randrange(instances // per_process) * per_process  # the server process's first worker
        return first + (question(text, per_process) if route == "served-question" else draw.randrange(per_process))

    return route_of


def per_query(store: Path, instances: int, route: str, *, per_process: int, rounds: int, cq_limit: float) -> float:
    workload = draw_workload(store, cq_limit)
    queries = [text for text, _ in (*workload.questions, *workload.aggregates)]
    location = str((store / "current" / "oxigraph").resolve())
    engines = [ox.Store.read_only(location) for _ in range(instances)]
    engine_of = router(route, instances, per_process)

    def run(times: int) -> float:
        began = time.process_time()
        for _ in range(times):
            for number, text in enumerate(queries):
                written(engines[engine_of(number, text)].query(text, use_default_graph_as_union=True))
        return (time.process_time() - began) / (times * len(queries)) * 1000

    run(1)  # every engine has now read what its share of the queries reads
    return run(rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, required=True, help="a published store (smartcity-kg build)")
    parser.add_argument("--instances", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--routes", nargs="+", choices=ROUTES, default=["turn"])
    parser.add_argument("--per-process", type=int, default=2, help="query workers per server process (served-*)")
    parser.add_argument("--repeat", type=int, default=1, help="measure every cell this many times, in turn")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cq-limit", type=float, default=1.5, help="leave out questions slower than this (s)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # one measurement, in this process
    args = parser.parse_args()
    if args.one is not None:
        figure = per_query(
            args.store,
            args.one,
            args.routes[0],
            per_process=args.per_process,
            rounds=args.rounds,
            cq_limit=args.cq_limit,
        )
        print(f"{figure:.1f}")
        return
    cells = [(count, route) for count in args.instances for route in args.routes]
    for count, route in cells:
        if route.startswith("served") and count % args.per_process:
            parser.error(f"{route} needs --instances in multiples of --per-process ({args.per_process})")
    figures: dict[tuple[int, str], list[str]] = {cell: [] for cell in cells}
    for _ in range(args.repeat):  # in turn, so that a change in the machine's load touches every cell alike
        for count, route in cells:
            command = [sys.executable, __file__, "--store", str(args.store), "--one", str(count)]
            command += ["--routes", route, "--per-process", str(args.per_process)]
            command += ["--rounds", str(args.rounds), "--cq-limit", str(args.cq_limit)]
            done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
            figures[count, route].append(done.stdout.strip())
    print("| engines | route | ms of CPU per query |\n|---:|---|---:|")
    for (count, route), measured in figures.items():
        print(f"| {count} | {route} | {', '.join(measured)} |")


if __name__ == "__main__":
    main()
