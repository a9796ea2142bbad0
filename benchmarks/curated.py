"""Wall-clock time of `smartcity-kg validate` and `build` on the curated data, beside the data of a reference commit.

    python benchmarks/curated.py               # this checkout's data/ against data/ as of `dates`
    python benchmarks/curated.py --ref HEAD~5  # against another commit

Both run as the command line runs them (a fresh process each, the real SHACL check and store), one after the other
in the same run, so the reference shows what the machine's load does to the numbers.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "from api.cli import main; raise SystemExit(main())"]


def _export(ref: str, into: Path) -> Path:
    """data/ as of `ref`, written to `into` (git archive, so the working tree is not touched)."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", ref, "data"], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "data"


def _timed(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([*CLI, *args], check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default="dates", help="commit whose data/ is the reference (default: dates)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cases = [
            ("curated (this checkout)", ROOT / "data"),
            (f"reference ({args.ref})", _export(args.ref, work / "ref")),
        ]
        print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        print(f"{'data':<28} {'files':>5} {'validate s':>11} {'build s':>9}")
        for name, data in cases:
            files = sum(1 for _ in data.rglob("*.yaml"))
            validate = _timed(["validate", "--data", str(data)])
            build = _timed(["build", "--data", str(data), "--store", str(work / f"store-{files}")])
            print(f"{name:<28} {files:>5} {validate:>11.1f} {build:>9.1f}")
        print(f"load average after:  {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
