"""Profile panels' query time beside the thing's description (the page's other queries), on a published store."""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

import pyoxigraph as ox

from api.linked_data import describe as describing
from api.linked_data.profiles import PROFILE_KINDS, load_panels
from graph.store import EmbeddedStore, open_embedded


def _things(store: EmbeddedStore, kind: str, namespace: str, count: int, seed: int) -> list[str]:
    prefix = f"{namespace}id/{kind}/"
    solutions = store.query(f'SELECT DISTINCT ?s WHERE {{ ?s a ?c FILTER(STRSTARTS(STR(?s), "{prefix}")) }}')
    assert isinstance(solutions, ox.QuerySolutions)
    found = sorted(row["s"].value for row in solutions if "#" not in row["s"].value)
    return random.Random(seed).sample(found, min(count, len(found)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("store", type=Path, help="a folder holding a published store (smartcity-kg build)")
    parser.add_argument("--things", type=int, default=20, help="things of each kind to time")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    store = open_embedded(args.store)
    namespace = store.manifest.namespace
    print(f"{store.manifest.triples} triples; median and slowest of {args.things} things per kind, milliseconds")
    print(f"{'kind':9} {'panel / reference':28} {'median':>8} {'max':>8}")
    for kind in PROFILE_KINDS:
        things = _things(store, kind, namespace, args.things, args.seed)
        for panel in (*load_panels(kind), None):
            times = []
            for iri in things:
                started = time.perf_counter()
                if panel is None:  # the reference: the description every page is built from, uncached
                    describing._query(store, iri)
                else:
                    solutions = store.query(panel.for_thing(iri))
                    assert isinstance(solutions, ox.QuerySolutions)
                    list(solutions)
                times.append((time.perf_counter() - started) * 1000)
            name = panel.key if panel else "(description, reference)"
            print(f"{kind:9} {name:28} {statistics.median(times):8.1f} {max(times):8.1f}")


if __name__ == "__main__":
    main()
