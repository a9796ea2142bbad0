"""The one seam between rdflib (building) and pyoxigraph (storing, serialising): N-Quads text, sorted."""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox
from rdflib import Graph

__all__ = ["serialize_rdf", "to_quads"]


def serialize_rdf(items: Iterable[ox.Quad] | Iterable[ox.Triple], fmt: ox.RdfFormat,
                  prefixes: dict[str, str] | None = None) -> bytes:
    """Serialise quads or triples into bytes (Oxigraph returns None only when given an output)."""
    payload = ox.serialize(items, format=fmt, prefixes=prefixes)
    assert payload is not None
    return payload


def to_quads(graphs: dict[str, Graph]) -> list[ox.Quad]:
    """The triples of each named graph as Oxigraph quads, in a stable order (sorted N-Quads lines)."""
    lines: list[str] = []
    for name, graph in graphs.items():
        for line in graph.serialize(format="nt").splitlines():
            if line.strip():
                lines.append(f"{line.removesuffix(' .')} <{name}> .")
    payload = "\n".join(sorted(set(lines))).encode()
    return list(ox.parse(payload, format=ox.RdfFormat.N_QUADS))
