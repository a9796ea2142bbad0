"""Time and peak memory of computing a release's changes: the merge of two sorted dumps against holding both.

    python benchmarks/changes.py --store STORE   # the two newest releases of a store built twice

Each way runs in a fresh process, so its peak resident memory (ru_maxrss) is its own. The reference reads both
dumps into sets of lines and takes their differences, which is what comparing two graphs in memory costs at least.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from graph.published import DUMP_FILES
from graph.releases import ADDED, REMOVED, dump_name, read_releases, release_dir, write_patch


def merge(old: Path, new: Path, out: Path) -> int:
    """The build's way: both dumps walked side by side; returns the lines written."""
    added, removed, _ = write_patch(old, new, out)
    return added + removed


def in_memory(old: Path, new: Path, out: Path) -> int:
    """The reference: both dumps held as sets of lines."""
    before = set(gzip.decompress(old.read_bytes()).splitlines())
    after = set(gzip.decompress(new.read_bytes()).splitlines())
    plus, minus = sorted(after - before), sorted(before - after)
    for name, lines in ((ADDED, plus), (REMOVED, minus)):
        with gzip.GzipFile(out / name, "wb", 9, mtime=0) as file:
            file.writelines(line + b"\n" for line in lines)
    return len(plus) + len(minus)


WAYS = {"merge (build)": merge, "sets in memory": in_memory}


def run_one(way: str, old: Path, new: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        lines = WAYS[way](old, new, Path(out))
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "lines": lines}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True, help="a store with at least two releases")
    parser.add_argument("--way", choices=list(WAYS), help=argparse.SUPPRESS)  # one way, in the child process
    args = parser.parse_args()
    newer, older = read_releases(args.store)[:2]
    dumps = [release_dir(args.store) / r.version / dump_name(r.version, DUMP_FILES["nq.gz"]) for r in (older, newer)]
    if args.way:
        print(json.dumps(run_one(args.way, *dumps)))
        return
    print(f"{older.version} ({older.triples} quads) -> {newer.version} ({newer.triples} quads)")
    print(f"{'way':<16} {'seconds':>8} {'peak MB':>8} {'lines':>8}")
    for way in WAYS:
        out = subprocess.run(
            [sys.executable, __file__, "--store", str(args.store), "--way", way],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        result = json.loads(out)
        print(f"{way:<16} {result['seconds']:>8.2f} {result['peak_mb']:>8.0f} {result['lines']:>8}")


if __name__ == "__main__":
    main()
