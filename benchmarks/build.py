"""Time and peak memory of each step of the build at three sizes of synthetic data (about 10k, 100k and 1M triples).

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

from graph.pipeline import run_build
from graph.pipeline.generate import generate_data
from graph.settings import Settings

# The pipeline's steps (as `smartcity-kg build` names them) under the table's headings.
STEPS = {
    "loading the curated data": "load",
    "building the graph and sorting the quads": "build, sort quads",
    "checking the graph with the SHACL shapes": "validate",
    "writing dumps": "dumps",
    "loading the store": "store",
    "comparing with the previous release": "release",
    "switching to the new build": "release",
}
COLUMNS = list(dict.fromkeys(STEPS.values()))


def measure(alliances: int, work: Path) -> dict[str, object]:
    """Run the whole build (`run_build`, as `smartcity-kg build` does) in this process; seconds per step and the
    peak RSS after each (MB)."""
    data, store = work / "data", work / "store"
    generate_data(alliances, data)
    seconds = dict.fromkeys(COLUMNS, 0.0)
    cpu = dict.fromkeys(COLUMNS, 0.0)
    peak = dict.fromkeys(COLUMNS, 0.0)
    current = [""]
    started = [time.perf_counter(), time.process_time()]

    def step(name: str) -> None:
        now = [time.perf_counter(), time.process_time()]
        if current[0]:
            seconds[current[0]] += now[0] - started[0]
            cpu[current[0]] += now[1] - started[1]
            peak[current[0]] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        current[0], started[:] = STEPS[name] if name else "", now

    cpu_began = time.process_time()
    manifest, report = run_build(data, store, Settings().namespace, step)
    step("")
    assert report.conforms, report.violations[:3]
    # CPU of every thread of the process (the engine's and zlib's too): on a shared machine the wall-clock time
    # also counts the waiting for a core.
    return {
        "alliances": alliances,
        "triples": manifest.triples,
        "seconds": seconds,
        "cpu_seconds": cpu,
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
        # Its errors pass through: a size that fails says why.
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(alliances)], check=True, stdout=subprocess.PIPE, text=True
        ).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    print(f"$ python benchmarks/build.py --alliances {' '.join(map(str, args.alliances))}\n")
    print(
        f"load average before: {' '.join(f'{x:.2f}' for x in load_before)}; after: "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}\n"
    )
    print("| alliances | triples | " + " | ".join(COLUMNS) + " | total | CPU | peak RSS |")
    print("|---:|---:|" + "---:|" * (len(COLUMNS) + 3))
    for row in rows:
        seconds, cpu, peak = row["seconds"], row["cpu_seconds"], row["peak_mb"]
        # Each step's wall-clock time, and in brackets its CPU time (of every thread of the process).
        cells = [f"{seconds[s]:.1f} s ({cpu[s]:.1f})" for s in COLUMNS]
        print(
            f"| {row['alliances']} | {row['triples']:,} | "
            + " | ".join(cells)
            + f" | {sum(seconds.values()):.1f} s | {row['cpu']:.1f} s | {max(peak.values()):,.0f} MB |"
        )


if __name__ == "__main__":
    main()
