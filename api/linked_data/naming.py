"""How a description's nodes and properties read on a page: labels in the page's language, links to their pages."""

from __future__ import annotations

import re
from dataclasses import replace

import pyoxigraph as ox

from api.linked_data.describe import Description
from api.pages.display import Link, format_date, is_date, pick_label
from api.pages.ontology import Ontology, term_link
from api.pages.templating import words
from graph.iris import Minter, owner
from graph.vocab import DCTERMS, FOAF, ORG, OWL, PROV, RDF, RDFS, SCHEMA, SCK, SKOS, TIME

__all__ = ["DATED", "Namer", "Value", "date_phrase"]

Value = ox.NamedNode | ox.BlankNode | ox.Literal
_SCK = str(SCK._NS)
_LABELS = (str(RDFS.label), str(SCHEMA.name), str(DCTERMS.title))
_DATES = (str(SCK.signedOn), str(SCK.startDate), str(SCK.date), str(DCTERMS.issued))
# A statement's date is stated (the first) or only bounded by a source's publication (the second); the third
# counts the sources that support whichever it is.
DATED = {
    str(stated): (str(bound), str(support))
    for stated, bound, support in (
        (SCK.startDate, SCK.startNoLaterThan, SCK.startSupport),
        (SCK.endDate, SCK.endNoLaterThan, SCK.endSupport),
        (SCK.signedOn, SCK.signedNoLaterThan, SCK.signedSupport),
        (SCK.date, SCK.noLaterThan, SCK.dateSupport),
    )
}
# What names a part that has no label of its own (a signature by its signatory, a figure by what it counts).
_NAMING = (str(SCK.signatory), str(SCK.measure), str(SCK.theme))
# Names of the other vocabularies' properties, (English, German); the project's own come from the ontology.
_PROPERTY_NAMES = {
    str(p): names
    for p, names in (
        (RDFS.comment, ("note", "Anmerkung")),
        (SCHEMA.name, ("name", "Name")),
        (SCHEMA.description, ("description", "Beschreibung")),
        (DCTERMS.title, ("title", "Titel")),
        (DCTERMS.issued, ("published", "veröffentlicht")),
        (DCTERMS.language, ("language", "Sprache")),
        (SCHEMA.publisher, ("publisher", "Herausgeber")),
        (SCHEMA.url, ("address", "Adresse")),
        (OWL.sameAs, ("same as", "identisch mit")),
        (FOAF.homepage, ("homepage", "Website")),
        (SKOS.altLabel, ("also called", "auch")),
        (SKOS.prefLabel, ("label", "Bezeichnung")),
        (SKOS.definition, ("definition", "Definition")),
        (SKOS.inScheme, ("scheme", "Schema")),
        (SKOS.notation, ("notation", "Kürzel")),
        (SKOS.broader, ("broader", "Oberbegriff")),
        (ORG.member, ("member", "Mitglied")),
        (ORG.hasMembership, ("membership", "Mitgliedschaft")),
        (ORG.organization, ("alliance", "Allianz")),
        (ORG.role, ("role", "Rolle")),
        (ORG.heldBy, ("held by", "inne von")),
        (ORG.holds, ("holds", "hat inne")),
        (ORG.postIn, ("post in", "Amt in")),
        (ORG.subOrganizationOf, ("part of", "gehört zu")),
        (PROV.entity, ("source", "Quelle")),
        (RDF.value, ("value", "Wert")),
        (TIME.hasXSDDuration, ("duration", "Laufzeit")),
        (OWL.deprecated, ("retired", "zurückgezogen")),
        (DCTERMS.isReplacedBy, ("replaced by", "ersetzt durch")),
    )
}


class Namer:
    """Names and links for one page: what the description says, in the page's language."""

    def __init__(self, description: Description, ontology: Ontology, namespace: str, lang: str) -> None:
        self.d = description
        self.ontology = ontology
        self.namespace = namespace
        self.minter = Minter(namespace)
        self.lang = lang

    def literals(self, subject: str, predicate: str) -> list[ox.Literal]:
        return [o for o in self.d.objects(subject, predicate) if isinstance(o, ox.Literal)]

    def types_of(self, node: str) -> set[str]:
        return {o.value for o in self.d.objects(node, str(RDF.type))}

    def label(self, iri: str) -> Link:
        """A thing's label in the page's language where it has one; never its bare IRI when it has a key."""
        for predicate in _LABELS:
            chosen = pick_label(self.literals(iri, predicate), self.lang)
            if chosen is not None:
                return Link(chosen.value, lang=chosen.language or None, title=iri)
        if iri.startswith(_SCK):
            return Link(self.ontology.label(iri, self.lang) or iri[len(_SCK) :], title=iri)
        key = self.minter.key(iri)
        if key is not None:
            whole = owner(iri)
            return self.label(whole) if whole != iri else Link(key, title=iri)
        return Link(iri, title=iri)

    def link(self, value: Value, external: bool = False) -> Link:
        """A value as the page shows it; `external` shows a foreign IRI as itself rather than by its label."""
        if isinstance(value, ox.Literal):
            return (
                Link(format_date(value, self.lang))
                if is_date(value)
                else Link(value.value, lang=value.language or None)
            )
        if isinstance(value, ox.BlankNode):
            return Link(f"_:{value.value}")
        return self.iri_link(value.value, external)

    def iri_link(self, iri: str, external: bool = False) -> Link:
        if self.d.is_fragment(iri):
            return Link(self.part_title(iri), "#" + iri.partition("#")[2], title=iri)
        if iri.startswith(self.minter.things):
            # Another thing's part is shown by its owner's name, linked to the part on the owner's page.
            whole = owner(iri)
            return replace(self.label(whole), href=self.doc_href(whole) + iri.removeprefix(whole), title=iri)
        if iri.startswith(self.minter.vocabularies):  # a concept or scheme, served at its path
            return replace(self.label(iri), href=self.minter.id_path(iri))
        if iri.startswith(self.namespace):
            return self.label(iri)
        if iri.startswith(_SCK):
            return term_link(iri, self.ontology, self.lang)
        labelled = self.label(iri)
        # Only web addresses are followed; any other scheme ("javascript:", "urn:") is shown, not linked.
        href = iri if iri.lower().startswith(("http://", "https://")) else None
        return Link(iri if external else labelled.text, href, labelled.lang, iri, external=href is not None)

    def doc_href(self, iri: str) -> str:
        return self.minter.page(iri)

    def property_name(self, predicate: str) -> str:
        if predicate.startswith(_SCK):
            return self.ontology.label(predicate, self.lang) or predicate[len(_SCK) :]
        names = _PROPERTY_NAMES.get(predicate)
        return names[self.lang == "de"] if names else term_link(predicate, self.ontology, self.lang).text

    def first_date(self, node: str, predicates: tuple[str, ...] = _DATES) -> str | None:
        """The node's date (signed, started, happened, published), written at its precision."""
        for predicate in predicates:
            for value in self.literals(node, predicate):
                return format_date(value, self.lang)
        return None

    def dated(self, node: str, stated: str, *, phrases: tuple[str, str] = ("on", "by")) -> str | None:
        """A statement's date as a reader needs it: "9 December 2016" when a cited passage states it, "by October
        2018" when only a source's publication date bounds it; then how many sources support it."""
        parts = self.dated_parts(node, stated, phrases=phrases)
        if parts is None:
            return None
        text, note = parts
        return f"{text} ({note})" if note else text

    def dated_parts(self, node: str, stated: str, *, phrases: tuple[str, str] = ("on", "by")) -> tuple[str, str] | None:
        """The date as shown ("by October 2018") and, apart, its support ("stated in 2 sources"; empty if unknown)."""
        bound, support = DATED[stated]
        values, counts = self.literals(node, stated), self.literals(node, support)
        return date_phrase(
            values[0] if values else None,
            next(iter(self.literals(node, bound)), None),
            int(counts[0].value) if counts else None,
            self.lang,
            phrases,
        )

    def part_title(self, node: str) -> str:
        """A part's label, else its kind with its number or whom it names ("objective 2", "signature: A. Salem")."""
        label = pick_label(self.literals(node, str(RDFS.label)) or self.literals(node, str(SCHEMA.name)), self.lang)
        if label is not None:
            return label.value
        kinds = sorted(self.ontology.label(t, self.lang) or t for t in self.types_of(node))
        kind = kinds[0] if kinds else node.partition("#")[2]
        number = re.search(r"-(\d+)$", node)
        if number:
            return f"{kind} {number[1]}"
        named = [self.link(v).text for p in _NAMING for v in self.d.objects(node, p)]
        return f"{kind}: {named[0]}" if named else kind


def date_phrase(
    stated: ox.Literal | None,
    bound: ox.Literal | None,
    support: int | None,
    lang: str,
    phrases: tuple[str, str] = ("on", "by"),
) -> tuple[str, str] | None:
    """A date as a reader needs it, stated ("since 9 December 2016") or only a bound ("by 2016"), and apart how
    many sources support it ("stated in 2 sources"; empty when not counted). None when there is neither."""
    said = words(lang)
    value, phrase, note = (stated, phrases[0], "stated_in") if stated is not None else (bound, phrases[1], "bound_by")
    if value is None:
        return None
    text = said[phrase].format(date=format_date(value, lang))
    if support is None:
        return text, ""
    return text, said[note + ("" if support == 1 else "_many")].format(n=support)
