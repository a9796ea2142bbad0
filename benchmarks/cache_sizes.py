"""What the per-build caches hold once every thing of the curated data has been asked for: the figures their
settings (description_cache_kb, vocabulary_cache_kb, label_cache_kb, name_pool_cache_kb) are chosen by.

    python benchmarks/cache_sizes.py

Builds the curated data into a temporary store, asks the app in this process for every thing's description and
REST item and for a reconciliation query of each type, with caches large enough to keep everything, and prints
each cache's entries, bytes (the text its values hold, as the caches count it) and bytes per entry.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.reconcile.identifiers import TYPES
from graph.pipeline import run_build
from graph.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
EVERYTHING = 2**20  # KiB: 1 GiB, so that no cache drops anything


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "store"
        run_build(ROOT / "data", store, Settings().namespace)
        settings = Settings(
            store=store,
            query_workers=1,
            response_cache_mb=0,
            description_cache_kb=EVERYTHING,
            vocabulary_cache_kb=EVERYTHING,
            label_cache_kb=EVERYTHING,
            name_pool_cache_kb=EVERYTHING,
        )
        app = create_app(settings)
        with TestClient(app) as client:
            served = app.state.store.get()
            things = served.manifest.namespace + "id/"
            rows = served.select(
                "SELECT DISTINCT ?s WHERE { ?s a ?t "
                f"FILTER(STRSTARTS(STR(?s), '{things}') && !CONTAINS(STR(?s), '#')) }}"
            )
            for row in rows:
                kind, key = row["s"].value.removeprefix(things).split("/")
                client.get(f"/doc/{kind}/{key}.ttl")
                client.get(f"/api/v1/{kind}/{key}")
            for kind in (*TYPES, None):
                query = {"query": "Stadt Dortmund", **({"type": kind} if kind else {})}
                client.post("/reconcile", data={"queries": json.dumps({"q": query})})
            print(f"{'cache':20} {'entries':>8} {'bytes':>10} {'bytes/entry':>12}")
            for name, cache in app.state.caches.items():
                if name in ("responses", "answers"):
                    continue
                print(f"{name:20} {len(cache):8} {cache.size:10} {cache.size // max(len(cache), 1):12}")


if __name__ == "__main__":
    main()
