"""The one seam between rdflib (building) and pyoxigraph (storing, serialising): N-Quads text, sorted."""

from __future__ import annotations

import heapq
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from itertools import islice
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

__all__ = ["nt_term", "nt_text", "serialize_rdf", "sorted_unique", "write_nquads", "write_nquads_text"]

Triples = Graph | Iterable[tuple[Node, Node, Node]]


def serialize_rdf(
    items: Iterable[ox.Quad] | Iterable[ox.Triple], fmt: ox.RdfFormat, prefixes: dict[str, str] | None = None
) -> bytes:
    """Serialise quads or triples into bytes (Oxigraph returns None only when given an output)."""
    payload = ox.serialize(items, format=fmt, prefixes=prefixes)
    assert payload is not None
    return payload


# Lines sorted in memory at a time: about 100 MB of text and strings, whatever the size of the graph.
_LINES_AT_ONCE = 400_000


def write_nquads(graphs: dict[str, Triples], file: Path) -> dict[str, int]:
    """Write the triples of each named graph into `file` as N-Quads written by Oxigraph, in a stable order, each
    quad once, in memory that does not grow with the graph; returns how many triples each graph holds.

    The order is that of the rdflib N-Triples lines, sorted as text, so the same data gives the same bytes. The
    triples may come as a stream, once each or not.
    """
    return write_nquads_text({name: map(nt_text, triples) for name, triples in graphs.items()}, file)


def write_nquads_text(graphs: dict[str, Iterable[str]], file: Path) -> dict[str, int]:
    """`write_nquads` of triples given as their text (`nt_text`), for a caller that has formatted them already."""
    lines = (f"{text} <{name}> .\n".encode() for name, texts in graphs.items() for text in texts)
    merged = file.with_name(f".{file.name}.sorted")
    try:
        counts = dict.fromkeys(graphs, 0)
        endings = {f" <{name}> .\n".encode(): name for name in graphs}
        with merged.open("wb") as out:
            for line in sorted_unique(lines, file.parent):
                out.write(line)
                counts[endings[line[line.rindex(b" <") :]]] += 1
        # Oxigraph writes each quad in its own form (escapes, literals); parsed and written as a stream.
        ox.serialize(
            ox.parse(path=str(merged), format=ox.RdfFormat.N_QUADS), output=str(file), format=ox.RdfFormat.N_QUADS
        )
    finally:
        merged.unlink(missing_ok=True)
    return counts


def sorted_unique(lines: Iterable[bytes], folder: Path) -> Iterator[bytes]:
    """`lines` (each ending in a newline) sorted as bytes, each once, in memory that does not grow with their number:
    runs of `_LINES_AT_ONCE` are sorted and written into a temporary folder inside `folder`, then merged.

    As bytes, UTF-8 text sorts as its code points do; the newline sorts below any other character of a line of
    N-Triples or N-Quads (they escape the characters below the space), so a line sorts as its text without it.
    """
    with tempfile.TemporaryDirectory(prefix=".sorting-", dir=folder) as work, ExitStack() as files:
        runs: list[Path] = []
        pending = iter(lines)
        while run := sorted(set(islice(pending, _LINES_AT_ONCE))):
            runs.append(Path(work) / f"run-{len(runs)}")
            runs[-1].write_bytes(b"".join(run))
            del run
        last = None
        for line in heapq.merge(*(files.enter_context(path.open("rb")) for path in runs)):
            if line != last:
                yield line
                last = line


def nt_text(triple: tuple[Node, Node, Node]) -> str:
    """A triple as an rdflib N-Triples line without its closing ` .`: what the quads are sorted by."""
    s, p, o = triple
    return f"{nt_term(s)} {nt_term(p)} {nt_term(o)}"


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
