"""CPU time of one SPARQL lookup in process, through the endpoint's early path and by its parts, on a published store.

    python benchmarks/lookup_cpu.py --store /tmp/sr-bench/store                 # this tree
    PYTHONPATH=/tmp/before python benchmarks/lookup_cpu.py --store ...          # an earlier tree (`git archive`)
    python benchmarks/lookup_cpu.py --store ... --profile                       # and cProfile's top functions

Every request's text is unique (a trailing comment), as under `benchmarks/wrk.py`: the guard reads each text and
the engine evaluates each one. The requests are wrk's: POSTs of `DESCRIBE <thing>` (Turtle) and
`SELECT ?p ?o WHERE { <thing> ?p ?o }` (JSON) over 400 things. Printed, in microseconds of the thread's CPU per
lookup (best of `--rounds`): the whole `SparqlEndpoint.answer_at_once`; the guard's analysis; the pool's
evaluation and writing (`run_here`); and, as the references, the bare `Store.query` with the engine writing the
answer directly (what Oxigraph's own server does per lookup, without HTTP), the same just after the guard's reading
of each text (as in a request), and the subject's quads read alone, with no query.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pyoxigraph as ox
from lookup_floor import written

from api.http.observability import Metrics
from api.http.state import StoreHolder
from api.sparql.answers import answer_cache
from api.sparql.readings import readings_cache
from api.sparql.request import choose_formats
from api.sparql.routes import Checked, SparqlEndpoint
from graph.settings import Settings
from graph.sparql_guard import analyse_query

SELECT_TYPE, GRAPH_TYPE = b"application/sparql-results+json", b"text/turtle"
ENDPOINT = "http://127.0.0.1:21000/sparql"


def lookups(store_dir: Path, count: int, seed: int) -> list[tuple[str, bytes]]:
    """`count` lookup texts (each with a comment of its own) and the Accept each is sent with."""
    store = ox.Store.read_only(str((store_dir / "current" / "oxigraph").resolve()))
    found = store.query(
        "SELECT DISTINCT ?s WHERE { ?s a ?c FILTER(STRSTARTS(STR(?c), 'https://w3id.org/smartcity-kg/ontology#')) }",
        use_default_graph_as_union=True,
    )
    assert isinstance(found, ox.QuerySolutions)
    things = sorted(row["s"].value for row in found if "#" not in row["s"].value)
    rng = random.Random(seed)
    drawn = rng.sample(things, min(400, len(things)))
    texts: list[tuple[str, bytes]] = []
    for n in range(count):
        iri = drawn[n // 2 % len(drawn)]
        if n % 2:
            texts.append((f"SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }}\n# {n}", SELECT_TYPE))
        else:
            texts.append((f"DESCRIBE <{iri}>\n# {n}", GRAPH_TYPE))
    return texts


def scope(accept: bytes) -> dict[str, object]:
    return {
        "type": "http",
        "method": "POST",
        "scheme": "http",
        "path": "/sparql",
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1:21000"),
            (b"user-agent", b"wrk"),
            (b"content-type", b"application/sparql-query"),
            (b"accept", accept),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 21000),
    }


def per_lookup(run: Callable[[], object], count: int, rounds: int) -> float:
    """The least CPU time of `rounds` runs of `run` (which does `count` lookups), in microseconds per lookup."""
    best = float("inf")
    for _ in range(rounds):
        began = time.thread_time()
        run()
        best = min(best, time.thread_time() - began)
    return best / count * 1e6


def engine_figures(engine: ox.Store, texts: list[tuple[str, bytes]], nesting: int, rounds: int) -> dict[str, float]:
    """The references: what the engine alone spends on each lookup, with and without the guard's reading of the
    text just before (as in a request: each evicts the other's working set), and reading the subject's quads."""
    count = [0]

    def bare(*, guarded: bool = False) -> None:
        count[0] += 1
        for text, _ in texts:
            if guarded:  # the guard's reading of each text just before the engine's, as in a request
                analyse_query(f"{text} b{count[0]}", nesting, ENDPOINT)
            written(engine.query(text, base_iri=ENDPOINT, use_default_graph_as_union=True))

    subjects = [ox.NamedNode(text.split("<", 1)[1].split(">", 1)[0]) for text, _ in texts]

    def triples_only() -> None:
        for subject in subjects:
            list(engine.quads_for_pattern(subject, None, None))

    return {
        "bare Store.query + serialize": per_lookup(bare, len(texts), rounds),
        "guard, then bare Store.query + serialize, text by text": per_lookup(
            partial(bare, guarded=True), len(texts), rounds
        ),
        "the subject's quads alone (Store.quads_for_pattern, no query)": per_lookup(triples_only, len(texts), rounds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, required=True, help="a published store (smartcity-kg build)")
    parser.add_argument("--lookups", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=5, help="each measured this many times, the best kept")
    parser.add_argument("--profile", action="store_true", help="also print cProfile's top functions of the whole")
    args = parser.parse_args()
    settings = Settings(store=args.store, client_query_seconds=1e9)
    holder = StoreHolder(settings)
    endpoint = SparqlEndpoint(
        settings,
        holder,
        answer_cache(settings.result_cache_mb * 2**20),
        readings_cache(settings.reading_cache_kb * 2**10),
        Metrics(),
    )
    store = holder.get()
    engine = store.engine
    assert engine is not None
    texts = lookups(args.store, args.lookups, seed=7)
    requests = [(scope(accept), text.encode()) for text, accept in texts]
    rounds: list[int] = [0]

    def whole() -> None:
        # A new comment each round: neither the guard's memory nor the answer cache may serve a text twice.
        rounds[0] += 1
        suffix = f" r{rounds[0]}".encode()
        for request, body in requests:
            assert endpoint.answer_at_once(request, body + suffix) is not None

    def guard() -> None:
        rounds[0] += 1
        for text, _ in texts:
            analyse_query(f"{text} g{rounds[0]}", settings.max_nesting, ENDPOINT)

    plans = []
    for request, body in requests:
        early = endpoint._early_request(request, body)
        assert early is not None
        client, accept, asked, _, query = early
        verdict = endpoint._verdict(client, query, ENDPOINT)
        assert not isinstance(verdict, Exception)
        results, graph = choose_formats(verdict.form, accept, asked.formats)
        plans.append(endpoint.plan(store, asked, Checked(query, verdict, ENDPOINT, results, graph)))

    def evaluation() -> None:
        for plan in plans:
            endpoint.pool.run_here(store, plan.job)

    whole()  # warm: imports, the engine's caches
    figures = {
        "answer_at_once (whole)": per_lookup(whole, len(requests), args.rounds),
        "guard (analyse_query)": per_lookup(guard, len(texts), args.rounds),
        "evaluation and writing (run_here)": per_lookup(evaluation, len(plans), args.rounds),
        **engine_figures(engine, texts, settings.max_nesting, args.rounds),
    }
    print(f"{len(requests)} unique lookups, best of {args.rounds} rounds, CPU µs per lookup")
    for name, micro in figures.items():
        print(f"| {name} | {micro:.1f} |")
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(whole)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
