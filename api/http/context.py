"""The published JSON-LD @context, and compaction of triples with it so that JSON-LD reads as plain JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from api.http.terms import node_id
from graph.iris import part_of
from graph.prefixes import PREFIXES

__all__ = ["CONTEXT_FILE", "Context", "compact", "load_context"]

CONTEXT_FILE = Path(__file__).with_name("context.jsonld")
_XSD = PREFIXES["xsd"]
_TYPE = PREFIXES["rdf"] + "type"
JsonValue = Any  # a JSON-LD value: str, bool, int, dict or list of them


@dataclass(frozen=True)
class Term:
    name: str
    iri: str
    coerce: str | None  # "@id" or a datatype IRI
    language_map: bool


class Context:
    """The terms and prefixes of a JSON-LD context, indexed by the IRI they stand for."""

    def __init__(self, document: dict[str, Any]) -> None:
        definitions: dict[str, Any] = document["@context"]
        self.vocab: str | None = definitions.get("@vocab")
        self.prefixes = {
            name: value
            for name, value in definitions.items()
            if isinstance(value, str) and not name.startswith("@") and value.endswith(("#", "/"))
        }
        self.terms: dict[str, Term] = {}
        for name, value in definitions.items():
            if name.startswith("@") or name in self.prefixes or value in ("@id", "@type"):
                continue
            spec = value if isinstance(value, dict) else {"@id": value}
            coerce = spec.get("@type")
            term = Term(
                name,
                self.expand(spec["@id"]),
                None if coerce is None else self.expand(coerce),
                spec.get("@container") == "@language",
            )
            self.terms[term.iri] = term

    def expand(self, value: str) -> str:
        prefix, sep, local = value.partition(":")
        if sep and prefix in self.prefixes:
            return self.prefixes[prefix] + local
        return value

    def compact_iri(self, iri: str, *, vocab: bool = False) -> str:
        """`iri` as a compact IRI (`schema:City`), as a bare name under @vocab for types, or unchanged."""
        if vocab and self.vocab and iri.startswith(self.vocab) and _simple(iri[len(self.vocab) :]):
            return iri[len(self.vocab) :]
        matches = [
            (len(ns), prefix) for prefix, ns in self.prefixes.items() if iri.startswith(ns) and _simple(iri[len(ns) :])
        ]
        if matches:
            _, prefix = max(matches)
            return f"{prefix}:{iri[len(self.prefixes[prefix]) :]}"
        return iri


def _simple(local: str) -> bool:
    return bool(local) and all(ch.isalnum() or ch in "-_." for ch in local) and not local[0].isdigit()


@cache
def load_context() -> tuple[bytes, Context]:
    """The context document as published, and its parsed form."""
    raw = CONTEXT_FILE.read_bytes()
    return raw, Context(json.loads(raw))


def compact(
    triples: Iterable[ox.Triple], root: str, context_url: str, *, embed_fragments: bool = True
) -> dict[str, Any]:
    """A compacted JSON-LD document of `triples`, `root` first in its `@graph`.

    Written here rather than by a JSON-LD library: pyld (from_rdf and compact) takes 13-37 times as long on the
    service's documents and rdflib's serializer 1.5-9 times, writing another shape (benchmarks/jsonld_compaction.py;
    docs/performance.md, "JSON-LD compaction written by hand").

    With `embed_fragments`, a fragment node of the root (`{root}#...`) referenced once is written inside the
    node referencing it (a citation inside the thing it supports). Values are written so that expanding the
    document with the context at `context_url` gives back exactly `triples`.
    """
    context = load_context()[1]
    nodes: dict[str, dict[str, list[ox.NamedNode | ox.BlankNode | ox.Literal]]] = {}
    references: dict[str, int] = {}
    for triple in triples:
        subject, obj = node_id(triple.subject), triple.object
        if isinstance(obj, ox.Triple):
            continue  # no RDF-star in this graph
        nodes.setdefault(subject, {}).setdefault(triple.predicate.value, []).append(obj)
        if isinstance(obj, ox.NamedNode | ox.BlankNode) and triple.predicate.value != _TYPE:
            references[node_id(obj)] = references.get(node_id(obj), 0) + 1
    embeddable = {
        node
        for node, count in references.items()
        if embed_fragments and count == 1 and node in nodes and part_of(node, root)
    }
    writer = _Writer(context, nodes, embeddable)
    top = [root, *sorted(node for node in nodes if node != root)] if root in nodes else sorted(nodes)
    graph = [writer.node(node) for node in top if node not in embeddable]
    # Parts that only refer to each other in a ring were never reached from a written node: write them too.
    graph += [writer.node(node) for node in sorted(embeddable) if node not in writer.written]
    return {"@context": context_url, "@graph": graph}


class _Writer:
    def __init__(
        self,
        context: Context,
        nodes: dict[str, dict[str, list[ox.NamedNode | ox.BlankNode | ox.Literal]]],
        embeddable: set[str],
    ) -> None:
        self.context = context
        self.nodes = nodes
        self.embeddable = embeddable
        self.written: set[str] = set()

    def node(self, node: str) -> dict[str, JsonValue]:
        self.written.add(node)
        out: dict[str, JsonValue] = {"id": node}
        for predicate in sorted(self.nodes[node]):
            values = sorted(self.nodes[node][predicate], key=str)
            if predicate == _TYPE:
                types = [self.context.compact_iri(v.value, vocab=True) for v in values if isinstance(v, ox.NamedNode)]
                out["type"] = types[0] if len(types) == 1 else types
                values = [v for v in values if not isinstance(v, ox.NamedNode)]
                if not values:
                    continue
            term = self.context.terms.get(predicate)
            fallback = self.context.compact_iri(predicate)
            if term is not None and term.language_map:
                in_map = [v for v in values if isinstance(v, ox.Literal) and _plain_or_tagged(v)]
                values = [v for v in values if v not in in_map]
                if in_map:
                    out[term.name] = _language_map(in_map)
            elif term is not None:
                out[term.name] = _one_or_many([self.value(v, term) for v in values])
                values = []
            if values:
                out[fallback] = _one_or_many([self.value(v, None) for v in values])
        # Who and what first, then the rest by name: the order a reader of plain JSON looks for.
        first = [key for key in ("id", "type", "label") if key in out]
        return {key: out[key] for key in [*first, *sorted(k for k in out if k not in first)]}

    def value(self, value: ox.NamedNode | ox.BlankNode | ox.Literal, term: Term | None) -> JsonValue:
        coerce = None if term is None else term.coerce
        if isinstance(value, ox.Literal):
            return self.literal(value, coerce)
        node = node_id(value)
        if node in self.embeddable and node not in self.written:
            return self.node(node)
        return node if coerce == "@id" else {"id": node}

    def literal(self, value: ox.Literal, coerce: str | None) -> JsonValue:
        datatype = value.datatype.value
        if value.language:
            return {"@value": value.value, "@language": value.language}
        if coerce == datatype or (coerce is None and datatype == _XSD + "string"):
            return value.value
        if coerce is None and datatype == _XSD + "boolean" and value.value in ("true", "false"):
            return value.value == "true"
        if coerce is None and datatype == _XSD + "integer" and str(_integer(value.value)) == value.value:
            return int(value.value)
        return {"@value": value.value, "@type": self.context.compact_iri(datatype)}


def _integer(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _plain_or_tagged(value: ox.Literal) -> bool:
    return bool(value.language) or value.datatype.value == _XSD + "string"


def _language_map(values: list[ox.Literal]) -> dict[str, JsonValue]:
    grouped: dict[str, list[str]] = {}
    for value in values:
        grouped.setdefault(value.language or "@none", []).append(value.value)
    return {lang: _one_or_many(texts) for lang, texts in sorted(grouped.items())}


def _one_or_many(values: list[JsonValue]) -> JsonValue:
    return values[0] if len(values) == 1 else values
