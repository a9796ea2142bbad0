"""Alliances by the number of their members, read into a pandas DataFrame from the endpoint's CSV results.

    python examples/pandas_dataframe.py [ENDPOINT]

ENDPOINT defaults to http://127.0.0.1:8000/sparql (start it with `smartcity-kg serve`).
"""

from __future__ import annotations

import io
import sys
import urllib.parse
import urllib.request

import pandas as pd

QUERY = """
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX sck: <https://w3id.org/smartcity-kg/ontology#>

SELECT ?alliance (SAMPLE(?name) AS ?label) (COUNT(DISTINCT ?member) AS ?members)
       (COUNT(DISTINCT ?municipality) AS ?municipalities) (COUNT(DISTINCT ?company) AS ?companies)
WHERE {
  ?alliance a sck:Alliance ; rdfs:label ?name ; org:hasMembership/org:member ?member .
  OPTIONAL { ?member a sck:Municipality . BIND(?member AS ?municipality) }
  OPTIONAL { ?member a sck:Company . BIND(?member AS ?company) }
}
GROUP BY ?alliance
ORDER BY DESC(?members) ?label
"""


def query_frame(endpoint: str, query: str) -> pd.DataFrame:
    """A SELECT query's results as a DataFrame: one column per variable, read from `text/csv`."""
    request = urllib.request.Request(
        endpoint,
        data=urllib.parse.urlencode({"query": query}).encode(),
        headers={"Accept": "text/csv", "Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return pd.read_csv(io.BytesIO(response.read()))


def main() -> None:
    endpoint = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000/sparql"
    frame = query_frame(endpoint, QUERY)
    largest = frame.iloc[0]
    print(f"{len(frame)} alliances with members; the largest, {largest['label']}, has {largest['members']}.")
    with pd.option_context("display.width", 160, "display.max_colwidth", 60):
        print(frame[["label", "members", "municipalities", "companies"]].to_string(index=False))


if __name__ == "__main__":
    main()
