"""The pages people read first besides `/` (the catalogue's landing page): `/query` (the query editor, its short
links `/q/{id}` and embeds), `/search` and `/static/` files."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from api.http.client_limit import ClientLimit
from api.http.conditional import conditional, validators
from api.http.deps import PerBuildDep, SettingsDep, StoreDep, public_base
from api.http.encoding import accepts_gzip
from api.http.errors import error_response
from api.http.files import own_file
from api.http.forms import FormRoute, read_text
from api.http.limits import read_body
from api.http.representation import request_tag
from api.pages.editor import editor_page, embed_page
from api.pages.render import STATIC_DIR, page_response
from api.pages.short_links import MAX_QUERY_BYTES, VIEWS, ShortLinks, refuse_too_long
from api.rest.listing import LABEL_INDEX, fold
from graph.errors import ServiceError
from graph.sparql_guard import analyse_query, check_syntax
from graph.store import ReadStore

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=FormRoute)

_STATIC_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
}
_SEARCH_SHOWN = 50
# A short-link request is a JSON object holding the query and a view name: anything much longer is refused unread.
_LINK_BODY_BYTES = MAX_QUERY_BYTES * 6 + 1024  # JSON may spell each byte of the query as \uXXXX
View = Annotated[str | None, Query(pattern="^(" + "|".join(VIEWS) + ")$", description="the result view shown")]


def _tagged(request: Request, store: ReadStore, make: Callable[[], Response], *varies: str) -> Response:
    """A page made by `make` when it is owed, tagged by the build, its URL and `varies` (what else it shows)."""
    etag = request_tag(store.manifest, request, *varies)
    return conditional(request, validators(etag, store.manifest.modified), make)


@router.api_route("/query", methods=["GET", "HEAD"], response_class=HTMLResponse)
def query_editor(
    request: Request, store: StoreDep, query: Annotated[str | None, Query()] = None, view: View = None
) -> Response:
    return _tagged(request, store, lambda: editor_page(request, store, query, view))


@router.api_route("/embed", methods=["GET", "HEAD"], response_class=HTMLResponse)
def embed(request: Request, store: StoreDep, query: Annotated[str, Query(min_length=1)], view: View = None) -> Response:
    return _tagged(request, store, lambda: embed_page(store, query, view or "table"))


def _link_request(body: bytes) -> tuple[str, str]:
    """The query and view of a short-link request, or a 400 saying what is wrong."""
    text = read_text(body, "request body")  # JSON is UTF-8 (RFC 8259); json.loads would also guess UTF-16 or -32
    try:
        fields = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
        fields = None
    if not isinstance(fields, dict):
        raise ServiceError(400, 'send a JSON object: {"query": "SELECT ...", "view": "table"}')
    query, view = fields.get("query"), fields.get("view", "table")
    if not isinstance(query, str) or not query.strip():
        raise ServiceError(400, 'the JSON object needs a non-empty "query" string')
    if view not in VIEWS:
        raise ServiceError(400, f'"view" must be one of: {", ".join(VIEWS)}')
    try:
        query.encode()
    except UnicodeEncodeError:
        raise ServiceError(
            400, "the query holds a lone surrogate (\\ud800-\\udfff), which is no character; send it as UTF-8 text"
        ) from None
    return query, view


def _check_query(query: str, max_nesting: int, endpoint: str) -> None:
    """Only what `/sparql` would answer is kept: refused by its guard, then parsed by its engine (SPARQL 1.2, relative
    IRIs against the endpoint's address), never evaluated; each refusal the 400 `/sparql` gives."""
    analyse_query(query, max_nesting, endpoint)
    check_syntax(query, endpoint)


@router.post("/q")
async def make_short_link(request: Request, settings: SettingsDep) -> Response:
    """A short link for `{"query": ..., "view": ...}`: 201 with its path, the same link for the same query."""
    # Counted before any work: checking a query costs time, so one address may not ask for it without bound. Links
    # are kept for good (up to a bound, then the least used go): one client may not churn them all in a minute.
    creation: ClientLimit = request.app.state.short_link_creation  # this app's own (made in create_app)
    wait = creation.take(request.client.host if request.client else "")
    if wait is not None:
        request.app.state.metrics.record("short_link_refused")
        return error_response(
            429,
            f"At most {creation.capacity:g} short links a minute from one address (setting short_links_per_minute); "
            f"try again in {wait} s, or share the editor's address, which holds any query",
            headers={"Retry-After": str(wait)},
        )
    body = await read_body(request, _LINK_BODY_BYTES)
    if body is None:
        return error_response(
            413,
            f"A short link holds a query of at most {MAX_QUERY_BYTES} bytes; share the "
            "editor's address instead, which holds any query",
        )
    query, view = _link_request(body)
    refuse_too_long(query)  # before it is parsed: parsing costs time in the length of the text
    endpoint = f"{public_base(request, settings)}/sparql"
    await run_in_threadpool(_check_query, query, settings.max_nesting, endpoint)
    link = await run_in_threadpool(ShortLinks(settings.store).save, query, view)  # QueryTooLongError: 413
    return JSONResponse(
        {"id": link.id, "path": f"/q/{link.id}"}, status_code=201, headers={"Location": f"/q/{link.id}"}
    )


@router.api_route("/q/{link}", methods=["GET", "HEAD"], response_class=HTMLResponse)
def open_short_link(link: str, request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    kept = ShortLinks(settings.store).load(link) if link.isalnum() and len(link) <= 32 else None
    if kept is None:
        raise ServiceError(404, f"no short link {link!r}: it may have been mistyped")
    return _tagged(request, store, lambda: editor_page(request, store, kept.query, kept.view), kept.query, kept.view)


@router.api_route("/search", methods=["GET", "HEAD"], response_class=HTMLResponse)
def search_page(
    request: Request, store: StoreDep, values: PerBuildDep, q: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    """The site search without script: every thing whose label holds the text, best matches first."""

    def make() -> HTMLResponse:
        folded = fold(q)
        hits = values.get(LABEL_INDEX, store).search(folded) if folded else []
        return page_response("search.html", q=q, hits=hits[:_SEARCH_SHOWN], total=len(hits))

    return _tagged(request, store, make)


@router.api_route("/favicon.ico", methods=["GET", "HEAD"])
def favicon(request: Request) -> Response:
    # Browsers ask for /favicon.ico on every site; the icon is an SVG, which they accept under that name too.
    return static_file("favicon.svg", request)


@router.api_route("/static/{name}", methods=["GET", "HEAD"])
def static_file(name: str, request: Request) -> Response:
    path = STATIC_DIR / name
    media_type = _STATIC_TYPES.get(path.suffix)
    # `name` is one path segment (the route matches no slash), so only files directly in static/ are served.
    if media_type is None or not path.is_file():
        raise ServiceError(404, f"no static file {name}")
    headers = {"Cache-Control": "public, max-age=86400", "Vary": "Accept-Encoding"}
    # The bundles are built with a gzipped copy beside them: a third of the bytes for every browser.
    zipped = path.with_name(path.name + ".gz")
    if zipped.is_file() and accepts_gzip(request.headers.get("accept-encoding")):
        return own_file(request, zipped, media_type, {**headers, "Content-Encoding": "gzip"})
    return own_file(request, path, media_type, headers)
