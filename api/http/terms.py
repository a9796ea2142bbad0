"""RDF terms as plain strings, the keys every index here uses: IRIs as themselves, blank nodes as `_:x`."""

from __future__ import annotations

import pyoxigraph as ox

__all__ = ["node_id"]


def node_id(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> str:
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Triple):
        return str(term)  # quoted triples (RDF-star) are not used in this graph; keep them distinct anyway
    return term.value
