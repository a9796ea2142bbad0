"""What the HTML page of one thing shows, read from its description: facts, memberships, sources, citations."""

from __future__ import annotations

from dataclasses import dataclass, replace

from markupsafe import Markup

from api.http.terms import node_id
from api.linked_data.describe import Description
from api.linked_data.naming import DATED, Namer
from api.pages.diagram import Node, alliance_diagram
from api.pages.display import Fact, Link, pick_label
from api.pages.ontology import Ontology, term_link
from api.pages.templating import words
from graph.iris import owner
from graph.vocab import DCTERMS, FOAF, ORG, OWL, PROV, RDF, RDFS, SCHEMA, SCK, SKOS, TIME

__all__ = ["DocPage", "doc_page"]

_MEMBERSHIP = str(ORG.Membership)
# Shown in the page's head or in their own section, or computed from what is shown (the earliest/latest bounds);
# a concept's skos:prefLabel repeats its rdfs:label, which heads its page.
_NOT_FACTS = {
    str(p)
    for p in (
        RDF.type,
        RDFS.label,
        SKOS.prefLabel,
        DCTERMS.identifier,
        PROV.wasDerivedFrom,
        PROV.qualifiedDerivation,
        ORG.hasMembership,
        ORG.memberDuring,
        SCK.earliest,
        SCK.latest,
        SCK.startEarliest,
        SCK.startLatest,
        SCK.endEarliest,
        SCK.endLatest,
        SCK.signedEarliest,
        SCK.signedLatest,
        OWL.sameAs,
        SCK.municipalityKey,
        FOAF.homepage,
        SCHEMA.url,
        SCK.startSupport,
        SCK.endSupport,
        SCK.signedSupport,
        SCK.dateSupport,
        DCTERMS.modified,
    )
}  # modified: the release line under the heading
# A bound is shown as the date it bounds ("start date: by October 2018"), with the stated date's name.
_BOUND_OF = {bound: stated for stated, (bound, _) in DATED.items()}
_IDENTIFIERS = (str(OWL.sameAs), str(SCK.municipalityKey), str(FOAF.homepage), str(SCHEMA.url))
# Parts that repeat what the page already says elsewhere: citations (under Sources), the membership interval
# (its start and end are facts), attestations (their value is a fact, their sources are listed with them).
_HIDDEN_PARTS = {str(SCK.Citation), str(TIME.Interval), str(TIME.Instant), str(SCK.Attestation), str(SCK.DroppedDate)}


@dataclass(frozen=True)
class Part:
    anchor: str
    title: str
    facts: list[Fact]


@dataclass(frozen=True)
class MembershipRow:
    membership: Link
    other: Link
    role: Link | None
    since: str | None
    until: str | None


@dataclass(frozen=True)
class Claim:
    text: str
    lang: str | None
    where: str | None
    about: Link | None  # the part of the thing, or the other thing, the claim is about


@dataclass(frozen=True)
class SourceRow:
    source: Link
    publisher: str | None
    published: str | None
    url: Link | None
    claims: list[Claim]


@dataclass(frozen=True)
class Incoming:
    thing: Link
    via: str
    date: str | None


@dataclass(frozen=True)
class Moment:
    """One dated line of a timeline; `sort` is the date as written (ISO at its precision), `date` as shown (a
    bound as "by ..."), `support` how many sources state or bound it."""

    sort: str
    date: str
    thing: Link
    what: str
    support: str = ""


@dataclass(frozen=True)
class DocPage:
    lang: str
    iri: str
    title: Link
    labels: list[Link]
    types: list[Link]
    retired: bool
    successors: list[Link]
    facts: list[Fact]
    identifiers: list[Fact]
    parts: list[Part]
    memberships: list[MembershipRow]
    linked_from: list[Incoming]
    sources: list[SourceRow]
    cited_by: list[Claim]
    timeline: list[Moment]
    diagram: Markup | None


def doc_page(description: Description, ontology: Ontology, namespace: str, lang: str) -> DocPage:
    return _PageBuilder(Namer(description, ontology, namespace, lang)).page()


_KINDS = {"municipality": "city", "company": "company", "organization": "organization"}
_TIMED = (str(SCK.startDate), str(SCK.signedOn), str(SCK.date), str(DCTERMS.issued))
_BOUNDS = tuple(DATED[stated][0] for stated in _TIMED if stated in DATED)


class _PageBuilder:
    def __init__(self, namer: Namer) -> None:
        self.n = namer
        self.d = namer.d
        self.iri = namer.d.iri
        # The thing and the municipality acting for it: what links to either is shown (a city's alliances).
        self.agents = {
            self.iri,
            *(node_id(t.subject) for t in self.d.incoming(self.iri) if t.predicate.value == str(SCK.municipalityOf)),
        }

    def page(self) -> DocPage:
        n, lang = self.n, self.n.lang
        title = n.label(self.iri)
        types = [term_link(t.value, n.ontology, lang) for t in self.d.objects(self.iri, str(RDF.type))]
        return DocPage(
            lang=lang,
            iri=self.iri,
            title=title,
            labels=[
                Link(label.value, lang=label.language or None)
                for label in n.literals(self.iri, str(RDFS.label))
                if (label.value, label.language or None) != (title.text, title.lang)
            ],
            types=sorted(types, key=lambda link: (link.external, link.text)),
            retired=self.d.retired,
            successors=[n.iri_link(iri) for iri in self.d.replaced_by],
            facts=self.facts(self.iri),
            identifiers=[
                Fact(n.property_name(p), [n.link(v, external=True) for v in self.d.objects(self.iri, p)])
                for p in _IDENTIFIERS
                if self.d.objects(self.iri, p)
            ],
            parts=self.parts(),
            memberships=self.memberships(),
            linked_from=self.linked_from(),
            sources=self.sources(),
            cited_by=self.cited_by(),
            timeline=self.timeline(),
            diagram=self.diagram(),
        )

    def timeline(self) -> list[Moment]:
        """The dated statements about the thing (memberships, agreements, events, pilots), oldest first."""
        moments = {}
        related = [
            *(row.membership.title or "" for row in self.memberships()),
            *(node_id(t.subject) for agent in self.agents for t in self.d.incoming(agent)),
        ]
        for node in related:
            if not node or self.d.is_fragment(node):
                continue
            for predicate in (*_TIMED, *_BOUNDS):
                values = self.n.literals(node, predicate)
                if values and predicate != str(DCTERMS.issued):
                    kinds = sorted(self.n.label(t).text for t in self.n.types_of(node) if t.startswith(str(SCK)))
                    shown, support = self.n.dated_parts(node, _BOUND_OF.get(predicate, predicate)) or (
                        values[0].value,
                        "",
                    )
                    moments[node] = Moment(values[0].value, shown, self.n.iri_link(node), ", ".join(kinds), support)
                    break
        return sorted(moments.values(), key=lambda moment: (moment.sort, moment.thing.text.lower()))

    def diagram(self) -> Markup | None:
        """For an alliance: its members around it, coloured by kind, each a link to its page."""
        if str(SCK.Alliance) not in self.n.types_of(self.iri):
            return None
        members: dict[str, tuple[Link, str, list[str]]] = {}
        for node in self.d.nodes():
            if _MEMBERSHIP not in self.n.types_of(node):
                continue
            roles = [self.n.link(role).text for role in self.d.objects(node, str(ORG.role))]
            for member in self.d.objects(node, str(ORG.member)):
                # The kind is in the IRI (id/municipality/..., id/company/...): members' types are not described here.
                kind = _KINDS.get((self.n.minter.parse(member.value) or ("", ""))[0], "organization")
                entry = members.setdefault(member.value, (self.n.iri_link(member.value), kind, []))
                entry[2].extend(roles)
        if not members:
            return None
        words_of = words(self.n.lang)
        nodes = [
            Node(link.text, link.href, kind, tuple(dict.fromkeys(roles)))
            for link, kind, roles in sorted(members.values(), key=lambda m: (m[1], m[0].text.lower()))
        ]
        legend = {kind: words_of[f"kind_{kind}"] for kind in ("city", "company", "organization")}
        return alliance_diagram(self.n.label(self.iri).text, nodes, legend)

    def facts(self, node: str) -> list[Fact]:
        shown = [
            p for p in self.d.predicates(node) if p not in _NOT_FACTS and not (node != self.iri and p == str(SCK.about))
        ]  # a part is about the thing
        facts = [
            self.dated_fact(node, p)
            if p in DATED or p in _BOUND_OF
            else Fact(
                self.n.property_name(p), sorted((self.n.link(v) for v in self.d.objects(node, p)), key=lambda v: v.text)
            )
            for p in shown
        ]
        return sorted(facts, key=lambda fact: fact.name.lower())

    def dated_fact(self, node: str, predicate: str) -> Fact:
        """A stated date or its bound under the date's name, saying which it is and how many sources support it."""
        stated = _BOUND_OF.get(predicate, predicate)
        return Fact(self.n.property_name(stated), [Link(self.n.dated(node, stated) or "")])

    def parts(self) -> list[Part]:
        return [
            Part(node.partition("#")[2], self.n.part_title(node), self.facts(node))
            for node in self.d.nodes()
            if self.d.is_fragment(node) and not self.n.types_of(node) & _HIDDEN_PARTS
        ]

    def memberships(self) -> list[MembershipRow]:
        rows = []
        for node in self.d.nodes():
            if _MEMBERSHIP not in self.n.types_of(node):
                continue
            organizations = [o.value for o in self.d.objects(node, str(ORG.organization))]
            members = [o.value for o in self.d.objects(node, str(ORG.member))]
            others = members if self.iri in organizations else organizations if self.agents & set(members) else []
            roles = self.d.objects(node, str(ORG.role))
            rows += [
                MembershipRow(
                    self.n.iri_link(node),
                    self.n.iri_link(other),
                    self.n.link(roles[0]) if roles else None,
                    self.n.dated(node, str(SCK.startDate), phrases=("since_on", "since_by")),
                    self.n.dated(node, str(SCK.endDate), phrases=("until_on", "until_by")),
                )
                for other in others
            ]
        return sorted(rows, key=lambda row: (row.other.text.lower(), row.role.text if row.role else ""))

    def linked_from(self) -> list[Incoming]:
        """What links to the thing (or to the municipality acting for it), except what other sections list."""
        shown = {str(ORG.member), str(ORG.organization), str(PROV.entity), str(PROV.wasDerivedFrom)}
        rows = {}
        for agent in self.agents:
            for triple in self.d.incoming(agent):
                subject, predicate = node_id(triple.subject), triple.predicate.value
                if predicate in shown or self.d.is_fragment(subject) or subject == self.iri:
                    continue
                rows[(subject, predicate)] = Incoming(
                    self.n.iri_link(subject), self.n.property_name(predicate), self.n.first_date(subject)
                )
        return sorted(rows.values(), key=lambda row: (row.via.lower(), row.thing.text.lower()))

    def claim(self, citation: str, about: Link | None) -> Claim:
        text = pick_label(self.n.literals(citation, str(SCK.claim)), self.n.lang)
        where = self.n.literals(citation, str(SCK.locator))
        return Claim(
            text.value if text else "",
            text.language or None if text else None,
            where[0].value if where else None,
            about,
        )

    def sources(self) -> list[SourceRow]:
        """Every source of the thing and of its parts, with the claims each supports."""
        claims: dict[str, list[Claim]] = {}
        for node in [self.iri, *(n for n in self.d.nodes() if self.d.is_fragment(n))]:
            about = None if node == self.iri else self.about(node)
            for derived in self.d.objects(node, str(PROV.wasDerivedFrom)):
                claims.setdefault(derived.value, [])
            for citation in self.d.objects(node, str(PROV.qualifiedDerivation)):
                for entity in self.d.objects(citation.value, str(PROV.entity)):
                    claims.setdefault(entity.value, []).append(self.claim(citation.value, about))
        rows = []
        for source, cited in claims.items():
            publishers = [
                name
                for p in self.d.objects(source, str(SCHEMA.publisher))
                for name in self.n.literals(p.value, str(SCHEMA.name))
            ]
            urls = self.d.objects(source, str(SCHEMA.url))
            rows.append(
                SourceRow(
                    self.n.iri_link(source),
                    publishers[0].value if publishers else None,
                    self.n.first_date(source, (str(DCTERMS.issued),)),
                    self.n.link(urls[0], external=True) if urls else None,
                    cited,
                )
            )
        return sorted(rows, key=lambda row: row.source.text.lower())

    def about(self, node: str) -> Link:
        """What a part is, for a claim about it: an attestation names the property it attests."""
        attested = self.d.objects(node, str(SCK.attests))
        return Link(self.n.property_name(attested[0].value)) if attested else self.n.iri_link(node)

    def cited_by(self) -> list[Claim]:
        """On a source's page: the statements citing it, each with its claim and the thing it belongs to."""
        rows = []
        for triple in self.d.incoming(self.iri):
            citation = node_id(triple.subject)
            if triple.predicate.value == str(PROV.entity) and "#" in citation:
                thing = owner(citation)
                rows.append(self.claim(citation, replace(self.n.label(thing), href=self.n.doc_href(thing))))
        return sorted(rows, key=lambda claim: (claim.about.text.lower() if claim.about else "", claim.text))
