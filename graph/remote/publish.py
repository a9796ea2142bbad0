"""Publishing a build to a remote server: each graph uploaded under a staging name, then all switched in place by one
update request, so that a query never sees half of a build."""

from __future__ import annotations

import httpx
import pyoxigraph as ox

from graph._convert import serialize_rdf
from graph.iris import Minter
from graph.published import Manifest
from graph.remote.endpoints import RemoteEndpoints
from graph.remote.store import DCT, GRAPHS, META, N_TRIPLES, SCHEMA, SD_NAME, VOID, RemoteStore

__all__ = ["VIRTUOSO_CHECKPOINT", "publish_remote"]

# Virtuoso keeps what it loads in memory and its transaction log until a checkpoint: a crash in between may leave
# a graph only partly written.
VIRTUOSO_CHECKPOINT = (
    "Virtuoso writes loaded graphs to its database only at a checkpoint: run `checkpoint;` in "
    "isql-vt now (or set CheckpointInterval in virtuoso.ini) so that a crash cannot leave them "
    "torn; /health answers 503 if the graphs ever differ from what this build published."
)


def publish_remote(
    nquads: bytes, manifest: Manifest, endpoints: RemoteEndpoints, namespace: str, client: httpx.Client | None = None
) -> list[str]:
    """Upload each graph of `nquads` under a staging name, then switch all of them in one update request; what
    the operator must still do for the graphs to be safe on that server."""
    if endpoints.graph_store is None or endpoints.update is None:
        raise ValueError("loading a remote store needs --graph-store (Graph Store Protocol) and --update-endpoint")
    with RemoteStore(endpoints, namespace, timeout=600, client=client) as store:
        software = _upload_and_switch(store, nquads, manifest, endpoints.graph_store, endpoints.update)
    return [VIRTUOSO_CHECKPOINT] if "virtuoso" in software.lower() else []


def _upload_and_switch(store: RemoteStore, nquads: bytes, manifest: Manifest, graph_store: str, update: str) -> str:
    mint = Minter(store.namespace)
    by_graph: dict[str, list[ox.Triple]] = {}
    for quad in ox.parse(nquads, format=ox.RdfFormat.N_QUADS):
        by_graph.setdefault(str(quad.graph_name), []).append(quad.triple)
    moves, parts, counts = [], [], []
    for name in GRAPHS:
        graph, staging = str(mint.graph(name)), str(mint.graph(f"{name}-next-{manifest.build_id}"))
        triples = by_graph.get(f"<{graph}>", [])
        parts.append(f"<{mint.graph(META)}#{name}>")  # no blank node: Virtuoso allows none in INSERT DATA
        counts.append(f"{parts[-1]} <{SD_NAME}> <{graph}> ; <{VOID}triples> {len(triples)} .")
        store.connection.send(
            "PUT", graph_store, serialize_rdf(triples, ox.RdfFormat.N_TRIPLES), N_TRIPLES, params={"graph": staging}
        )
        moves.append(f"MOVE SILENT GRAPH <{staging}> TO GRAPH <{graph}>")
    meta = str(mint.graph(META))
    build = f"<{mint.graph('data')}>"
    record = (
        f'{build} <{DCT}identifier> "{manifest.build_id}" ; <{VOID}triples> {manifest.triples} ; '
        f'<{DCT}modified> "{manifest.modified}" ; <{SCHEMA}version> "{manifest.version}" ; '
        f"<{SCHEMA}size> {manifest.data_files} ; <{VOID}subset> {', '.join(parts)} . " + " ".join(counts)
    )
    # One request, so servers that run an update request as one transaction (Oxigraph does) switch atomically.
    request = " ;\n".join([*moves, f"DROP SILENT GRAPH <{meta}>", f"INSERT DATA {{ GRAPH <{meta}> {{ {record} }} }}"])
    software = store.connection.send("POST", update, request.encode(), "application/sparql-update")
    published = len(store)
    if published != manifest.triples:
        raise RuntimeError(f"the remote store holds {published} statements after loading, {manifest.triples} were sent")
    return software
