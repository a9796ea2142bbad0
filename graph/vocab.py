"""The RDF vocabularies the graph uses; the project's own terms as a closed namespace (a typo is an error)."""

from __future__ import annotations

from typing import TypeVar, cast

from rdflib import Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, ORG, OWL, PROV, RDF, RDFS, SKOS, TIME, VOID, XSD, DefinedNamespace

from graph.prefixes import VOCABULARIES

__all__ = [
    "DCAT",
    "DCTERMS",
    "FOAF",
    "GEOSPARQL",
    "MUNICIPALITY_KEY",
    "ORG",
    "OWL",
    "PROV",
    "RDF",
    "RDFS",
    "SCHEMA",
    "SCK",
    "SKOS",
    "TIME",
    "VOID",
    "WD",
    "XSD",
    "resolved",
]

SCHEMA = Namespace(VOCABULARIES["schema"])
WD = Namespace(VOCABULARIES["wd"])
GEOSPARQL = Namespace(VOCABULARIES["geo"])
MUNICIPALITY_KEY = Namespace("http://dcat-ap.de/def/politicalGeocoding/municipalityKey/")


class SCK(DefinedNamespace):
    """Terms of the smartcity-kg ontology (ontology/smartcity-kg.ttl); the default namespace."""

    _NS = Namespace(VOCABULARIES["sck"])
    _fail = True

    # classes
    Agreement: URIRef
    Alliance: URIRef
    Amount: URIRef
    AgreementType: URIRef
    Attestation: URIRef
    Citation: URIRef
    City: URIRef
    Company: URIRef
    Conflict: URIRef
    DroppedDate: URIRef
    Event: URIRef
    Figure: URIRef
    Funding: URIRef
    Location: URIRef
    Membership: URIRef
    Municipality: URIRef
    Objective: URIRef
    Organization: URIRef
    Person: URIRef
    Pilot: URIRef
    Post: URIRef
    Remark: URIRef
    Role: URIRef
    RunningTime: URIRef
    Signature: URIRef
    Source: URIRef
    Status: URIRef
    ThematicArea: URIRef
    ThematicFocus: URIRef
    # object properties
    about: URIRef
    agreementType: URIRef
    alliance: URIRef
    attests: URIRef
    conflictingSource: URIRef
    event: URIRef
    eventKind: URIRef
    figure: URIRef
    focus: URIRef
    allianceKind: URIRef
    land: URIRef
    lead: URIRef
    madeBy: URIRef
    municipalityKey: URIRef
    municipalityOf: URIRef
    objective: URIRef
    onBehalfOf: URIRef
    programme: URIRef
    euContribution: URIRef
    funding: URIRef
    totalCost: URIRef
    organizationKind: URIRef
    partner: URIRef
    period: URIRef
    party: URIRef
    post: URIRef
    signatory: URIRef
    signature: URIRef
    sourceKind: URIRef
    status: URIRef
    theme: URIRef
    # datatype properties
    ags: URIRef
    call: URIRef
    boundedByPublication: URIRef
    claim: URIRef
    cordisId: URIRef
    countryCode: URIRef
    date: URIRef
    dateField: URIRef
    dateSupport: URIRef
    dateWording: URIRef
    earliest: URIRef
    endDate: URIRef
    endEarliest: URIRef
    endLatest: URIRef
    geonamesId: URIRef
    endNoLaterThan: URIRef
    endSupport: URIRef
    latest: URIRef
    locator: URIRef
    measure: URIRef
    motto: URIRef
    noLaterThan: URIRef
    place: URIRef
    scheduledEndEarliest: URIRef
    scheduledEndLatest: URIRef
    signedEarliest: URIRef
    signedLatest: URIRef
    signedNoLaterThan: URIRef
    signedSupport: URIRef
    signedOn: URIRef
    startDate: URIRef
    startEarliest: URIRef
    startLatest: URIRef
    startNoLaterThan: URIRef
    startSupport: URIRef
    statesDate: URIRef
    summary: URIRef


_Terms = TypeVar("_Terms")


def resolved(namespace: _Terms) -> _Terms:
    """`namespace` with each term looked up once, then kept as a plain attribute: rdflib's namespaces make or look
    up the term on every access (0.5 to 1 µs), which building a million triples does millions of times. Names not in a
    closed namespace still fail, on their first access."""
    return cast(_Terms, _Resolved(namespace))


class _Resolved:
    def __init__(self, namespace: object) -> None:
        self._namespace = namespace

    def __getattr__(self, name: str) -> URIRef:
        term: URIRef = getattr(self._namespace, name)
        setattr(self, name, term)  # found without __getattr__ from now on
        return term
