"""CPU time of the guard reading query texts of up to the largest size accepted: linear in the size, whatever the text.

    python benchmarks/guard.py

Pathological texts (a 64 KB `a.a.a…` took the previous, backtracking reader 36 s) at four sizes: linear time
doubles with the size. The reference row is an ordinary query (a VALUES block) read by the guard and, beside it,
parsed and evaluated by the engine on an empty store.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import pyoxigraph as ox

from graph.sparql_guard import QueryRefusedError, analyse_query

SIZES = (8_000, 16_000, 32_000, 64_000)
TEXTS: dict[str, Callable[[int], str]] = {
    "a.a.a…": lambda size: "a." * (size // 2),
    "a:a:a…": lambda size: "a:" * (size // 2),
    "'''\\'…": lambda size: "'''\\'" * (size // 5),
    '"\\"…': lambda size: '"\\"' * (size // 3),
    "<<<…": lambda size: "<" * size,
    "<a<a…": lambda size: "<a" * (size // 2),
    "?a?a…": lambda size: "?a" * (size // 2),
    "FILTER(?a<a>…)": lambda size: "SELECT * { FILTER(" + "?a<a>" * (size // 5 - 5) + ") }",
}


def values(size: int) -> str:
    return "SELECT * { VALUES ?x { " + "1234 " * (size // 5 - 8) + "} }"


def cpu(action: Callable[[], object]) -> float:
    """CPU seconds of `action`, refusals and syntax errors included."""
    began = time.process_time()
    with contextlib.suppress(QueryRefusedError, SyntaxError):
        action()
    return time.process_time() - began


def guard(text: str) -> Callable[[], object]:
    return lambda: analyse_query(text, 64, "http://127.0.0.1/sparql")


def engine(text: str) -> Callable[[], object]:
    """The engine parsing and evaluating `text` on an empty store, its answer written."""
    store = ox.Store()

    def run() -> object:
        solutions = store.query(text)
        assert isinstance(solutions, ox.QuerySolutions)
        return solutions.serialize(format=ox.QueryResultsFormat.TSV)

    return run


def main() -> None:
    print(f"{'guard, ms of CPU':<22}" + "".join(f"{size:>10}" for size in SIZES))
    for name, make in TEXTS.items():
        print(f"{name:<22}" + "".join(f"{cpu(guard(make(size))) * 1000:>10.1f}" for size in SIZES))
    print(f"{'VALUES (guard)':<22}" + "".join(f"{cpu(guard(values(size))) * 1000:>10.1f}" for size in SIZES))
    print(f"{'VALUES (engine)':<22}" + "".join(f"{cpu(engine(values(size))) * 1000:>10.1f}" for size in SIZES))


if __name__ == "__main__":
    main()
