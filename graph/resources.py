"""Where the ontology, shapes, queries and curated data live: the checkout, or the copies bundled in the wheel."""

from __future__ import annotations

from pathlib import Path

__all__ = ["resource_dir"]

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """`ontology`, `shapes`, `queries` or `data`: the checkout's folder when running from one, else the bundled."""
    for candidate in (_PACKAGE.parent / name, _PACKAGE / "_bundled" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the {name}/ folder is neither in the checkout nor bundled with the package")
