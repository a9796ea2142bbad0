"""Time and length of answers cut at the byte limit by a query worker, this tree's against an earlier tree's.

    git show REV:api/sparql/worker.py > /tmp/before_worker.py
    python benchmarks/cut_answers.py --before /tmp/before_worker.py

An in-memory store of 100,000 triples (5,000 subjects, 7 predicates, literals of 14 to 67 characters); each
query's answer, several megabytes in full, is cut at `--limit` bytes (1 MiB) in one format. Printed per format and
tree: the best of `--rounds` wall-clock times of `answer` (evaluation, writing and the cut) and the bytes of the
cut answer.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from types import ModuleType

import pyoxigraph as ox

from api.sparql import worker

QUERIES = {
    "ttl": ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", None, "ttl"),
    "nt": ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", None, "nt"),
    "json": ("SELECT * WHERE { ?s ?p ?o }", "json", None),
    "csv": ("SELECT * WHERE { ?s ?p ?o }", "csv", None),
}
PREFIXES = {"ex": "http://example.org/"}


def _store() -> ox.Store:
    store = ox.Store()
    for n in range(100_000):
        subject = ox.NamedNode(f"http://example.org/t/{n % 5000}")
        value = ox.Literal(f"value number {n} " + "x" * (n % 50))
        store.add(ox.Quad(subject, ox.NamedNode(f"http://example.org/p{n % 7}"), value))
    return store


def _load(path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location("before_worker", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="an earlier tree's api/sparql/worker.py")
    parser.add_argument("--limit", type=int, default=2**20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    store = _store()
    trees = {"before": _load(args.before), "this tree": worker}
    for name, (query, results, graph) in QUERIES.items():
        job = (query, "http://example.org/", None, None, True, results, graph, 100_000, args.limit)
        for tree, module in trees.items():
            best, payload = float("inf"), b""
            for _ in range(args.rounds):
                began = time.perf_counter()
                _, payload, _, truncated = module.answer(lambda: store, job, PREFIXES)
                best = min(best, time.perf_counter() - began)
            print(f"{name:5} {tree:9}: {best * 1000:7.1f} ms, {len(payload):9,} bytes, truncated={truncated}")


if __name__ == "__main__":
    main()
