"""`/api/v1`: JSON lists, lookups and search over the graph's things."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import URL

from api.http.conditional import answer, conditional
from api.http.deps import PerBuildDep, SettingsDep, StoreDep, app_cache, public_base, public_url, rendered
from api.http.errors import ErrorBody
from api.http.forms import FormRoute
from api.http.representation import JSON_LD, build_tag, choose, request_tag
from api.rest.listing import FILTERS, LABEL_INDEX, Filters, fold, list_things
from api.rest.lookup import CLASSES, find_thing, jsonld_context
from api.rest.models import THING_MODELS, AnyThing, ListItem, Page, Thing
from graph.errors import ServiceError
from graph.formats import JSON, Format
from graph.iris import KEY_PATTERN, is_key
from graph.store import ReadStore

__all__ = ["ITEM_FORMATS", "item", "item_path", "router"]

router = APIRouter(prefix="/api/v1", tags=["REST API"], route_class=FormRoute)

_TYPES = ", ".join(THING_MODELS)
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "a filter that does not apply to this type"},
    404: {"model": ErrorBody, "description": "no such type or key"},
    422: {"model": ErrorBody, "description": "a parameter out of range or malformed"},
}
# An item is JSON, or the same JSON with an @context (JSON-LD); plain JSON is what a client gets without asking.
ITEM_FORMATS = (JSON, JSON_LD)
# Items as sent, by build, URL and Accept (a few kB each): a lookup takes 0.3-4 ms of queries on a million
# triples, sending a kept answer well under a millisecond.


def _key(what: str) -> Any:
    return Query(pattern=KEY_PATTERN, description=what)


Limit = Annotated[int, Query(ge=1, le=500, description="items per page (at most 500)")]
Offset = Annotated[int, Query(ge=0, description="items to skip")]

_LIST_DESCRIPTION = f"""Things of one type ({_TYPES}), in key order, one page at a time.

Filters take keys (the last segment of an IRI) and combine with AND. Which filters apply depends on the type:
{chr(10).join(f"- **{kind}**: {', '.join(names)}" for kind, names in FILTERS.items())}

Any other parameter is answered 400, naming the filters that apply. For alliances, `member`, `city` and `company`
each ask for a membership of their own (so `member=dortmund&company=cisco` finds the alliances of both), and
`role` and `active_on` apply to each of those memberships, or to any membership when none of them is given.

`active_on=YYYY-MM-DD` keeps what was running on that day, with the dates at the precision the sources give: a
membership, post, pilot or agreement counts when its **earliest possible start** is on or before the day and it
has **no end, or its latest possible end** is on or after the day. So a membership "since 2016" counts on
2016-06-30, and one "until 2017-03" still counts on 2017-03-31. A start known only as a bound (`since_by`:
"by October 2018", a source published then reports it) counts from the bound's last day on: before it, nothing says
it had begun. An agreement runs from its signing to the end of its agreed term (open-ended without one). Things
with no start date are left out: nothing says when they began.
For alliances, cities, municipalities, companies and organisations the dates are those of the memberships;
for people those of their posts.

`q` keeps the things whose label contains the text, compared like `/api/v1/search`."""


@router.api_route(
    "",
    methods=["GET", "HEAD"],
    summary="What the REST API offers, with links",
    responses={200: {"content": {JSON.media_type: {}}}},
)
def index(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    """The entry point the catalogue names as the REST endpoint: the types, the search and the lookups, as links."""
    root = public_base(request, settings)
    base = f"{root}{router.prefix}"
    links = {
        "title": "smartcity-kg REST API",
        "openapi": f"{root}{request.app.url_path_for('openapi')}",
        "search": f"{base}/search?q=",
        "types": {kind: f"{base}/{kind}" for kind in THING_MODELS},
    }
    return _json(request, store, lambda: json.dumps(links).encode())


@router.api_route(
    "/search", methods=["GET", "HEAD"], response_model=Page, responses=_ERRORS, summary="Search all things by label"
)
def search(
    request: Request,
    store: StoreDep,
    values: PerBuildDep,
    settings: SettingsDep,
    *,
    q: Annotated[
        str,
        Query(
            min_length=1, max_length=200, description="text to find in labels; case, accents and ü/ue spellings folded"
        ),
    ],
    limit: Limit = 50,
    offset: Offset = 0,
    kind: Annotated[str | None, Query(alias="type", description=f"only things of this type: {_TYPES}")] = None,
) -> Response:
    """Label search over every thing; "russelsheim", "Ruesselsheim" and "RÜSSELSHEIM" all find Rüsselsheim.
    Exact labels come first, then labels with a word starting with the text, then the rest."""
    folded = _searchable(q)
    if kind is not None and kind not in THING_MODELS:
        raise ServiceError(404, f"no type {kind!r}; the types are: {_TYPES}")

    def page() -> bytes:
        hits = values.get(LABEL_INDEX, store).search(folded, kind)
        items = [entry.listed() for entry in hits[offset : offset + limit]]
        return _page(public_url(request, settings), items, len(hits), limit, offset)

    return _json(request, store, page)


@router.api_route(
    "/{type}",
    methods=["GET", "HEAD"],
    response_model=Page,
    responses=_ERRORS,
    summary="List things of one type",
    description=_LIST_DESCRIPTION,
)
def list_type(
    request: Request,
    store: StoreDep,
    values: PerBuildDep,
    settings: SettingsDep,
    type: str,
    *,
    limit: Limit = 50,
    offset: Offset = 0,
    member: Annotated[str | None, _key("key of a member: a city, company or organisation")] = None,
    company: Annotated[str | None, _key("key of a company")] = None,
    city: Annotated[str | None, _key("key of a city (its municipality is the member or party)")] = None,
    theme: Annotated[str | None, _key("key of a thematic area")] = None,
    role: Annotated[str | None, _key("key of a role (for people: of a post role)")] = None,
    alliance: Annotated[str | None, _key("key of an alliance")] = None,
    active_on: Annotated[date | None, Query(description="YYYY-MM-DD; see above")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200, description="text in labels")] = None,
) -> Response:
    _known_type(type)
    wrong = sorted(set(request.query_params) - {"limit", "offset", "format", *FILTERS[type]})
    if wrong:
        raise ServiceError(
            400, f"{', '.join(wrong)} cannot filter {type}; the filters of {type} are: {', '.join(FILTERS[type])}"
        )
    if q is not None:
        _searchable(q)
    filters = Filters(member, company, city, theme, role, alliance, active_on, q)

    def page() -> bytes:
        index = values.get(LABEL_INDEX, store)
        iris = list_things(store, type, filters, index)
        items = [index.item(iri, type) for iri in iris[offset : offset + limit]]
        return _page(public_url(request, settings), items, len(iris), limit, offset)

    return _json(request, store, page)


@router.api_route(
    "/{type}/{key}",
    methods=["GET", "HEAD"],
    response_model=AnyThing,
    summary="One thing, its relations resolved",
    responses={
        **_ERRORS,
        400: {"model": ErrorBody, "description": "a format that is not offered (?format=json or jsonld)"},
        200: {
            "content": {JSON_LD.media_type: {}},
            "description": "the thing; as JSON-LD on Accept: application/ld+json or ?format=jsonld",
        },
        406: {"model": ErrorBody, "description": "neither JSON nor JSON-LD is acceptable"},
    },
)
async def get_thing(request: Request, store: StoreDep, type: str, key: str) -> Response:
    """One thing with its relations as {id, key, label} objects. With `Accept: application/ld+json` (or
    `?format=jsonld`; `?format=json` is the plain JSON) the same JSON comes with an `@context` that maps its keys to
    the ontology's terms, so it reads as RDF."""
    # A kept answer is sent from the event loop; only the queries of a new one go to the thread pool.
    responses = rendered(request)
    cache_key = responses.key(store, request)
    kept = responses.respond(request, cache_key)
    if kept is not None:
        return kept
    return responses.keep(request, cache_key, await run_in_threadpool(_thing, request, store, type, key))


def _thing(request: Request, store: ReadStore, type: str, key: str) -> Response:
    _known_type(type)
    fmt = choose(request, ITEM_FORMATS)
    labels = app_cache(request, "vocabulary_labels")
    thing = find_thing(store, type, key, labels) if is_key(key) else None
    if thing is None:
        raise ServiceError(404, f"no {type} with key {key!r}")
    return item(request, store, type, thing, fmt)


def item_path(request: Request, type: str, key: str) -> str:
    """The path of a thing's item (`/api/v1/city/dortmund`), as the item's route makes it."""
    return str(request.app.url_path_for(get_thing.__name__, type=type, key=key))


def item(
    request: Request, store: ReadStore, type: str, thing: Thing, fmt: Format, *, location: str | None = None
) -> Response:
    """A thing's item in `fmt` (one of ITEM_FORMATS), as its route and the lookup of it send it: the same bytes
    under the same ETag, whichever URL asked. `location` names the item's own URL (Content-Location) where another
    URL asked for it."""

    def make() -> Response:
        if fmt == JSON:
            return Response(thing.model_dump_json(), media_type=fmt.media_type)
        body = thing.model_dump(mode="json", exclude={"id", "type"})
        document = {"@context": jsonld_context(type), "@id": thing.id, "@type": CLASSES[type], **body}
        return JSONResponse(document, media_type=fmt.media_type)

    etag = build_tag(store.manifest, item_path(request, type, thing.key), fmt.media_type)
    headers = {"Vary": "Accept", "ETag": etag, **({"Content-Location": location} if location else {})}
    return conditional(request, headers, make)


def _searchable(text: str) -> str:
    folded = fold(text)
    if not folded:
        raise ServiceError(422, "q must contain at least one letter or digit")
    return folded


def _known_type(kind: str) -> None:
    if kind not in THING_MODELS:
        raise ServiceError(404, f"no type {kind!r}; the types are: {_TYPES}")


def _page(url: URL, items: list[ListItem], total: int, limit: int, offset: int) -> bytes:
    """A page of the list at `url` (the request's, at the public address), linking the next one."""
    following = offset + limit
    next_url = str(url.include_query_params(offset=following)) if following < total else None
    return Page(items=items, total=total, limit=limit, offset=offset, next=next_url).model_dump_json().encode()


def _json(request: Request, store: ReadStore, body: Callable[[], bytes]) -> Response:
    """A JSON answer made by `body` only when it is owed, tagged by the build and the whole URL (without a configured
    base_url, its links name the address the client used). JSON is its one format: `?format=json` is fine, any other
    a 400, and an Accept that rules JSON out a 406, as for an item."""
    choose(request, (JSON,))
    return answer(request, body, media_type=JSON.media_type, etag=request_tag(store.manifest, request))
