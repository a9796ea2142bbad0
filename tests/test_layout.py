"""The layout keeps its directions: the pipeline never needs the service, shared HTTP concerns need no URL area,
and no module of the service imports the application or the command line that assemble it."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
AREAS = ("sparql", "linked_data", "rest", "catalog", "pages", "reconcile")


def _imports(package: str, root: Path = ROOT) -> dict[str, set[str]]:
    """Module (dotted) → the modules of this project it imports, relative imports (`from ..app import x`) resolved."""
    found: dict[str, set[str]] = {}
    for file in sorted((root / package).rglob("*.py")):
        parts = file.relative_to(root).with_suffix("").parts
        module = ".".join(parts).removesuffix(".__init__")
        # What a relative import starts from: a package's own name for its __init__, else the module's package.
        here = module.split(".") if file.name == "__init__.py" else module.split(".")[:-1]
        names: set[str] = set()
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                start = here[: len(here) - node.level + 1] if node.level else []
                source = ".".join([*start, *([node.module] if node.module else [])])
                names.add(source)
                names.update(f"{source}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[module] = {name for name in names if name.split(".")[0] in ("api", "graph")}
    return found


def test_relative_imports_are_read_as_the_modules_they_name(tmp_path: Path) -> None:
    area = tmp_path / "api" / "rest"
    area.mkdir(parents=True)
    (area / "__init__.py").write_text("from .items import x\n", encoding="utf-8")
    relative = "from ..app import create_app\nfrom .. import cli\nfrom . import y\n"
    (area / "items.py").write_text(relative, encoding="utf-8")
    found = _imports("api/rest", tmp_path)
    assert found["api.rest"] == {"api.rest.items", "api.rest.items.x"}
    assert {"api.app", "api.cli", "api.rest.y"} <= found["api.rest.items"]


def test_the_folders_are_there() -> None:
    assert all((ROOT / "api" / area / "__init__.py").is_file() for area in (*AREAS, "http"))


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("graph", ("api",)),
        ("api/http", (*(f"api.{area}" for area in AREAS), "api.app", "api.cli")),
        *((f"api/{area}", ("graph.pipeline",)) for area in (*AREAS, "http")),
        *((f"api/{area}", ("api.app", "api.cli")) for area in AREAS),
    ],
)
def test_imports_point_one_way(package: str, forbidden: tuple[str, ...]) -> None:
    imports = _imports(package)
    assert imports, f"no module found in {package}"
    wrong = sorted(
        f"{module} imports {name}"
        for module, names in imports.items()
        for name in names
        if any(name == bad or name.startswith(f"{bad}.") for bad in forbidden)
    )
    assert wrong == []


# The URL areas import one another only along these edges, each one way. Every other import between two areas, and
# any cycle, means a module sits in the wrong area or shared code belongs in api/http or graph.
AREA_EDGES = {
    # GET /sparql without a query answers the query editor, a page (also served at /query).
    ("sparql", "pages"),
    # The HTML of /doc, /vocab and /ontology is written with the pages' templates, values, ontology labels and diagrams.
    ("linked_data", "pages"),
    # The HTML of /, /dumps and /changes is written with the pages' templates.
    ("catalog", "pages"),
    # A reconciliation preview is an HTML card written with the pages' templates.
    ("reconcile", "pages"),
    # A /doc page names the release that last changed its thing, from the catalogue's release history.
    ("linked_data", "catalog"),
    # Reconciliation finds the REST API's things: its lookups, labels and folding of names.
    ("reconcile", "rest"),
    # /search lists things from the REST API's label index.
    ("pages", "rest"),
}


def _area_edges() -> dict[tuple[str, str], list[str]]:
    """(importing area, imported area) → the imports that make the edge."""
    edges: dict[tuple[str, str], list[str]] = {}
    for module, names in _imports("api").items():
        parts = module.split(".")
        if len(parts) < 2 or parts[1] not in AREAS:
            continue
        for name in names:
            target = name.split(".")
            if len(target) > 1 and target[1] in AREAS and target[1] != parts[1]:
                edges.setdefault((parts[1], target[1]), []).append(f"{module} imports {name}")
    return edges


def test_areas_import_each_other_only_along_the_allowed_edges() -> None:
    edges = _area_edges()
    wrong = sorted(line for edge, lines in edges.items() if edge not in AREA_EDGES for line in lines)
    assert wrong == []
    # An allowed edge nothing uses any more is taken off the list.
    assert sorted(AREA_EDGES - set(edges)) == []


def _cycle(edges: set[tuple[str, str]]) -> list[str]:
    """Some cycle among the areas (as the areas along it), or [] when there is none."""
    following: dict[str, list[str]] = {}
    for source, target in sorted(edges):
        following.setdefault(source, []).append(target)
    state: dict[str, str] = {}  # "open" while its imports are followed, then "done"
    path: list[str] = []

    def visit(area: str) -> list[str]:
        if state.get(area) == "open":
            return [*path[path.index(area) :], area]
        if state.get(area) == "done":
            return []
        state[area] = "open"
        path.append(area)
        for target in following.get(area, []):
            if cycle := visit(target):
                return cycle
        path.pop()
        state[area] = "done"
        return []

    return next((cycle for area in AREAS if (cycle := visit(area))), [])


def test_no_areas_import_each_other_in_a_cycle() -> None:
    assert _cycle(set(_area_edges())) == []
    assert _cycle(AREA_EDGES) == []
    # The check finds one: the cycle these areas had.
    cycle = _cycle({("pages", "linked_data"), ("linked_data", "catalog"), ("catalog", "pages")})
    assert cycle == ["linked_data", "catalog", "pages", "linked_data"]


# data/ by domain: which file a record lives in says what it is, so a curator knows where a new one goes
# (data/README.md, "Files and sections"). The loader reads any file; this keeps the convention true.
ORGANIZATION_FILES = {
    "company": "companies",
    "research": "research",
    "public-body": "public-bodies",
    "association": "associations",
    "chamber": "associations",
    "other": "others",
}
SOURCE_FILES = {
    "news-article": "news-articles",
    "press-release": "press-releases",
    "web-page": "web-pages",
    "data-set": "data-sets",
    "blog-post": "blog-posts",
}


def _misplaced(folder: str, section: str, expected: Callable[[dict[str, Any]], str]) -> list[str]:
    wrong = []
    for file in sorted((ROOT / "data" / folder).glob("*.yaml")):
        for record in (yaml.safe_load(file.read_text(encoding="utf-8")) or {}).get(section, []):
            if expected(record) != file.stem:
                wrong.append(f"{folder}/{file.name}: {record['key']} belongs in {folder}/{expected(record)}.yaml")
    return wrong


def _country(city: dict[str, Any]) -> str:
    country = city.get("country")
    code = country.get("value") if isinstance(country, dict) else country
    return str(code).lower() if code else "country-not-cited"


@pytest.mark.parametrize(
    ("folder", "section", "expected"),
    [
        ("organizations", "organizations", lambda record: ORGANIZATION_FILES[record["kind"]]),
        ("cities", "cities", _country),
        ("sources", "sources", lambda record: SOURCE_FILES[record["kind"]]),
        ("vocabulary", "concepts", lambda record: record["scheme"]),
    ],
    ids=["organizations", "cities", "sources", "vocabulary"],
)
def test_each_record_lives_in_the_file_of_its_kind(
    folder: str, section: str, expected: Callable[[dict[str, Any]], str]
) -> None:
    assert _misplaced(folder, section, expected) == []


def test_alliances_live_one_to_a_file_named_after_their_key() -> None:
    for file in sorted((ROOT / "data" / "alliances").glob("*.yaml")):
        alliances = (yaml.safe_load(file.read_text(encoding="utf-8")) or {}).get("alliances", [])
        assert [alliance["key"] for alliance in alliances] == [file.stem], file.name
    assert {path.parent.name for path in (ROOT / "data").rglob("*.yaml")} <= {
        "alliances",
        "agreements",
        "organizations",
        "cities",
        "sources",
        "people",
        "vocabulary",
    }


def test_the_command_line_and_the_serving_supervisor_load_neither_the_app_nor_the_pipeline() -> None:
    # `smartcity-kg serve` stays up beside its server processes, holding whatever it imported for as long as they
    # run; and every command starts sooner without what it does not use.
    heavy = ("fastapi", "starlette", "pyshacl", "graph.pipeline", "graph.pipeline.load", "api.app", "api.http.limits")
    code = f"import sys, api.cli, api.http.server; print([m for m in {heavy!r} if m in sys.modules])"
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"


def test_what_the_service_shares_does_not_import_the_pipeline() -> None:
    # graph/ holds the pipeline's steps in graph/pipeline/ and, beside it, what the service shares with them
    # (settings, the store interface, IRIs, prefixes, formats, the guard): the service runs without the pipeline.
    shared = {module: names for module, names in _imports("graph").items() if not module.startswith("graph.pipeline")}
    wrong = sorted(
        f"{module} imports {name}"
        for module, names in shared.items()
        if module != "graph.cli"  # the command line runs the pipeline (importing it in the commands that do)
        for name in names
        if name == "graph.pipeline" or name.startswith("graph.pipeline.")
    )
    assert len(shared) > 10 and wrong == []
