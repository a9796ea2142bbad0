"""Step 2 of the pipeline: turn typed records into RDF, the same records always giving the same triples."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from graph import vocab
from graph.dates import BY, add_duration, parse_partial_date, written_date
from graph.iris import Minter, child
from graph.pipeline.date_support import supporting_sources
from graph.pipeline.keys import event_key, founding_key, membership_key, post_key, remark_key
from graph.pipeline.load import Records
from graph.pipeline.records import (
    PUBLISHED,
    Agreement,
    Alliance,
    Amount,
    Cited,
    CitedText,
    City,
    Concept,
    Conflict,
    Dated,
    DateSpec,
    Event,
    Identifier,
    LangText,
    Organization,
    Person,
    Pilot,
    Retired,
    Source,
)
from graph.prefixes import prefixes
from graph.vocab import MUNICIPALITY_KEY, WD, resolved

# The terms of the vocabularies, looked up once per process instead of for every triple.
DCTERMS = resolved(vocab.DCTERMS)
FOAF = resolved(vocab.FOAF)
GEOSPARQL = resolved(vocab.GEOSPARQL)
ORG = resolved(vocab.ORG)
OWL = resolved(vocab.OWL)
PROV = resolved(vocab.PROV)
RDF = resolved(vocab.RDF)
RDFS = resolved(vocab.RDFS)
SCHEMA = resolved(vocab.SCHEMA)
SCK = resolved(vocab.SCK)
SKOS = resolved(vocab.SKOS)
TIME = resolved(vocab.TIME)
XSD = resolved(vocab.XSD)

__all__ = ["Triple", "build_triples", "new_graph", "stream_triples"]

Triple = tuple[URIRef, URIRef, Node]

# Made once: rdflib takes over 2 µs to make a boolean literal.
_TRUE = Literal(True)
_PRECISION_TYPE = {"year": XSD.gYear, "month": XSD.gYearMonth, "day": XSD.date}
_SOURCE_TYPE = {"news-article": SCHEMA.NewsArticle, "press-release": SCHEMA.NewsArticle, "web-page": SCHEMA.WebPage}
_CONCEPT_CLASS = {
    "role": (SCK.Role, ORG.Role),
    "theme": (SCK.ThematicArea,),
    "agreement-type": (SCK.AgreementType,),
    "status": (SCK.Status,),
}


def new_graph(namespace: str | None = None, triples: Iterable[Triple] = ()) -> Graph:
    """A graph with the project's prefixes bound (WGS84 bound correctly, and `id`/`vocab` when given a namespace)."""
    graph = Graph(bind_namespaces="core")
    for prefix, base in prefixes(namespace).items():
        graph.bind(prefix, base, replace=True)
    graph.addN((*triple, graph) for triple in triples)
    return graph


def build_triples(records: Records, namespace: str) -> list[Triple]:
    """The knowledge graph of the curated records, each triple once, in the order the records give them.

    A plain list rather than an rdflib graph: indexing a million triples three ways costs more than building them,
    and the later steps (validation in batches, sorted N-Quads) each need their own arrangement anyway.
    """
    # A dict keeps the first occurrence of each triple and drops repeats (a scheme named by every concept).
    return list(dict.fromkeys(stream_triples(records, namespace)))


def stream_triples(records: Records, namespace: str) -> Iterator[Triple]:
    """The triples of `build_triples` as each record gives them, never all held at once: a triple that several
    records give (a scheme named by every concept) comes once for each, so a consumer keeps each once itself."""
    builder = _Builder(records, Minter(namespace))
    tables: list[tuple[Callable[[Any], None], Iterable[Any]]] = [
        (builder.concept, records.concepts.values()),
        (builder.source, records.sources.values()),
        (builder.city, records.cities.values()),
        (builder.organization, records.organizations.values()),
        (builder.person, records.people.values()),
        (builder.alliance, records.alliances.values()),
        (builder.agreement, records.agreements.values()),
        (builder.pilot, records.pilots.values()),
        (builder.conflict, records.conflicts.values()),
        (builder.retired, records.retired.values()),
    ]
    for make, table in tables:
        for record in table:
            make(record)
            made, builder.triples = builder.triples, []
            yield from made


class _Builder:
    def __init__(self, records: Records, mint: Minter) -> None:
        self.records = records
        self.mint = mint
        self.triples: list[Triple] = []  # those of the record at hand

    # --- shared pieces -------------------------------------------------------------------------------------
    def add(self, subject: URIRef, predicate: URIRef, obj: Node) -> None:
        self.triples.append((subject, predicate, obj))

    def node(self, kind: str, key: str, *classes: URIRef) -> URIRef:
        iri = self.mint.thing(kind, key)
        self.add(iri, DCTERMS.identifier, Literal(key))
        for cls in classes:
            self.add(iri, RDF.type, cls)
        return iri

    def text(self, subject: URIRef, predicate: URIRef, text: LangText | CitedText | None) -> None:
        if text is None:
            return
        for lang in ("de", "en"):
            value = getattr(text, lang)
            if value is not None:
                self.add(subject, predicate, Literal(value, lang=lang))

    def cite(self, statement: URIRef, record: Cited) -> None:
        """prov:wasDerivedFrom each source, qualified with where the claim stands and what it says."""
        seen: dict[str, int] = {}
        for citation in record.citations:
            seen[citation.source] = seen.get(citation.source, 0) + 1
            suffix = "" if seen[citation.source] == 1 else f"-{seen[citation.source]}"
            source = self.mint.thing("source", citation.source)
            qualified = child(statement, f"source-{citation.source}{suffix}")
            self.add(statement, PROV.wasDerivedFrom, source)
            self.add(statement, PROV.qualifiedDerivation, qualified)
            self.add(qualified, RDF.type, SCK.Citation)
            self.add(qualified, PROV.entity, source)
            self.add(qualified, SCK.locator, Literal(citation.at))
            self.add(qualified, SCK.claim, Literal(citation.claim, lang="en"))
            for given in citation.dates:
                self.add(qualified, SCK.statesDate, _date_literal(given))
            if citation.date == PUBLISHED:
                self.add(qualified, SCK.boundedByPublication, _TRUE)

    def concept_ref(self, scheme: str, key: str | None) -> URIRef | None:
        return None if key is None else self.mint.concept(scheme, key)

    def date(
        self,
        subject: URIRef,
        spec: DateSpec | None,
        value: URIRef,
        earliest: URIRef,
        latest: URIRef,
        *,
        bound: URIRef | None = None,
        support: tuple[URIRef, Cited] | None = None,
    ) -> None:
        """A stated date: its value at its precision and the earliest and latest day it can mean. A bound (`by`):
        only `bound` at its precision and the latest day; the earliest day stays unknown. `support` names the
        property that counts the sources supporting the date, and the statement whose citations they are."""
        if spec is None:
            return
        if support is not None:
            count = len(supporting_sources(spec, support[1].citations, self.records.sources))
            self.add(subject, support[0], Literal(count))
        partial = spec.partial
        if spec.stated:
            self.add(subject, value, _date_literal(spec.text))
            self.add(subject, earliest, Literal(partial.earliest))
        else:
            assert bound is not None, "only statement dates can be bounds"
            self.add(subject, bound, _date_literal(spec.text))
        self.add(subject, latest, Literal(partial.latest))
        if spec.wording is not None:
            self.add(subject, SCK.dateWording, Literal(spec.wording, lang="de"))
        if spec.place is not None:
            self.add(subject, SCK.place, Literal(spec.place))

    def dropped(self, subject: URIRef, record: Dated) -> None:
        """Dates taken out for want of a supporting passage: counted, with why, but no date value to query."""
        for item in record.dropped:
            node = child(subject, f"dropped-{item.field}")
            self.add(node, RDF.type, SCK.DroppedDate)
            self.add(node, SCK.about, subject)
            self.add(node, SCK.dateField, Literal(item.field))
            self.add(node, RDFS.comment, Literal(f"{item.was}: {item.reason}", lang="en"))

    def period(self, subject: URIRef, record: Cited, start: DateSpec | None, end: DateSpec | None) -> None:
        self.date(
            subject,
            start,
            SCK.startDate,
            SCK.startEarliest,
            SCK.startLatest,
            bound=SCK.startNoLaterThan,
            support=(SCK.startSupport, record),
        )
        self.date(
            subject,
            end,
            SCK.endDate,
            SCK.endEarliest,
            SCK.endLatest,
            bound=SCK.endNoLaterThan,
            support=(SCK.endSupport, record),
        )

    def attest(self, subject: URIRef, predicate: URIRef, obj: Node, name: str, identifier: Identifier | None) -> None:
        """A single cited attribute: the plain triple for queries, and a node saying which sources state it."""
        if identifier is None:
            return
        self.add(subject, predicate, obj)
        node = child(subject, name)
        self.add(node, RDF.type, SCK.Attestation)
        self.add(node, SCK.about, subject)
        self.add(node, SCK.attests, predicate)
        self.add(node, RDF.value, Literal(identifier.value))
        self.cite(node, identifier)

    def objective(self, subject: URIRef, item: CitedText, index: int) -> None:
        node = child(subject, f"objective-{index}")
        self.add(subject, SCK.objective, node)
        self.add(node, RDF.type, SCK.Objective)
        self.text(node, SCK.summary, item)
        self.cite(node, item)

    # --- one method per record type -----------------------------------------------------------------------
    def concept(self, concept: Concept) -> None:
        iri = self.mint.concept(concept.scheme, concept.key)
        scheme = self.mint.scheme(concept.scheme)
        self.add(scheme, RDF.type, SKOS.ConceptScheme)
        self.add(scheme, RDFS.label, Literal(concept.scheme))
        self.add(iri, RDF.type, SKOS.Concept)
        for cls in _CONCEPT_CLASS.get(concept.scheme, ()):
            self.add(iri, RDF.type, cls)
        self.add(iri, SKOS.inScheme, scheme)
        self.add(iri, SKOS.notation, Literal(concept.key))
        for lang in ("de", "en"):
            label = Literal(getattr(concept, lang), lang=lang)
            self.add(iri, SKOS.prefLabel, label)
            self.add(iri, RDFS.label, label)
        self.add(iri, SKOS.definition, Literal(concept.definition, lang="en"))
        if concept.broader is not None:
            self.add(iri, SKOS.broader, self.mint.concept(concept.scheme, concept.broader))

    def source(self, source: Source) -> None:
        kind_class = _SOURCE_TYPE.get(source.kind, SCHEMA.CreativeWork)
        iri = self.node("source", source.key, SCK.Source, PROV.Entity, kind_class)
        self.add(iri, SCK.sourceKind, self.mint.concept("source-kind", source.kind))
        self.add(iri, DCTERMS.title, Literal(source.title))
        self.add(iri, RDFS.label, Literal(source.title))
        if source.publisher is not None:
            publisher = child(iri, "publisher")
            self.add(iri, SCHEMA.publisher, publisher)
            self.add(publisher, RDF.type, SCHEMA.Organization)
            self.add(publisher, SCHEMA.name, Literal(source.publisher))
        if source.published is not None:
            self.date(iri, DateSpec(date=source.published), DCTERMS.issued, SCK.earliest, SCK.latest)
        if source.url is not None:
            self.add(iri, SCHEMA.url, URIRef(source.url))
        if source.language is not None:
            self.add(iri, DCTERMS.language, Literal(source.language))
        if source.note is not None:
            self.add(iri, RDFS.comment, Literal(source.note, lang="en"))

    def city(self, city: City) -> None:
        iri = self.node("city", city.key, SCK.City, SCHEMA.City)
        self.add(iri, RDFS.label, Literal(city.name, lang="de"))
        self.add(iri, SCHEMA.name, Literal(city.name))
        if city.land is not None:
            self.add(iri, SCK.land, self.mint.concept("land", city.land))
        if city.ags is not None:
            self.attest(iri, SCK.ags, Literal(city.ags.value), "ags", city.ags)
            self.add(iri, SCK.municipalityKey, MUNICIPALITY_KEY[city.ags.value])
        if city.wikidata is not None:
            self.attest(iri, OWL.sameAs, WD[city.wikidata.value], "wikidata", city.wikidata)
        if city.country is not None:
            self.attest(iri, SCK.countryCode, Literal(city.country.value), "country", city.country)
        if city.location is not None:
            # GeoSPARQL: a wktLiteral without a CRS IRI is in CRS84 (longitude first), which is what GeoNames gives.
            geometry = child(iri, "geometry")
            self.add(iri, GEOSPARQL.hasGeometry, geometry)
            self.add(geometry, RDF.type, GEOSPARQL.Geometry)
            self.add(geometry, RDF.type, SCK.Location)
            self.add(geometry, GEOSPARQL.asWKT, Literal(city.location.point, datatype=GEOSPARQL.wktLiteral))
            self.add(geometry, SCK.geonamesId, Literal(str(city.location.geonames)))
            self.cite(geometry, city.location)
        self.cite(iri, city)
        municipality = self.node(
            "municipality", city.key, SCK.Municipality, ORG.FormalOrganization, SCHEMA.GovernmentOrganization
        )
        self.add(municipality, RDFS.label, Literal(city.municipality or city.name, lang="de"))
        self.add(municipality, SCK.municipalityOf, iri)
        self.cite(municipality, city)

    def organization(self, organization: Organization) -> None:
        company = organization.kind == "company"
        iri = self.node(
            "company" if company else "organization",
            organization.key,
            SCK.Company if company else SCK.Organization,
            ORG.FormalOrganization,
            SCHEMA.Corporation if company else SCHEMA.Organization,
        )
        self.add(iri, RDFS.label, Literal(organization.name))
        self.add(iri, SCHEMA.name, Literal(organization.name))
        self.add(iri, SCK.organizationKind, self.mint.concept("organization-kind", organization.kind))
        for name in organization.alt_names:
            self.add(iri, SKOS.altLabel, Literal(name))
        if organization.parent is not None:
            parent = self.records.organizations[organization.parent]
            self.add(iri, ORG.subOrganizationOf, self.mint.agent(f"{_ref_kind(parent)}:{parent.key}"))
        if organization.homepage is not None:
            self.add(iri, FOAF.homepage, URIRef(organization.homepage))
        self.text(iri, SCHEMA.description, organization.description)
        if organization.country is not None:
            self.attest(iri, SCK.countryCode, Literal(organization.country.value), "country", organization.country)
        if organization.wikidata is not None:
            self.attest(iri, OWL.sameAs, WD[organization.wikidata.value], "wikidata", organization.wikidata)
        self.cite(iri, organization)

    def person(self, person: Person) -> None:
        iri = self.node("person", person.key, SCK.Person, SCHEMA.Person, FOAF.Person)
        self.add(iri, RDFS.label, Literal(person.name))
        self.add(iri, SCHEMA.name, Literal(person.name))
        self.cite(iri, person)
        for post in person.posts:
            node = self.node("post", post_key(person.key, post), SCK.Post, ORG.Post)
            self.add(node, ORG.heldBy, iri)
            self.add(iri, ORG.holds, node)
            self.add(node, ORG.postIn, self.mint.agent(post.in_))
            self.text(node, RDFS.label, post.title)
            role = self.concept_ref("post-role", post.role)
            if role is not None:
                self.add(node, ORG.role, role)
            self.period(node, post, post.since, post.until)
            self.dropped(node, post)
            self.cite(node, post)
        for remark in person.remarks:
            node = self.node("remark", remark_key(person, remark), SCK.Remark, PROV.Entity)
            self.add(node, SCK.madeBy, iri)
            if remark.about is not None:
                self.add(node, SCK.about, self.mint.agent(remark.about))
            self.add(node, SCK.summary, Literal(remark.summary, lang="en"))
            self.add(node, RDFS.label, Literal(f"{person.name}: {remark.summary}", lang="en"))
            self.cite(node, remark)

    def alliance(self, alliance: Alliance) -> None:
        iri = self.node("alliance", alliance.key, SCK.Alliance, ORG.OrganizationalCollaboration, SCHEMA.Consortium)
        self.text(iri, RDFS.label, alliance.name)
        self.text(iri, SCHEMA.description, alliance.description)
        kind = self.concept_ref("alliance-kind", alliance.kind)
        if kind is not None:
            self.add(iri, SCK.allianceKind, kind)
        if alliance.motto is not None:
            self.attest(iri, SCK.motto, Literal(alliance.motto.value, lang="de"), "motto", alliance.motto)
        self.cite(iri, alliance)
        for index, goal in enumerate(alliance.goals, start=1):
            self.objective(iri, goal, index)
        for founding in alliance.founded:
            event = self.node("event", founding_key(alliance, founding), SCK.Event, SCHEMA.Event)
            self.add(iri, SCK.event, event)
            self.add(event, SCK.alliance, iri)
            self.add(event, SCK.eventKind, self.mint.concept("event-kind", "founding"))
            self.add(event, SCK.summary, Literal(founding.summary, lang="en"))
            founding_kind = self.records.concepts[("event-kind", "founding")]
            for lang, name in (("en", founding_kind.en), ("de", founding_kind.de)):
                when = written_date(founding.date.text, lang)
                when = when if founding.date.stated else BY[lang].format(date=when)
                self.add(event, RDFS.label, Literal(f"{name} ({when})", lang=lang))
            self.date(
                event,
                founding.date,
                SCK.date,
                SCK.earliest,
                SCK.latest,
                bound=SCK.noLaterThan,
                support=(SCK.dateSupport, founding),
            )
            self.cite(event, founding)
        for focus in alliance.themes:
            node = child(iri, f"theme-{focus.theme}-{focus.citations[0].source}")
            theme = self.mint.concept("theme", focus.theme)
            self.add(iri, SCK.theme, theme)
            self.add(iri, SCK.focus, node)
            self.add(node, RDF.type, SCK.ThematicFocus)
            self.add(node, SCK.theme, theme)
            self.text(node, RDFS.label, focus.label)
            self.cite(node, focus)
        for membership in alliance.members:
            node = self.node("membership", membership_key(alliance, membership), SCK.Membership, ORG.Membership)
            member = self.mint.agent(membership.member)
            self.add(node, ORG.member, member)
            self.add(node, ORG.organization, iri)
            self.add(iri, ORG.hasMembership, node)
            self.add(node, ORG.role, self.mint.concept("role", membership.role))
            self.add(
                node,
                RDFS.label,
                Literal(
                    f"{_ref_label(self.records, membership.member)} in "
                    f"{alliance.name.de or alliance.name.en} ({membership.role})"
                ),
            )
            self.period(node, membership, membership.since, membership.until)
            self.dropped(node, membership)
            if membership.since is not None or membership.until is not None:
                self.interval(node, membership.since, membership.until)
            self.cite(node, membership)
        for happening in alliance.events:
            self.event(iri, alliance, happening)
        self.project(iri, alliance)

    def project(self, iri: URIRef, alliance: Alliance) -> None:
        """What a funded project adds: its CORDIS id, programme and call, running time and money, each cited."""
        if alliance.cordis is not None:
            self.attest(iri, SCK.cordisId, Literal(alliance.cordis.value), "cordis", alliance.cordis)
        for index, funding in enumerate(alliance.funding, start=1):
            node = child(iri, f"funding-{index}")
            programme = self.mint.concept("programme", funding.programme)
            self.add(iri, SCK.programme, programme)
            self.add(iri, SCK.funding, node)
            self.add(node, RDF.type, SCK.Funding)
            self.add(node, SCK.programme, programme)
            if funding.call is not None:
                self.add(node, SCK.call, Literal(funding.call))
            self.cite(node, funding)
        for index, period in enumerate(alliance.period, start=1):
            node = child(iri, f"period-{index}")
            self.add(iri, SCK.period, node)
            self.add(node, RDF.type, TIME.ProperInterval)
            self.add(node, RDF.type, SCK.RunningTime)
            self.period(node, period, period.start, period.end)
            self.cite(node, period)
        for name, predicate, amounts in (
            ("eu-contribution", SCK.euContribution, alliance.eu_contribution),
            ("total-cost", SCK.totalCost, alliance.total_cost),
        ):
            for index, amount in enumerate(amounts, start=1):
                self.amount(iri, predicate, child(iri, f"{name}-{index}"), amount)

    def amount(self, subject: URIRef, predicate: URIRef, node: URIRef, amount: Amount) -> None:
        self.add(subject, predicate, node)
        self.add(node, RDF.type, SCHEMA.MonetaryAmount)
        self.add(node, RDF.type, SCK.Amount)
        self.add(node, SCHEMA.value, Literal(amount.value, datatype=XSD.decimal))
        self.add(node, SCHEMA.currency, Literal(amount.currency))
        self.cite(node, amount)

    def interval(self, node: URIRef, start: DateSpec | None, end: DateSpec | None) -> None:
        """org:memberDuring as an OWL-Time interval whose instants keep the date's precision."""
        interval = child(node, "during")
        self.add(node, ORG.memberDuring, interval)
        self.add(interval, RDF.type, TIME.Interval)
        for name, spec, link in (("start", start, TIME.hasBeginning), ("end", end, TIME.hasEnd)):
            if spec is None or not spec.stated:  # a bound names no instant; sck:startNoLaterThan carries it
                continue
            instant = child(node, name)
            self.add(interval, link, instant)
            self.add(instant, RDF.type, TIME.Instant)
            precision = spec.partial.precision
            prop = {"year": TIME.inXSDgYear, "month": TIME.inXSDgYearMonth, "day": TIME.inXSDDate}[precision]
            self.add(instant, prop, _date_literal(spec.text))

    def event(self, alliance_iri: URIRef, alliance: Alliance, event: Event) -> None:
        iri = self.node("event", event_key(alliance, event), SCK.Event, SCHEMA.Event)
        self.add(alliance_iri, SCK.event, iri)
        self.add(iri, SCK.alliance, alliance_iri)
        self.add(iri, SCK.eventKind, self.mint.concept("event-kind", event.kind))
        self.add(iri, SCK.summary, Literal(event.summary, lang="en"))
        if event.title is not None:
            self.text(iri, RDFS.label, event.title)
        else:
            self.add(iri, RDFS.label, Literal(event.summary, lang="en"))
        self.date(
            iri, event.date, SCK.date, SCK.earliest, SCK.latest, bound=SCK.noLaterThan, support=(SCK.dateSupport, event)
        )
        self.dropped(iri, event)
        if event.place is not None:
            self.add(iri, SCK.place, Literal(event.place))
        for figure in event.figures:
            node = child(iri, f"figure-{figure.measure}")
            self.add(iri, SCK.figure, node)
            self.add(node, RDF.type, SCK.Figure)
            self.add(node, SCK.measure, Literal(figure.measure))
            self.add(node, RDF.value, Literal(figure.value))
        self.cite(iri, event)

    def agreement(self, agreement: Agreement) -> None:
        iri = self.node("agreement", agreement.key, SCK.Agreement, PROV.Entity)
        self.text(iri, RDFS.label, agreement.title)
        self.add(iri, SCK.agreementType, self.mint.concept("agreement-type", agreement.type))
        if agreement.alliance is not None:
            self.add(iri, SCK.alliance, self.mint.thing("alliance", agreement.alliance))
        for party in agreement.parties:
            self.add(iri, SCK.party, self.mint.agent(party))
        status = self.concept_ref("status", agreement.status)
        if status is not None:
            self.add(iri, SCK.status, status)
        self.date(
            iri,
            agreement.signed,
            SCK.signedOn,
            SCK.signedEarliest,
            SCK.signedLatest,
            bound=SCK.signedNoLaterThan,
            support=(SCK.signedSupport, agreement),
        )
        self.dropped(iri, agreement)
        if agreement.duration is not None:
            self.add(iri, TIME.hasXSDDuration, Literal(agreement.duration, datatype=XSD.duration))
            if agreement.signed is not None:
                partial = agreement.signed.partial
                if agreement.signed.stated:  # signed no later than X: the term's earliest end is unknown
                    self.add(iri, SCK.scheduledEndEarliest, Literal(add_duration(partial.earliest, agreement.duration)))
                self.add(iri, SCK.scheduledEndLatest, Literal(add_duration(partial.latest, agreement.duration)))
        for signatory in agreement.signatories:
            node = child(iri, f"signature-{signatory.person}")
            person = self.mint.thing("person", signatory.person)
            self.add(iri, SCK.signature, node)
            self.add(node, RDF.type, SCK.Signature)
            self.add(node, SCK.signatory, person)
            if signatory.on_behalf_of is not None:
                self.add(node, SCK.onBehalfOf, self.mint.agent(signatory.on_behalf_of))
                for post in self._posts_in(signatory.person, signatory.on_behalf_of):
                    self.add(node, SCK.post, post)
            self.cite(node, signatory)
        for index, item in enumerate(agreement.scope, start=1):
            self.objective(iri, item, index)
        self.cite(iri, agreement)

    def _posts_in(self, person_key: str, ref: str) -> list[URIRef]:
        person = self.records.people[person_key]
        return [self.mint.thing("post", post_key(person_key, post)) for post in person.posts if post.in_ == ref]

    def pilot(self, pilot: Pilot) -> None:
        iri = self.node("pilot", pilot.key, SCK.Pilot, SCHEMA.Project)
        self.text(iri, RDFS.label, pilot.name)
        self.text(iri, SCHEMA.description, pilot.description)
        if pilot.alliance is not None:
            self.add(iri, SCK.alliance, self.mint.thing("alliance", pilot.alliance))
        for theme in pilot.themes:
            self.add(iri, SCK.theme, self.mint.concept("theme", theme))
        status = self.concept_ref("status", pilot.status)
        if status is not None:
            self.add(iri, SCK.status, status)
        if pilot.lead is not None:
            self.add(iri, SCK.lead, self.mint.agent(pilot.lead))
        for partner in pilot.partners:
            self.add(iri, SCK.partner, self.mint.agent(partner))
        self.period(iri, pilot, pilot.start, pilot.end)
        self.dropped(iri, pilot)
        self.cite(iri, pilot)

    def retired(self, retired: Retired) -> None:
        iri = self.mint.thing(retired.type, retired.key)
        self.add(iri, OWL.deprecated, _TRUE)
        self.add(iri, RDFS.comment, Literal(retired.reason, lang="en"))
        if retired.replaced_by is not None:
            kind, key = retired.replaced_by.split(":", 1)
            self.add(iri, DCTERMS.isReplacedBy, self.mint.thing(kind, key))

    def conflict(self, conflict: Conflict) -> None:
        iri = self.node("conflict", conflict.key, SCK.Conflict)
        self.add(iri, RDFS.label, Literal(conflict.summary, lang="en"))
        self.add(iri, SCK.summary, Literal(conflict.summary, lang="en"))
        if conflict.about is not None:
            self.add(iri, SCK.about, self.mint.agent(conflict.about))
        for source in conflict.sources:
            self.add(iri, SCK.conflictingSource, self.mint.thing("source", source))


def _date_literal(text: str) -> Literal:
    """A date at its precision: xsd:gYear, xsd:gYearMonth or xsd:date."""
    return Literal(text, datatype=_PRECISION_TYPE[parse_partial_date(text).precision])


def _ref_kind(organization: Organization) -> str:
    return "company" if organization.kind == "company" else "organization"


def _ref_label(records: Records, ref: str) -> str:
    kind, key = ref.split(":", 1)
    if kind == "city":
        return records.cities[key].municipality or records.cities[key].name
    if kind in ("company", "organization"):
        return records.organizations[key].name
    if kind == "alliance":
        name = records.alliances[key].name
        return name.de or name.en or key
    return records.people[key].name
