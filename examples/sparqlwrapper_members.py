"""The members of an alliance, with their roles, asked of the SPARQL endpoint through SPARQLWrapper.

    python examples/sparqlwrapper_members.py [ENDPOINT] [ALLIANCE_KEY]

ENDPOINT defaults to http://127.0.0.1:8000/sparql (start it with `smartcity-kg serve`), ALLIANCE_KEY to drei-gewinnt.
"""

from __future__ import annotations

import sys

from SPARQLWrapper import JSON, POST, SPARQLWrapper

NAMESPACE = "https://w3id.org/smartcity-kg/"
QUERY = """
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX sck: <https://w3id.org/smartcity-kg/ontology#>

SELECT ?member (SAMPLE(?name) AS ?label) (GROUP_CONCAT(DISTINCT ?roleName; separator=", ") AS ?roles)
       (SAMPLE(?cityName) AS ?city)
WHERE {
  ?alliance org:hasMembership ?membership .
  ?membership org:member ?member ; org:role/skos:prefLabel ?roleName .
  FILTER(langMatches(lang(?roleName), "en"))
  ?member rdfs:label ?name .
  # A municipality acts in the alliance; the city is the place it governs.
  OPTIONAL { ?member sck:municipalityOf/rdfs:label ?cityName }
}
GROUP BY ?member
ORDER BY ?label
"""


def main() -> None:
    endpoint = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000/sparql"
    key = sys.argv[2] if len(sys.argv) > 2 else "drei-gewinnt"
    sparql = SPARQLWrapper(endpoint)
    sparql.setMethod(POST)
    sparql.setReturnFormat(JSON)
    # The alliance is bound by replacing the variable with its IRI: the query text stays a plain constant.
    sparql.setQuery(QUERY.replace("?alliance", f"<{NAMESPACE}id/alliance/{key}>"))
    results = sparql.queryAndConvert()
    assert isinstance(results, dict)  # JSON results arrive as a dict
    rows = results["results"]["bindings"]
    print(f"{len(rows)} members of {key}:")
    for row in rows:
        city = f" (city: {row['city']['value']})" if "city" in row else ""
        print(f"- {row['label']['value']}, {row['roles']['value']}{city}  <{row['member']['value']}>")


if __name__ == "__main__":
    main()
