"""`/api/v1/lookup`: one thing by an official identifier (AGS, Wikidata id, homepage) or by its id, retired or not."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated, Protocol

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.http.deps import StoreHolderDep, app_cache
from api.http.errors import ErrorBody, echo
from api.http.forms import FormRoute
from api.http.representation import choose
from api.rest.lookup import VocabularyLabels, find_thing
from api.rest.models import AnyThing, ListItem
from api.rest.routes import ITEM_FORMATS, item, item_path
from graph.errors import ServiceError
from graph.formats import JSON, JSON_LD, Format
from graph.store import ReadStore

__all__ = ["Identified", "IdentifiedThing", "router"]

router = APIRouter(prefix="/api/v1", tags=["REST API"], route_class=FormRoute)
_IDENTIFIERS = ("ags", "wikidata", "homepage", "id")


class IdentifiedThing(Protocol):
    """A thing as the index of identifiers knows it."""

    @property
    def iri(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def label(self) -> str: ...


class Identified(Protocol):
    """The things of one build by their official identifiers and ids, retired ids included: what a lookup reads.
    The reconciliation service keeps this index; create_app hands it over as `app.state.identified` (a function of
    the store), so that the REST API reads it without depending on the reconciliation service."""

    def get(self, ident: str) -> IdentifiedThing | None: ...
    def successor(self, ident: str) -> tuple[str | None, bool]: ...
    def with_value(self, pid: str, values: Iterable[str]) -> list[str]: ...


@router.api_route(
    "/lookup",
    methods=["GET", "HEAD"],
    response_model=AnyThing,
    summary="One thing by an official identifier",
    responses={
        300: {"description": "several things carry the identifier: their list, as `items`"},
        301: {"description": "the id was retired and replaced: Location names the successor"},
        200: {
            "content": {JSON_LD.media_type: {}},
            "description": "the thing, as its item answers (JSON-LD on Accept: application/ld+json or ?format=jsonld)",
        },
        400: {"model": ErrorBody, "description": "not exactly one identifier given, or a format not offered"},
        406: {"model": ErrorBody, "description": "neither JSON nor JSON-LD is acceptable"},
        404: {"model": ErrorBody, "description": "nothing carries the identifier"},
        410: {"model": ErrorBody, "description": "the id was retired without a successor"},
    },
)
async def lookup(
    request: Request,
    holder: StoreHolderDep,
    *,
    ags: Annotated[str | None, Query(max_length=20, description="AGS, e.g. 05913000")] = None,
    wikidata: Annotated[str | None, Query(max_length=200, description="Q1295 or its IRI")] = None,
    homepage: Annotated[str | None, Query(max_length=500, description="website URL")] = None,
    ident: Annotated[str | None, Query(alias="id", max_length=300, description="type/key, e.g. city/dortmund")] = None,
) -> Response:
    """The thing an identifier names, as `/api/v1/{type}/{key}` answers it (`Content-Location` says where). An
    id the data retired redirects (301) to the thing that replaced it, or is answered 410 Gone."""
    given = {
        name: value
        for name, value in (("ags", ags), ("wikidata", wikidata), ("homepage", homepage), ("id", ident))
        if value is not None
    }
    extra = sorted(set(request.query_params) - {*_IDENTIFIERS, "format"})
    repeated = [name for name in _IDENTIFIERS if len(request.query_params.getlist(name)) > 1]
    if repeated:
        raise ServiceError(400, f"give {repeated[0]} once: a lookup names one thing")
    if len(given) != 1 or extra:
        raise ServiceError(
            400,
            f"give exactly one of: {', '.join(_IDENTIFIERS)}"
            + (f" ({echo(', '.join(extra))} is not one)" if extra else ""),
        )
    ((name, value),) = given.items()
    # Negotiated as the item it names is: its formats, its 400 for another ?format=, its 406.
    fmt = choose(request, ITEM_FORMATS)

    labels = app_cache(request, "vocabulary_labels")
    identified: Callable[[ReadStore], Identified] = request.app.state.identified

    def answer() -> Response:
        store = holder.get()
        return _answer(request, store, identified(store), labels, fmt=fmt, name=name, value=value)

    return await run_in_threadpool(answer)


def _answer(
    request: Request,
    store: ReadStore,
    index: Identified,
    labels: VocabularyLabels,
    *,
    fmt: Format,
    name: str,
    value: str,
) -> Response:
    minter = store.manifest.minter
    if name == "id":
        value = minter.id_of(value.strip()) or value.strip()  # the thing's IRI names it as its id does
        successor, retired = index.successor(value)
        if retired:
            if successor is None:
                raise ServiceError(410, f"{value} was retired and nothing replaced it")
            replaced = minter.read_id(successor)
            assert replaced is not None  # the index names successors by their ids
            return RedirectResponse(item_path(request, *replaced), status_code=301)
        found = [value] if index.get(value) is not None else []
    else:
        found = index.with_value(name, [value])
    if not found:
        raise ServiceError(404, f"nothing in the graph has the {name} {echo(value)}")
    if len(found) > 1:
        items = [
            ListItem(
                id=known.iri, key=known.key, type=known.kind, label=known.label, page=minter.page(known.iri)
            ).model_dump()
            for ident in found
            if (known := index.get(ident)) is not None
        ]
        return JSONResponse({"items": items}, status_code=300)
    parsed = minter.read_id(found[0])  # an id of the index: one
    thing = find_thing(store, *parsed, labels) if parsed is not None else None
    if thing is None or parsed is None:
        raise ServiceError(404, f"nothing in the graph has the {name} {echo(value)}")
    kind, key = parsed
    # The item's own URL for this representation: JSON is its default, any other format is named as ?format=.
    location = item_path(request, kind, key) + ("" if fmt == JSON else f"?format={fmt.name}")
    return item(request, store, kind, thing, fmt, location=location)
