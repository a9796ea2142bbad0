"""How things are named (`{ns}id/{type}/{key}`, `{ns}vocab/{scheme}/{key}`, curated references) and where served."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

from rdflib import URIRef

__all__ = ["KEY_PATTERN", "Minter", "child", "is_key", "owner", "part_of", "slug"]

# What a thing's key looks like (`dortmund`, `smart-city-charta`): the last segment of its IRI, and of its paths.
# Kinds and vocabulary schemes (`city`, `source-kind`) are written the same way.
KEY_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
_KEY = re.compile(KEY_PATTERN)

# A reference `city:dortmund` names the municipality when it stands where an agent is expected.
_AGENT_TYPE = {
    "city": "municipality",
    "company": "company",
    "organization": "organization",
    "alliance": "alliance",
    "person": "person",
}


def is_key(text: str) -> bool:
    """Whether `text` can be a segment of an IRI this scheme mints: a kind, a scheme or a key."""
    return _KEY.fullmatch(text) is not None


def slug(text: str) -> str:
    """A key-shaped slug of free text: ASCII, lowercase, hyphens ('Übersicht 3' → 'ubersicht-3')."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "x"


def child(parent: URIRef, name: str) -> URIRef:
    """A node that only exists as part of `parent` (a citation, an interval): a fragment of the parent's IRI."""
    return URIRef(f"{parent}-{name}" if "#" in parent else f"{parent}#{name}")


def part_of(node: str, thing: str) -> bool:
    """Whether `node` is a part of `thing` made by `child` (a part of a part included): described on its page."""
    return node.startswith(f"{thing}#")


def owner(node: str) -> str:
    """The node a part made by `child` belongs to (`{thing}#citation-1` → `{thing}`); any other node is its own."""
    return node.partition("#")[0]


class Minter:
    """Mints the IRIs of one namespace, reads them back, and maps them to the paths that serve them."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.things = f"{namespace}id/"  # every thing's IRI starts so
        self.vocabularies = f"{namespace}vocab/"  # every scheme's and concept's IRI starts so

    def thing(self, kind: str, key: str) -> URIRef:
        return URIRef(f"{self.things}{kind}/{key}")

    def id_of(self, iri: str) -> str | None:
        """A thing's id as services outside the graph name it (`city/dortmund`, reconciliation's identifier space
        being `things`): the IRI after `things`; None for an IRI that is no thing's."""
        return iri[len(self.things) :] if iri.startswith(self.things) else None

    def from_id(self, ident: str) -> URIRef:
        """The IRI of the thing an id (`city/dortmund`) names."""
        return URIRef(f"{self.things}{ident}")

    def read_id(self, ident: str, kinds: Collection[str] | None = None) -> tuple[str, str] | None:
        """The kind and key of a thing's id (`city/dortmund` → `("city", "dortmund")`), when the text can be one:
        both key-shaped, and the kind one of `kinds` when they are given; else None."""
        kind, slash, key = ident.partition("/")
        if not (slash and is_key(kind) and is_key(key)) or (kinds is not None and kind not in kinds):
            return None
        return kind, key

    def key(self, iri: str) -> str | None:
        """The key of a thing, scheme or concept of this namespace (its IRI's last segment); None for an IRI of
        another namespace."""
        rest = self.local(iri)
        return None if rest is None else rest.rsplit("/", 1)[-1]

    def path_of_id(self, ident: str) -> str:
        """The path that serves the thing an id names (`city/dortmund` → `/id/city/dortmund`); reconciliation's
        view URL is a template of it (`/id/{{id}}`)."""
        return "/" + self.things.removeprefix(self.namespace) + ident

    def concept(self, scheme: str, key: str) -> URIRef:
        return URIRef(f"{self.vocabularies}{scheme}/{key}")

    def scheme(self, scheme: str) -> URIRef:
        return URIRef(f"{self.vocabularies}{scheme}")

    def agent(self, ref: str) -> URIRef:
        """The IRI of the agent a `kind:key` reference names."""
        kind, key = ref.split(":", 1)
        return self.thing(_AGENT_TYPE[kind], key)

    def graph(self, name: str) -> URIRef:
        return URIRef(f"{self.namespace}graph/{name}")

    def parse(self, iri: str) -> tuple[str, str] | None:
        """The kind and key of a thing's IRI (`{ns}id/city/dortmund` → `("city", "dortmund")`), else None."""
        if not iri.startswith(self.things):
            return None
        kind, slash, key = iri[len(self.things) :].partition("/")
        return (kind, key) if slash and kind else None

    def local(self, iri: str) -> str | None:
        """The part of `iri` after the namespace (`id/city/dortmund`); None for an IRI of another namespace, and
        for one whose rest would leave this site as a path (`{ns}/evil.example` must not become `//evil.example`)."""
        if not iri.startswith(self.namespace):
            return None
        rest = iri[len(self.namespace) :]
        return None if rest.startswith(("/", "\\")) else rest

    def id_path(self, iri: str) -> str | None:
        """The path that serves `iri` as linked data: `/id/city/dortmund`, `/vocab/theme/energy`; None when the IRI
        is not of this namespace."""
        rest = self.local(iri)
        return None if rest is None else "/" + rest

    def page(self, iri: str) -> str:
        """Where `iri` is described for a reader: its page here (`doc_path`), else the IRI itself (another site's)."""
        return self.doc_path(iri) or iri

    def doc_path(self, iri: str) -> str | None:
        """The page that describes `iri`: `/doc/city/dortmund` for a thing (a part `#x` stays on its owner's page),
        the IRI's own path for a vocabulary or the ontology; None when the IRI is not of this namespace."""
        rest = self.local(iri)
        if rest is None:
            return None
        return "/doc/" + rest.removeprefix("id/") if rest.startswith("id/") else "/" + rest
