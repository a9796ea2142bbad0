"""How fast a unique lookup can be answered from Python: the guard and the engine alone, behind a Rust HTTP server.

    pip install granian
    python benchmarks/lookup_floor.py --store /tmp/sr-bench/store
    python benchmarks/lookup_floor.py --store /tmp/sr-bench/store --granian /tmp/gvenv/bin/granian  # another venv

Beside the service (`smartcity-kg serve`) and a bare `oxigraph serve-read-only` on the same store, under the same
wrk load as `benchmarks/wrk.py` (unique lookup texts at 8 and 32 connections, each cell on every server, the order
turning), a third server: granian's RSGI interface with two worker processes, whose handler reads the text, has
the guard analyse it and the engine answer it, and nothing else (no limits, log, metrics, cache or headers). It
is not a service, only the measure of what the HTTP side in Rust leaves to Python: the floor below which no change
in Python can take a lookup, and the room there is above it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from graph.sparql_guard import analyse_query

ROOT = Path(__file__).resolve().parent.parent
ENDPOINT = "http://127.0.0.1/sparql"
MAX_NESTING = 40


def written(result: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples) -> tuple[bytes, str]:
    """A query's outcome as the engine writes it, in the format the benchmarks' lookups ask for (JSON for rows and
    booleans, Turtle for triples), and its media type: the engine's own cost of an answer."""
    if isinstance(result, ox.QueryTriples):
        return ox.serialize(result, format=ox.RdfFormat.TURTLE) or b"", "text/turtle"
    return result.serialize(format=ox.QueryResultsFormat.JSON) or b"", "application/sparql-results+json"


class Floor:
    """The RSGI application (granian calls `__rsgi__` for every request): POST /sparql, a lookup's text."""

    def __init__(self) -> None:
        self.engine: ox.Store | None = None

    def __rsgi_init__(self, loop: Any) -> None:
        self.engine = ox.Store.read_only(os.environ["LOOKUP_FLOOR_STORE"])

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        if scope.path != "/sparql" or self.engine is None:
            protocol.response_bytes(200, [("content-type", "text/plain")], b"up")
            return
        text = (await protocol()).decode()
        analyse_query(text, MAX_NESTING, ENDPOINT)
        body, media = written(self.engine.query(text, base_iri=ENDPOINT, use_default_graph_as_union=True))
        protocol.response_bytes(200, [("content-type", media)], body)


app = Floor()


def main() -> None:
    # Here, not above: granian imports this module for `app` in an environment that may lack what these need.
    from serve import draw_workload, start  # noqa: PLC0415
    from wrk import Cell, class_queries, lua_script, measure, run_wrk, start_servers, wait_idle  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, required=True, help="a published store (smartcity-kg build)")
    parser.add_argument("--connections", nargs="+", type=int, default=[8, 32])
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of each cell, per server")
    parser.add_argument("--port", type=int, default=18830, help="ours here, oxigraph +1, the floor +2")
    parser.add_argument(
        "--granian",
        type=Path,
        default=Path(sys.executable).parent / "granian",
        help="granian's command, in an environment with pyoxigraph (default: beside this Python)",
    )
    args = parser.parse_args()
    granian = args.granian
    if shutil.which("wrk") is None or not granian.exists():
        sys.exit("needs wrk (Debian: apt-get install wrk) and granian (pip install granian, or --granian PATH)")
    workload = draw_workload(args.store, 1.5)
    load_before = os.getloadavg()
    servers = start_servers(args.store, args.port, None, granian=False)
    environment = {
        "LOOKUP_FLOOR_STORE": str((args.store / "current" / "oxigraph").resolve()),
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(Path(__file__).parent)]),
    }
    floor_command = [str(granian), "--interface", "rsgi", "--workers", "2", "--loop", "uvloop"]
    floor_command += ["--port", str(args.port + 2), "--log-level", "warning", "lookup_floor:app"]
    rows: list[tuple[int, dict[str, Cell]]] = []
    try:
        servers.append(
            start("floor", floor_command, args.port + 2, health="/health", sparql_path="/sparql", env=environment)
        )
        scripts = {}
        for server in servers:
            scripts[server.name] = Path(f"/tmp/lookup-floor-{server.name}.lua")
            lookups = class_queries(workload, "lookup")
            scripts[server.name].write_text(lua_script(lookups, server.sparql_path, unique=True))
            run_wrk(server.port, scripts[server.name], 8, 3)  # warm
            wait_idle(server)
        for connections in args.connections:
            turn = len(rows) % len(servers)
            cells = {
                s.name: measure(s, scripts[s.name], connections, args.seconds) for s in servers[turn:] + servers[:turn]
            }
            rows.append((connections, cells))
    finally:
        for server in servers:
            server.stop()
    print(f"# unique lookups under wrk, {time.strftime('%Y-%m-%d %H:%M %Z')}, {len(os.sched_getaffinity(0))} cores")
    print(f"$ python benchmarks/lookup_floor.py {' '.join(sys.argv[1:])}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in load_before)}\n")
    print("| conn. | server | requests/s | p99 | ratio to Oxigraph | CPU per request | errors |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for connections, cells in rows:
        base = cells["oxigraph"].rate
        for name in ("ours", "floor", "oxigraph"):
            cell = cells[name]
            print(
                f"| {connections} | {name} | {cell.rate:,.0f} | {cell.p99_ms:.1f} ms | {cell.rate / base:.2f} "
                f"| {cell.cpu_per_request_ms:.3f} ms | {cell.errors} |"
            )


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
