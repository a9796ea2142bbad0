"""The JSON Schema editors use to check data files is the one the record models define, and the data obeys it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.cli import main

DATA = Path(__file__).resolve().parent.parent / "data"


def test_committed_schema_is_current(tmp_path: Path) -> None:
    fresh = tmp_path / "schema.json"
    assert main(["schema", "-o", str(fresh)]) == 0
    assert json.loads(fresh.read_text(encoding="utf-8")) == json.loads(
        (DATA / "schema.json").read_text(encoding="utf-8")
    ), "data/schema.json is out of date: run `smartcity-kg schema -o data/schema.json`"


@pytest.mark.parametrize("section", ["sources", "alliances", "agreements", "concepts", "retired"])
def test_schema_describes_every_section(section: str) -> None:
    schema = json.loads((DATA / "schema.json").read_text(encoding="utf-8"))
    assert section in schema["properties"]
    assert schema["additionalProperties"] is False
