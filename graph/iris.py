"""How things are named: `{ns}id/{type}/{key}`, `{ns}vocab/{scheme}/{key}`, and curated references to IRIs."""

from __future__ import annotations

import re
import unicodedata

from rdflib import URIRef

__all__ = ["Minter", "child", "slug"]

# A reference `city:dortmund` names the municipality when it stands where an agent is expected.
_AGENT_TYPE = {
    "city": "municipality",
    "company": "company",
    "organization": "organization",
    "alliance": "alliance",
    "person": "person",
}


def slug(text: str) -> str:
    """A key-shaped slug of free text: ASCII, lowercase, hyphens ('Übersicht 3' → 'ubersicht-3')."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "x"


def child(parent: URIRef, name: str) -> URIRef:
    """A node that only exists as part of `parent` (a citation, an interval): a fragment of the parent's IRI."""
    return URIRef(f"{parent}-{name}" if "#" in parent else f"{parent}#{name}")


class Minter:
    """Mints the IRIs of one namespace."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    def thing(self, kind: str, key: str) -> URIRef:
        return URIRef(f"{self.namespace}id/{kind}/{key}")

    def concept(self, scheme: str, key: str) -> URIRef:
        return URIRef(f"{self.namespace}vocab/{scheme}/{key}")

    def scheme(self, scheme: str) -> URIRef:
        return URIRef(f"{self.namespace}vocab/{scheme}")

    def agent(self, ref: str) -> URIRef:
        """The IRI of the agent a `kind:key` reference names."""
        kind, key = ref.split(":", 1)
        return self.thing(_AGENT_TYPE[kind], key)

    def graph(self, name: str) -> URIRef:
        return URIRef(f"{self.namespace}graph/{name}")
