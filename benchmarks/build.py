"""Time and peak memory of each build step at three sizes of synthetic data (about 10k, 100k and 1M triples).

    python benchmarks/build.py                 # --alliances 20 200 2000, data and stores under a temporary folder
    python benchmarks/build.py --alliances 200 # one size

Each size runs in a fresh process, so its peak resident memory (ru_maxrss, which counts C allocations that
tracemalloc misses) is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from graph._convert import write_nquads
from graph.build import build_triples
from graph.generate import generate_data
from graph.iris import Minter
from graph.load import load_records
from graph.pipeline import load_ontology, without_cycle_collection
from graph.publish import publish_store
from graph.settings import Settings
from graph.validate import validate_triples

STEPS = ["load", "build", "validate", "sort quads", "dumps", "store"]


def measure(alliances: int, work: Path) -> dict[str, object]:
    """Run the pipeline step by step in this process; seconds per step and peak RSS after each (MB)."""
    data, store, namespace = work / "data", work / "store", Settings().namespace
    generate_data(alliances, data)
    seconds: dict[str, float] = {}
    peak: dict[str, float] = {}
    started = [time.perf_counter()]
    cpu_began = time.process_time()

    def done(step: str) -> None:
        now = time.perf_counter()
        seconds[step] = now - started[0]
        peak[step] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started[0] = now

    with without_cycle_collection():  # as the pipeline does
        records = load_records(data)
        done("load")
        triples = build_triples(records, namespace)
        done("build")
    files = len(records.files)
    del records  # as the pipeline does: only the triples are checked and published
    report = validate_triples(triples, namespace)
    assert report.conforms, report.violations[:3]
    done("validate")
    mint = Minter(namespace)
    nquads = work / "graph.nq"
    write_nquads({str(mint.graph("data")): triples, str(mint.graph("ontology")): load_ontology()}, nquads)
    del triples
    done("sort quads")

    def step(name: str) -> None:
        if name == "loading the store":
            done("dumps")

    manifest = publish_store(
        nquads, store, namespace=namespace, modified="2000-01-01T00:00:00+00:00", data_files=files, step=step
    )
    done("store")
    # CPU of every thread of the process (the engine's and zlib's too): on a shared machine the wall-clock time
    # also counts the waiting for a core.
    return {
        "alliances": alliances,
        "triples": manifest.triples,
        "seconds": seconds,
        "peak_mb": peak,
        "cpu": time.process_time() - cpu_began,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alliances", type=int, nargs="+", default=[20, 200, 2000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # the child process measuring one size
    args = parser.parse_args()
    if args.one is not None:
        with tempfile.TemporaryDirectory() as work:
            print(json.dumps(measure(args.one, Path(work))))
        return
    rows = []
    load_before = os.getloadavg()
    for alliances in args.alliances:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(alliances)], check=True, capture_output=True, text=True
        ).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    print(f"$ python benchmarks/build.py --alliances {' '.join(map(str, args.alliances))}\n")
    print(
        f"load average before: {' '.join(f'{x:.2f}' for x in load_before)}; after: "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}\n"
    )
    print("| alliances | triples | " + " | ".join(STEPS) + " | total | CPU | peak RSS |")
    print("|---:|---:|" + "---:|" * (len(STEPS) + 3))
    for row in rows:
        seconds, peak = row["seconds"], row["peak_mb"]
        cells = [f"{seconds[s]:.1f} s" for s in STEPS]
        print(
            f"| {row['alliances']} | {row['triples']:,} | "
            + " | ".join(cells)
            + f" | {sum(seconds.values()):.1f} s | {row['cpu']:.1f} s | {max(peak.values()):,.0f} MB |"
        )


if __name__ == "__main__":
    main()
