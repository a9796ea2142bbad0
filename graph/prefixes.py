"""The one prefix map: what every dump, page, JSON-LD context and SPARQL prologue calls the vocabularies."""

from __future__ import annotations

from graph.iris import Minter

__all__ = ["DESCRIPTIONS", "PREFIXES", "VOCABULARIES", "prefixes", "sparql_prologue"]

# The vocabularies of the graph's data: the prefixes of every dump, page and SPARQL prologue.
VOCABULARIES = {
    "sck": "https://w3id.org/smartcity-kg/ontology#",
    "org": "http://www.w3.org/ns/org#",
    "schema": "http://schema.org/",
    "prov": "http://www.w3.org/ns/prov#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dct": "http://purl.org/dc/terms/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "time": "http://www.w3.org/2006/time#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "wd": "http://www.wikidata.org/entity/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "geo": "http://www.opengis.net/ont/geosparql#",
    "dcat": "http://www.w3.org/ns/dcat#",
}
# The vocabularies the service describes itself with (its catalogue, VoID and SPARQL service description).
DESCRIPTIONS = {
    "adms": "http://www.w3.org/ns/adms#",
    "dcatde": "http://dcat-ap.de/def/dcatde/",
    "formats": "http://www.w3.org/ns/formats/",
    "sd": "http://www.w3.org/ns/sparql-service-description#",
    "spdx": "http://spdx.org/rdf/terms#",
    "vann": "http://purl.org/vocab/vann/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "void": "http://rdfs.org/ns/void#",
}
# Every prefix the service writes; the published JSON-LD context (api/http/context.jsonld) declares exactly these.
PREFIXES = {**VOCABULARIES, **DESCRIPTIONS}


def prefixes(namespace: str | None = None) -> dict[str, str]:
    """The vocabularies, plus this graph's own `id:` and `vocab:` when its namespace is given."""
    if namespace is None:
        return dict(VOCABULARIES)
    mint = Minter(namespace)
    return {**VOCABULARIES, "id": mint.things, "vocab": mint.vocabularies}


def sparql_prologue(namespace: str | None = None) -> str:
    """`PREFIX` lines for a query, one per prefix of `prefixes(namespace)`."""
    return "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in prefixes(namespace).items())
