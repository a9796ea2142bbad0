"""/sparql under a native load generator (wrk), side by side with a bare `oxigraph serve-read-only` on one store.

    python benchmarks/wrk.py --store /tmp/bench-1m            # a published store (see `smartcity-kg build`)
    python benchmarks/wrk.py --alliances 2000                 # or generate and build one (about 1M triples)
    python benchmarks/wrk.py --store /tmp/bench-1m --granian  # also our app under granian (pip install granian)
    python benchmarks/wrk.py --store /tmp/bench-1m --baseline /tmp/before  # also our app from another source tree

Both servers run at once on the same store; each cell (a class of query, a number of connections) is measured on
one and then on the other, back to back, the order alternating from cell to cell, so the noise of a shared machine
falls on both. wrk's Lua scripts give every request a text of its own (a trailing comment with the thread and a
counter: no answer cache can serve it) or cycle through a fixed set of texts (what the answer cache is for).
Printed: a Markdown table per class with requests per second, p50 and p99 latency, errors and the ratio ours/ox;
the start-up time to a healthy endpoint; the memory of every process of each server after the run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
from serve import AGGREGATES, ROOT, SELECT_TYPES, Server, Workload, draw_workload, start

from api.http.server import SERVE_SETTINGS
from graph.settings import Settings

CLASSES = ("lookup", "cq + aggregate")
Row = tuple[str, str, int, dict[str, "Cell"]]  # class of queries, texts, connections, each server's cell
DONE = """
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"duration_us":%d,"errors":%d,"non_2xx":%d,"timeouts":%d,'
    .. '"p50_us":%d,"p99_us":%d}\\n', summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout + e.status, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def lua_script(queries: list[tuple[str, str]], path: str, *, unique: bool) -> str:
    """A wrk script POSTing `queries` (text, Accept) in turn to `path`; with `unique`, each with its own comment, which
    also differs from the texts of every earlier run of the script."""
    entries = []
    for text, accept in queries:
        level = "=" * next(n for n in range(1, 10) if f"]{'=' * n}]" not in text)
        entries.append(f'  {{[{level}[{text}]{level}], "{accept}"}},')
    suffix = 'body = body .. "\\n# " .. run .. "-" .. id .. "-" .. counter' if unique else ""
    return f"""
local queries = {{
{chr(10).join(entries)}
}}
local n = #queries
local counter = 0
local next_id = 1
-- A random mark, drawn in every thread as it starts: the counters restart with every run of wrk, the mark does not
local source = io.open("/dev/urandom", "rb")
local run = (source:read(8):gsub(".", function(c) return string.format("%02x", c:byte()) end))
source:close()
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end
function request()
  counter = counter + 1
  local q = queries[((id * 7919 + counter) % n) + 1]
  local body = q[1]
  {suffix}
  return wrk.format("POST", "{path}", {{["Content-Type"] = "application/sparql-query", ["Accept"] = q[2]}}, body)
end
{DONE}"""


def class_queries(workload: Workload, name: str) -> list[tuple[str, str]]:
    if name == "lookup":
        return workload.lookups
    mix: list[tuple[str, str]] = []  # three competency questions to one aggregate
    for index, question in enumerate(workload.questions):
        mix.append(question)
        if index % 3 == 2:
            mix.append((AGGREGATES[(index // 3) % len(AGGREGATES)], SELECT_TYPES))
    return mix


@dataclass
class Cell:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float
    cpu_seconds: float = 0.0  # processor time the server (all its processes) spent during the cell

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_per_request_ms(self) -> float:
        """What a request costs the server in processor time: unlike the rate, it hardly depends on how much of
        the shared machine's time the server got."""
        return 1000 * self.cpu_seconds / self.requests if self.requests else 0.0


def run_wrk(port: int, script: Path, connections: int, seconds: float) -> Cell:
    done = subprocess.run(
        [
            "wrk",
            "-t",
            "2",
            "-c",
            str(connections),
            "-d",
            f"{seconds:g}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(line for line in done.stdout.splitlines() if line.startswith('{"requests"'))
    found = json.loads(line)
    return Cell(
        found["requests"] - found["non_2xx"],
        found["duration_us"] / 1e6,
        found["errors"],
        found["p50_us"] / 1000,
        found["p99_us"] / 1000,
    )


def cpu_seconds(server: Server) -> float:
    """Processor time (user and system) used so far by a server and every process it started that still runs."""
    parent = psutil.Process(server.process.pid)
    total = 0.0
    for process in (parent, *parent.children(recursive=True)):
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def measure(server: Server, script: Path, connections: int, seconds: float) -> Cell:
    """wrk against `server`, with the processor time the server spent meanwhile (until it answered what wrk left
    in flight)."""
    began = cpu_seconds(server)
    cell = run_wrk(server.port, script, connections, seconds)
    wait_idle(server)
    cell.cpu_seconds = cpu_seconds(server) - began
    return cell


def _metric(server: Server, name: str) -> int | None:
    """A figure of our server's /metrics (all its processes added up), None for other servers."""
    if server.sparql_path != "/sparql":
        return None
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("GET", "/metrics")
    metrics = connection.getresponse().read().decode()
    connection.close()
    found = re.search(rf"^{name} (\d+)$", metrics, re.MULTILINE)
    return int(found.group(1)) if found else None


def wait_idle(server: Server, timeout: float = 120) -> None:
    """Wait until our server has answered what wrk left in flight when it stopped (queries still queued for a
    worker would otherwise take the next cell's CPU). Bare Oxigraph does not say; it is given the same pause."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(1.5)  # every server process writes its figures each second
        in_flight = _metric(server, "smartcity_kg_http_requests_in_flight")
        if in_flight is None or in_flight <= 1:  # the scrape itself
            return


def wait_ready(server: Server, processes: int, timeout: float = 120) -> float:
    """Seconds from a healthy /health (as soon as the first process answers) until every process has started."""
    began = time.monotonic()
    while time.monotonic() < began + timeout:
        if (_metric(server, "smartcity_kg_server_processes") or processes) >= processes:
            break
        time.sleep(0.05)
    return time.monotonic() - began


def memory(server: Server) -> tuple[float, float, int, str]:
    """(RSS, PSS) in MB of a server and every process it started, how many processes that is, and the PSS of
    each kind of process (the query workers apart from the rest)."""
    parent = psutil.Process(server.process.pid)
    family = [parent, *parent.children(recursive=True)]
    rss = pss = 0
    kinds: dict[str, list[float]] = {}
    for process in family:
        info = process.memory_full_info()
        rss, pss = rss + info.rss, pss + info.pss
        kind = "query workers" if any(part.endswith("worker.py") for part in process.cmdline()) else "the others"
        kinds.setdefault(kind, []).append(info.pss / 2**20)
    parts = ", ".join(
        f"{kind} {sum(sizes):,.0f} ({' + '.join(f'{size:,.0f}' for size in sizes)})"
        for kind, sizes in sorted(kinds.items())
    )
    return rss / 2**20, pss / 2**20, len(family), parts


Readings = list[tuple[Server, tuple[float, float, int, str]]]


def memory_after(servers: list[Server]) -> tuple[Readings, Readings, float]:
    """Each server's memory right after the run, then after a rest: our query workers idle for
    `worker_idle_seconds` give their caches back (no second reading when that is 0)."""
    measured = [(server, memory(server)) for server in servers]
    rest = Settings().worker_idle_seconds
    if rest <= 0:
        return measured, [], rest
    print(f"resting {rest:g} s", file=sys.stderr, flush=True)
    time.sleep(rest * 1.25 + 5)
    return measured, [(server, memory(server)) for server in servers], rest


def start_servers(
    store: Path, port: int, processes: int | None, *, granian: bool, baseline: Path | None = None
) -> list[Server]:
    """Ours (uvicorn, as `smartcity-kg serve` runs it), optionally our app under granian and our app from the
    source tree `baseline` (an earlier version, "before": a change measured in the same run as what it changes),
    and bare Oxigraph."""
    # Every wrk connection comes from one address: the per-client share of query time, its concurrency and the
    # queue bound would measure the limits rather than the speed, so they are raised for the run.
    env = {
        "SMARTCITY_KG_CLIENT_QUERY_SECONDS": "1000000",
        "SMARTCITY_KG_MAX_PENDING_QUERIES": "256",
        "SMARTCITY_KG_CLIENT_CONCURRENT_QUERIES": "1000",
    }
    if processes is not None:
        env["SMARTCITY_KG_SERVER_PROCESSES"] = str(processes)
    binaries = Path(sys.executable).parent
    kg = [str(binaries / "smartcity-kg"), "serve", "--store", str(store)]
    servers = [start("ours", [*kg, "--port", str(port)], port, health="/health", sparql_path="/sparql", env=env)]
    count = processes or len(os.sched_getaffinity(0))
    servers[0].started_in += wait_ready(servers[0], count)  # start-up: until every process answers
    if baseline is not None:
        command = [*kg, "--port", str(port + 3)]
        before = {**env, "PYTHONPATH": str(baseline.resolve())}  # its modules before this tree's
        servers.insert(0, start("before", command, port + 3, health="/health", sparql_path="/sparql", env=before))
        servers[0].started_in += wait_ready(servers[0], count)
    if granian:
        # The same app and settings as `serve` hands its processes (api.app.serve_app), served by granian.
        settings = Settings(
            store=store, client_query_seconds=1e6, max_pending_queries=256, client_concurrent_queries=1000
        )
        per_process = settings.model_copy(update={"query_workers": -(-settings.query_workers // count)})
        command = [
            str(binaries / "granian"),
            "--interface",
            "asgi",
            "--factory",
            "--workers",
            str(count),
            "--loop",
            "uvloop",
            "--host",
            "127.0.0.1",
            "--port",
            str(port + 2),
            "--no-access-log",
            "--log-level",
            "warning",
            "api.app:serve_app",
        ]
        servers.append(
            start(
                "granian",
                command,
                port + 2,
                health="/health",
                sparql_path="/sparql",
                env={**env, SERVE_SETTINGS: per_process.model_dump_json()},
            )
        )
    binary = shutil.which("oxigraph") or str(binaries / "oxigraph")
    location = str((store / "current" / "oxigraph").resolve())
    command = [
        binary,
        "serve-read-only",
        "--location",
        location,
        "--bind",
        f"127.0.0.1:{port + 1}",
        "--union-default-graph",
    ]
    servers.append(start("oxigraph", command, port + 1, health="/query?query=ASK%7B%7D", sparql_path="/query"))
    return servers


def ensure_store(store: Path | None, alliances: int, work: Path) -> Path:
    if store is not None:
        return store
    kg = str(Path(sys.executable).parent / "smartcity-kg")
    subprocess.run([kg, "generate", "--alliances", str(alliances), "--out", str(work / "data")], check=True)
    subprocess.run([kg, "build", "--data", str(work / "data"), "--store", str(work / "store")], check=True)
    return work / "store"


def report(
    store: Path,
    triples: int | None,
    workload: Workload,
    rows: list[Row],
    *,
    load_before: tuple[float, float, float],
    servers: Readings,
    rested: Readings,
    rest: float,
) -> None:
    print(
        f"# /sparql under wrk, {time.strftime('%Y-%m-%d %H:%M %Z')}, {platform.node()}, "
        f"{len(os.sched_getaffinity(0))} cores, {psutil.virtual_memory().total / 2**30:.0f} GB"
    )
    print(f"$ python benchmarks/wrk.py {' '.join(sys.argv[1:])}")
    print(f"store: {store} ({triples:,} triples)" if triples else f"store: {store}")
    print(
        f"load average before: {' '.join(f'{x:.2f}' for x in load_before)}; after: "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}\n"
    )
    names = [server.name for server, _ in servers]
    others = [name for name in names if name != "oxigraph"]
    print(
        "| queries | texts | conn. | "
        + " | ".join(names)
        + " | "
        + " | ".join(f"{n}/ox" for n in others)
        + " | errors |"
    )
    print("|---|---|---:|" + "---:|" * (len(names) + len(others) + 1))
    for name, texts, connections, cells in rows:
        figures = [f"{c.rate:,.0f}/s · {c.p50_ms:.1f} / {c.p99_ms:.1f} ms" for c in (cells[n] for n in names)]
        base = cells["oxigraph"].rate
        ratios = [f"{cells[n].rate / base if base else 0:.2f}" for n in others]
        errors = " / ".join(str(cells[n].errors) for n in names)
        print(f"| {name} | {texts} | {connections} | " + " | ".join(figures + ratios) + f" | {errors} |")
    print()
    print("Processor time per answered request, all the server's processes (ms):\n")
    print("| queries | texts | conn. | " + " | ".join(names) + " |")
    print("|---|---|---:|" + "---:|" * len(names))
    for name, texts, connections, cells in rows:
        print(
            f"| {name} | {texts} | {connections} | "
            + " | ".join(f"{cells[n].cpu_per_request_ms:.3f}" for n in names)
            + " |"
        )
    print()
    print(
        "- start-up (ours: until every server process answers; the others: a healthy endpoint): "
        + ", ".join(f"{s.name} {s.started_in:.2f} s" for s, _ in servers)
    )
    readings_at = [("after the run", servers)] + ([(f"{rest * 1.25 + 5:g} s after the run", rested)] if rested else [])
    for when, readings in readings_at:
        print(
            f"- memory {when}: "
            + "; ".join(
                f"{s.name} {rss:,.0f} MB RSS, {pss:,.0f} MB PSS in {count} process{'es' if count > 1 else ''}"
                + (f" ({parts})" if count > 1 else "")
                for s, (rss, pss, count, parts) in readings
            )
        )
    if workload.too_slow:
        print(
            "- competency questions left out (one evaluation took longer than the limit): "
            + ", ".join(f"{name} ({seconds:.1f} s)" for name, seconds in workload.too_slow.items())
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, help="a published store (else one is generated and built)")
    parser.add_argument("--alliances", type=int, default=2000, help="size of the generated store (2000: ~1M triples)")
    parser.add_argument("--connections", nargs="+", type=int, default=[8, 32])
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of each cell, per server")
    parser.add_argument("--classes", nargs="+", choices=CLASSES, default=list(CLASSES))
    parser.add_argument("--port", type=int, default=18810, help="ours here, oxigraph +1, granian +2, baseline +3")
    parser.add_argument("--processes", type=int, help="SMARTCITY_KG_SERVER_PROCESSES (default: one per core)")
    parser.add_argument("--granian", action="store_true", help="also our app under granian (pip install granian)")
    parser.add_argument(
        "--baseline", type=Path, help="also our app from this source tree (e.g. `git archive` of an earlier commit)"
    )
    parser.add_argument(
        "--cq-limit",
        type=float,
        default=1.5,
        help="leave out competency questions that take longer than this once (seconds)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="smartcity-kg-wrk-") as folder:
        work = Path(folder)
        store = ensure_store(args.store, args.alliances, work)
        manifest = store / "current" / "build.json"
        triples = json.loads(manifest.read_text())["triples"] if manifest.exists() else None
        log("drawing the workload")
        workload = draw_workload(store, args.cq_limit)
        load_before = os.getloadavg()
        servers = start_servers(store, args.port, args.processes, granian=args.granian, baseline=args.baseline)
        rows: list[Row] = []
        try:
            warm = work / "warm-up.lua"
            for server in servers:  # a few seconds of lookups first: the engines' caches, the first imports
                warm.write_text(lua_script(workload.lookups, server.sparql_path, unique=True))
                run_wrk(server.port, warm, 8, 3)
                wait_idle(server)
            for name in args.classes:
                queries = class_queries(workload, name)
                for unique in (True, False):
                    texts = "unique texts" if unique else "repeated texts"
                    scripts = {}
                    for server in servers:
                        scripts[server.name] = work / f"{server.name}-{len(rows)}.lua"
                        scripts[server.name].write_text(lua_script(queries, server.sparql_path, unique=unique))
                    for connections in args.connections:
                        cells: dict[str, Cell] = {}
                        # The order turns from cell to cell, so that drifting load falls on every server alike.
                        turn = len(rows) % len(servers)
                        for server in servers[turn:] + servers[:turn]:
                            log(f"{name}, {texts}, {connections} connections: {server.name}")
                            cells[server.name] = measure(server, scripts[server.name], connections, args.seconds)
                        rows.append((name, texts, connections, cells))
            measured, rested, rest = memory_after(servers)
        finally:
            for server in servers:
                server.stop()
    report(store, triples, workload, rows, load_before=load_before, servers=measured, rested=rested, rest=rest)


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
