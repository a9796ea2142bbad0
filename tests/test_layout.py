"""The layout keeps its directions: the pipeline never needs the service, shared HTTP concerns need no URL area,
and no module of the service imports the application or the command line that assemble it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
AREAS = ("sparql", "linked_data", "rest", "catalog", "pages", "reconcile")


def _imports(package: str) -> dict[str, set[str]]:
    """Module (dotted) → the modules of this project it imports."""
    found: dict[str, set[str]] = {}
    for file in sorted((ROOT / package).rglob("*.py")):
        module = ".".join(file.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        names: set[str] = set()
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[module] = {name for name in names if name.split(".")[0] in ("api", "graph")}
    return found


def test_the_folders_are_there() -> None:
    assert all((ROOT / "api" / area / "__init__.py").is_file() for area in (*AREAS, "http"))


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("graph", ("api",)),
        ("api/http", (*(f"api.{area}" for area in AREAS), "api.app", "api.cli")),
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
