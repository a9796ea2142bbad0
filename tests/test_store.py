"""Constants written into the project's own queries are validated terms: no value can change a query's shape."""

from __future__ import annotations

import pytest

from graph.store import with_constants


def test_iris_become_constants_and_only_whole_variables_are_replaced() -> None:
    query = "SELECT ?nodes WHERE { ?node ?p ?nodes . ?this ?q ?node }"
    assert with_constants(query, {"node": "https://w3id.org/smartcity-kg/id/city/dortmund"}) == (
        "SELECT ?nodes WHERE { <https://w3id.org/smartcity-kg/id/city/dortmund> ?p ?nodes . "
        "?this ?q <https://w3id.org/smartcity-kg/id/city/dortmund> }"
    )


@pytest.mark.parametrize("hostile", ["https://x/> } DROP ALL { <a", "a b", 'https://x/"', "https://x/{y}", "\n"])
def test_a_value_that_is_no_iri_is_refused(hostile: str) -> None:
    assert with_constants("SELECT * WHERE { ?node ?p ?o }", {"node": hostile}) is None
