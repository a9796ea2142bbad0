"""The one seam between rdflib (building) and pyoxigraph (storing, serialising): N-Quads text, sorted."""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

__all__ = ["nt_term", "serialize_rdf", "to_nquads"]

Triples = Graph | Iterable[tuple[Node, Node, Node]]


def serialize_rdf(items: Iterable[ox.Quad] | Iterable[ox.Triple], fmt: ox.RdfFormat,
                  prefixes: dict[str, str] | None = None) -> bytes:
    """Serialise quads or triples into bytes (Oxigraph returns None only when given an output)."""
    payload = ox.serialize(items, format=fmt, prefixes=prefixes)
    assert payload is not None
    return payload


def to_nquads(graphs: dict[str, Triples]) -> bytes:
    """The triples of each named graph as N-Quads written by Oxigraph, in a stable order, each quad once.

    The order is that of the rdflib N-Triples lines, sorted as text, so the same data gives the same bytes.
    """
    lines: set[str] = set()
    for name, triples in graphs.items():
        suffix = f" <{name}> ."
        lines.update(f"{nt_term(s)} {nt_term(p)} {nt_term(o)}{suffix}" for s, p, o in triples)
    payload = "\n".join(sorted(lines)).encode()
    del lines
    return serialize_rdf(ox.parse(payload, format=ox.RdfFormat.N_QUADS), ox.RdfFormat.N_QUADS)


def nt_term(term: Node) -> str:
    """A term as rdflib's N-Triples serialiser writes it (IRIs are not re-checked: they were checked when built)."""
    if isinstance(term, Literal):
        text = '"' + term.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"').replace("\r", "\\r") + '"'
        if term.language:
            return f"{text}@{term.language}"
        return f"{text}^^<{term.datatype}>" if term.datatype else text
    if isinstance(term, URIRef):
        return f"<{term}>"
    return term.n3()
