"""How well /reconcile matches spreadsheet names: precision of `match: true` and recall in the top 3, on a corpus.

    python benchmarks/reconcile_quality.py --url http://127.0.0.1:8000           # a running service
    python benchmarks/reconcile_quality.py --store STORE_DIR [--port 8000]       # starts one on that store

The corpus (benchmarks/reconcile-corpus.yaml) names each thing by its key; a key the data has since retired is
followed to its successor (/api/v1/lookup?id=...), a key that is gone is reported. Queries go over HTTP in batches
of ten, as OpenRefine sends them. Prints each miss, then the figures:
- precision: of the candidates marked `match: true`, the share that are the expected thing (a `match: true` on a
  name that should match nothing, or on one marked `auto: false`, counts against it);
- recall in the top 3: of the names that name a thing, the share whose thing is among the first three candidates;
- auto-matched: of the names that name a thing, the share matched without a look.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).with_name("reconcile-corpus.yaml")
BATCH = 10


@dataclass(frozen=True)
class Case:
    name: str
    expect: str | None
    type: str | None = None
    properties: tuple[tuple[str, str], ...] = ()
    auto: bool = True  # False: the expected thing must be offered, but no candidate matched without a look

    def query(self) -> dict[str, Any]:
        query: dict[str, Any] = {"query": self.name, "limit": 3}
        if self.type:
            query["type"] = self.type
        if self.properties:
            query["properties"] = [{"pid": pid, "v": value} for pid, value in self.properties]
        return query


@dataclass
class Report:
    cases: int = 0
    positives: int = 0
    in_top3: int = 0
    matched: int = 0  # candidates marked match: true
    matched_right: int = 0
    missing: list[str] = field(default_factory=list)  # expected keys the data no longer has
    misses: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.matched_right / self.matched if self.matched else 1.0

    @property
    def recall_top3(self) -> float:
        return self.in_top3 / self.positives if self.positives else 1.0

    @property
    def auto_matched(self) -> float:
        return self.matched_right / self.positives if self.positives else 1.0


def load_corpus(path: Path = CORPUS) -> list[Case]:
    rows = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        Case(
            str(row["name"]),
            row["expect"],
            row.get("type"),
            tuple((pid, str(value)) for pid, value in (row.get("properties") or {}).items()),
            bool(row.get("auto", True)),
        )
        for row in rows
    ]


def _current(client: httpx.Client, ident: str) -> str | None:
    """The id the corpus's `ident` has now: itself, its successor when the data retired it, or None."""
    response = client.get("/api/v1/lookup", params={"id": ident}, follow_redirects=False)
    if response.status_code == 200:
        return ident
    if response.status_code == 301:
        return response.headers["location"].removeprefix("/api/v1/")
    return None


def evaluate(client: httpx.Client, cases: list[Case]) -> Report:
    """Every case through POST /reconcile (form field `queries`), scored against its expected thing."""
    report = Report(cases=len(cases))
    expected = {case.expect: _current(client, case.expect) for case in cases if case.expect}
    for start in range(0, len(cases), BATCH):
        batch = cases[start : start + BATCH]
        queries = {f"q{number}": case.query() for number, case in enumerate(batch)}
        response = client.post("/reconcile", data={"queries": json.dumps(queries)})
        response.raise_for_status()
        answers = response.json()
        for number, case in enumerate(batch):
            result = answers[f"q{number}"]["result"]
            ids = [candidate["id"] for candidate in result]
            matches = [candidate["id"] for candidate in result if candidate.get("match")]
            want = expected.get(case.expect) if case.expect else None
            if case.expect and want is None:
                report.missing.append(case.expect)
                continue
            report.matched += len(matches)
            # Where no match is wanted, even the expected thing marked `match: true` counts against precision.
            right = want if case.auto else None
            report.matched_right += sum(1 for ident in matches if ident == right)
            if want is not None:
                report.positives += 1
                report.in_top3 += want in ids[:3]
            wrong = [ident for ident in matches if ident != right]
            if wrong or (want is not None and (want not in ids[:3] or (case.auto and not matches))):
                shown = ", ".join(f"{c['id']} {c['score']}{' match' if c.get('match') else ''}" for c in result)
                report.misses.append(f"{case.name!r} ({case.type or 'any type'}) expected {want}: {shown or '-'}")
    return report


def print_report(report: Report) -> None:
    for line in report.misses:
        print(f"  not matched at once: {line}")
    for ident in report.missing:
        print(f"  gone from the data: {ident}")
    print("\n| corpus | names | naming a thing | precision of match:true | recall in top 3 | auto-matched |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {CORPUS.name} | {report.cases} | {report.positives} | {report.precision:.1%} "
        f"({report.matched_right}/{report.matched}) | {report.recall_top3:.1%} ({report.in_top3}/{report.positives})"
        f" | {report.auto_matched:.1%} |"
    )
    print("goals: precision >= 95 %, recall in top 3 >= 90 %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="base URL of a running service")
    where.add_argument("--store", type=Path, help="a published store to serve for the measurement")
    parser.add_argument("--port", type=int, default=8000, help="loopback port for the server started on --store")
    args = parser.parse_args()
    process = None
    url = args.url
    if args.store is not None:
        url = f"http://127.0.0.1:{args.port}"
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--store", str(args.store), "--port", str(args.port)],
            cwd=ROOT,
            stderr=subprocess.DEVNULL,
        )
        _wait(url)
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            print_report(evaluate(client, load_corpus()))
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=10)


def _wait(url: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the service at {url} did not start")


if __name__ == "__main__":
    main()
