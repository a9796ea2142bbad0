"""The scripts in examples/ run as a researcher would run them, against the real service, and print real facts."""

from __future__ import annotations

import subprocess
import sys

import pyoxigraph as ox
import pytest
import yaml

from graph.store import open_embedded
from tests.conftest import DATA, ROOT, Server

EXAMPLES = ROOT / "examples"


def run_example(name: str, *args: str) -> str:
    completed = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def test_every_example_is_covered_here() -> None:
    scripts = {path.name for path in EXAMPLES.glob("*.py")}
    assert scripts == {"sparqlwrapper_members.py", "pandas_dataframe.py"}


@pytest.mark.slow
def test_sparqlwrapper_lists_the_member_towns_of_drei_gewinnt(live_server: Server) -> None:
    output = run_example("sparqlwrapper_members.py", f"{live_server.url}/sparql")
    document = yaml.safe_load((DATA / "alliances" / "drei-gewinnt.yaml").read_text(encoding="utf-8"))
    (record,) = document["alliances"]
    members = {member["member"] for member in record["members"]}
    assert output.splitlines()[0] == f"{len(members)} members of drei-gewinnt:"
    for town in ("Rüsselsheim am Main", "Raunheim", "Kelsterbach"):
        assert f"- Stadt {town}, Member (city: {town})" in output
    assert "- ZTE, Central implementation partner, Strategic partner" in output


@pytest.mark.slow
def test_sparqlwrapper_takes_another_alliance(live_server: Server) -> None:
    output = run_example("sparqlwrapper_members.py", f"{live_server.url}/sparql", "allianz-smart-city-dortmund")
    assert "members of allianz-smart-city-dortmund:" in output
    assert "- Stadt Dortmund, " in output
    assert "(city: Dortmund)" in output


@pytest.mark.slow
def test_pandas_reads_alliance_sizes_into_a_dataframe(live_server: Server) -> None:
    output = run_example("pandas_dataframe.py", f"{live_server.url}/sparql")
    lines = output.splitlines()
    store = open_embedded(live_server.store)
    outcome = store.query("SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE { ?a <http://www.w3.org/ns/org#hasMembership> [] }")
    assert isinstance(outcome, ox.QuerySolutions)
    (row,) = outcome
    assert lines[0].startswith(f"{row['n'].value} alliances with members;")
    assert lines[1].split() == ["label", "members", "municipalities", "companies"]
    (drei_gewinnt,) = [line.split() for line in lines if line.strip().startswith("Drei gewinnt ")]
    # Three towns and two companies (ZTE and Huawei), five members in all.
    assert drei_gewinnt[-3:] == ["5", "3", "2"]
