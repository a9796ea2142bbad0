"""The pages people read first: `/` (what the graph holds), `/query` (the query editor) and `/static/` files."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse

from api._render import STATIC_DIR, page_response
from api.catalog import citation
from api.deps import SettingsDep, StoreDep
from api.editor import editor_page
from api.landing import landing_figures
from api.releases import history
from graph.published import DUMP_FILES

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

# What the class counts are called on the page, in the order they are shown.
_FIGURES = (("Alliance", "alliances and partnerships"), ("Membership", "memberships"), ("City", "cities"),
            ("Company", "companies"), ("Organization", "other organisations"), ("Agreement", "agreements"),
            ("Pilot", "pilots"), ("Person", "people"), ("Source", "sources"),
            ("Conflict", "conflicts between sources"))
_VENDORS_SHOWN = 12
_STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".svg": "image/svg+xml"}


def _local_path(iri: str, namespace: str) -> str:
    """The page of a thing: `{ns}id/city/x` is described at `/doc/city/x`; other IRIs stay as they are."""
    if not iri.startswith(namespace):
        return iri
    path = iri[len(namespace):]
    return "/doc/" + path.removeprefix("id/") if path.startswith("id/") else "/" + path


def _date(modified: str) -> str:
    try:
        return datetime.fromisoformat(modified).strftime("%-d %B %Y")
    except ValueError:
        return modified


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
def landing(request: Request, store: StoreDep, settings: SettingsDep) -> HTMLResponse:
    figures = landing_figures(store)
    counts = figures.coverage.counts
    release = history(store).get(store.manifest.release)
    base = (settings.base_url or str(request.base_url)).rstrip("/")
    return page_response(
        "landing.html",
        manifest=store.manifest,
        release=release,
        cite=citation(release, settings, base) if release is not None else None,
        built=_date(store.manifest.modified),
        figures=[(counts.get(name, 0), label) for name, label in _FIGURES],
        sources=counts.get("Source", 0),
        coverage=figures.coverage,
        vendors=figures.coverage.vendors[:_VENDORS_SHOWN],
        more_vendors=figures.coverage.vendors[_VENDORS_SHOWN:],
        alliances=figures.alliances,
        dumps=sorted(DUMP_FILES.values()),
        page=lambda iri: _local_path(iri, settings.namespace),
    )


@router.get("/query", response_class=HTMLResponse)
def query_editor(request: Request, query: Annotated[str | None, Query()] = None) -> HTMLResponse:
    return editor_page(request, query)


@router.api_route("/favicon.ico", methods=["GET", "HEAD"])
def favicon() -> FileResponse:
    # Browsers ask for /favicon.ico on every site; the icon is an SVG, which they accept under that name too.
    return static_file("favicon.svg")


@router.api_route("/static/{name}", methods=["GET", "HEAD"])
def static_file(name: str) -> FileResponse:
    path = STATIC_DIR / name
    media_type = _STATIC_TYPES.get(path.suffix)
    # `name` is one path segment (the route matches no slash), so only files directly in static/ are served.
    if media_type is None or not path.is_file():
        raise HTTPException(404, f"no static file {name}")
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})
