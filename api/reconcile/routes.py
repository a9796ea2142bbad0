"""`/reconcile`: the Reconciliation Service API 0.2 (what OpenRefine speaks) and, at `/reconcile/1.0-draft`, the draft.

Every route reads the request on the event loop and does the work (the index of the build, matching, SPARQL) in
the thread pool, so that a slow index build never holds up other requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from api.http.conditional import conditional
from api.http.deps import SettingsDep, StoreHolderDep, app_cache, get_per_build, public_base
from api.http.errors import PROBLEM_JSON, echo
from api.http.forms import FormRoute, read_text
from api.http.negotiation import NotAcceptableError, negotiate
from api.http.representation import request_tag
from api.http.state import StoreHolder
from api.pages.templating import render
from api.reconcile.answers import (
    PREVIEW_SIZE,
    candidates,
    extension,
    known_property,
    manifest,
    proposals,
    suggest_entities,
    suggest_properties,
    suggest_types,
)
from api.reconcile.identifiers import KINDS, TYPES
from api.reconcile.index import RECONCILE_INDEX, ReconcileIndex
from api.reconcile.protocol import (
    MAX_LIMIT,
    body_bytes,
    extend_request,
    form_fields,
    parse_json,
    queries_02,
    queries_10,
)
from graph.errors import ServiceError
from graph.store import ReadStore

__all__ = ["router"]

router = APIRouter(prefix="/reconcile", tags=["Reconciliation"], route_class=FormRoute)
DRAFT = "/1.0-draft"
Prefix = Annotated[str, Query(max_length=200, description="what the user has typed so far")]
Cursor = Annotated[int, Query(ge=0, le=10_000, description="suggestions to skip")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"suggestions to return (at most {MAX_LIMIT})")]


async def _manifest(request: Request, settings: SettingsDep, holder: StoreHolderDep, version: str) -> Response:
    """The manifest; the build's index is made after it is sent (a client asks for the manifest first), so that
    the queries that follow find it ready."""
    store = await run_in_threadpool(holder.get)
    root = public_base(request, settings)
    base = f"{root}/reconcile{DRAFT if version != '0.2' else ''}"
    response = _tagged(request, store, JSONResponse(manifest(version, root, base, store.manifest.namespace)))
    # A 304 too: the client's queries follow.
    response.background = BackgroundTask(get_per_build(request).get, RECONCILE_INDEX, store)
    return response


def _tagged(request: Request, store: ReadStore, response: Response) -> Response:
    """`response` with the validator of a GET's answer (the build and the URL, the address the answer's links name),
    or 304 when the client has it (`conditional`); a POST's answer as it is."""
    return conditional(request, {"ETag": request_tag(store.manifest, request)}, lambda: response)


def _known_type(request: Request, kind: str | None, known: Mapping[str, str] = TYPES) -> tuple[str, ...]:
    """The one type a route's `type` parameter names (none when absent), each fault a 400."""
    if len(request.query_params.getlist("type")) > 1:
        raise ServiceError(400, "give `type` once: these routes answer for one type at a time")
    if kind is None or kind == "":
        return ()
    if kind not in known:
        raise ServiceError(400, f"unknown type {echo(kind)}; the types are: {', '.join(known)}")
    return (kind,)


async def _indexed(request: Request, holder: StoreHolder) -> tuple[ReadStore, ReconcileIndex]:
    values = get_per_build(request)

    def load() -> tuple[ReadStore, ReconcileIndex]:
        store = holder.get()
        return store, values.get(RECONCILE_INDEX, store)

    return await run_in_threadpool(load)


@router.api_route(
    "", methods=["GET", "HEAD", "POST"], summary="Manifest, reconciliation queries and data extension (0.2)"
)
async def reconcile(request: Request, settings: SettingsDep, holder: StoreHolderDep) -> Response:
    """Without parameters, the service manifest. With `queries` (GET parameter or POST form field), a JSON object
    of queries: `{"q0": {"query": "Stadt Dortmund", "type": "city", "limit": 3, "properties": [{"pid": "land",
    "v": "NRW"}]}}`. With `extend`, a data extension query: `{"ids": ["city/dortmund"], "properties": [{"id":
    "ags"}]}`."""
    fields = await form_fields(request)
    if "queries" in fields:
        queries = queries_02(fields["queries"])
        store, index = await _indexed(request, holder)
        pools = app_cache(request, "name_pools")
        answer = await run_in_threadpool(
            lambda: {key: {"result": candidates(index, pools, query)} for key, query in queries.items()}
        )
        return _tagged(request, store, JSONResponse(answer))
    if "extend" in fields:
        return await _extend(request, holder, fields["extend"], draft=False)
    if request.method == "POST":
        raise ServiceError(400, "a POST carries `queries` (reconciliation) or `extend` (data extension)")
    return await _manifest(request, settings, holder, "0.2")


async def _extend(request: Request, holder: StoreHolderDep, text: str | Any, draft: bool) -> Response:
    document = parse_json(text, "`extend`") if isinstance(text, str) else text
    parsed = extend_request(document)
    unknown = [pid for pid, _ in parsed.properties if not known_property(pid)]
    if unknown:
        raise ServiceError(
            400,
            f"unknown property {echo(unknown[0])}; GET /reconcile/extend/propose?type=... lists a type's properties",
        )
    store, index = await _indexed(request, holder)
    meta, rows = await run_in_threadpool(extension, store, index, parsed)
    if not draft:
        return _tagged(request, store, JSONResponse({"meta": meta, "rows": rows}))
    return JSONResponse(
        {
            "meta": meta,
            "rows": [
                {"id": ident, "properties": [{"id": pid, "values": values} for pid, values in cells.items()]}
                for ident, cells in rows.items()
            ],
        }
    )


@router.api_route(DRAFT, methods=["GET", "HEAD"], summary="Manifest of the 1.0 draft")
async def draft_manifest(request: Request, settings: SettingsDep, holder: StoreHolderDep) -> Response:
    return await _manifest(request, settings, holder, "1.0-draft")


async def _json_body(request: Request) -> Any:
    return parse_json(read_text(await body_bytes(request), "request body"), "the request body")


@router.post(f"{DRAFT}/reconcile", summary="Reconciliation queries (1.0 draft)")
async def draft_reconcile(request: Request, holder: StoreHolderDep) -> Response:
    """A JSON body `{"queries": [{"type": "city", "conditions": [{"matchType": "name", "propertyValue":
    "Stadt Dortmund"}]}]}`; answered `{"results": [{"candidates": [...]}]}` in the same order."""
    parsed = queries_10(await _json_body(request))
    _, index = await _indexed(request, holder)
    pools = app_cache(request, "name_pools")
    results = await run_in_threadpool(
        lambda: [{"candidates": candidates(index, pools, query, required)} for query, required in parsed]
    )
    return JSONResponse({"results": results})


@router.post(f"{DRAFT}/extend", summary="Data extension (1.0 draft)")
async def draft_extend(request: Request, holder: StoreHolderDep) -> Response:
    return await _extend(request, holder, await _json_body(request), draft=True)


def _both(path: str) -> list[str]:
    return [path, f"{DRAFT}{path}"]


async def suggest_entity(
    request: Request,
    holder: StoreHolderDep,
    *,
    prefix: Prefix = "",
    cursor: Cursor = 0,
    limit: Limit = 10,
    kind: Annotated[str | None, Query(alias="type", description="only this type")] = None,
) -> Response:
    """Entities whose name starts with (or has a word starting with) the prefix; an id, AGS or Wikidata id finds
    its thing."""
    types = _known_type(request, kind)
    store, index = await _indexed(request, holder)
    result = await run_in_threadpool(suggest_entities, index, prefix, types, cursor, limit)
    return _tagged(request, store, JSONResponse({"result": result}))


async def suggest_type(request: Request, holder: StoreHolderDep, prefix: Prefix = "") -> Response:
    store = await run_in_threadpool(holder.get)
    return _tagged(request, store, JSONResponse({"result": suggest_types(prefix)}))


async def suggest_property(
    request: Request,
    holder: StoreHolderDep,
    prefix: Prefix = "",
    kind: Annotated[str | None, Query(alias="type", description="only this type's")] = None,
) -> Response:
    types = _known_type(request, kind)
    store = await run_in_threadpool(holder.get)
    return _tagged(request, store, JSONResponse({"result": suggest_properties(prefix, types[0] if types else None)}))


async def propose(
    request: Request,
    holder: StoreHolderDep,
    kind: Annotated[str, Query(alias="type", description="a type id, or `source`")],
    limit: Annotated[int | None, Query(ge=1, le=MAX_LIMIT)] = None,
) -> Response:
    """The properties data extension offers for a type, then the sources of each."""
    types = _known_type(request, kind, KINDS)
    if not types:
        raise ServiceError(400, f"`type` is required: one of {', '.join(KINDS)}")
    store = await run_in_threadpool(holder.get)
    return _tagged(request, store, JSONResponse(proposals(types[0], limit)))


async def preview(
    request: Request,
    settings: SettingsDep,
    holder: StoreHolderDep,
    ident: Annotated[str, Query(alias="id", max_length=300, description="an entity id")],
) -> Response:
    """An HTML card of one entity, sized for the client's preview frame."""
    store, index = await _indexed(request, holder)
    entry = index.get(ident) if index.minter.read_id(ident, KINDS) else None
    successor, retired = index.successor(ident)
    if entry is None:
        status = 410 if retired else 404
        message = (
            (f"{ident} was retired" + (f"; it is now {successor}" if successor else ""))
            if retired
            else f"no entity {echo(ident)}"
        )
        if not _wants_html(request):  # a client reading JSON gets the service's one error body
            raise ServiceError(status, message)
        body = render(
            "reconcile_preview.html", entry=None, message=message, width=PREVIEW_SIZE[0], height=PREVIEW_SIZE[1], doc=""
        )
        return Response(body, status_code=status, media_type="text/html")
    root = public_base(request, settings)
    body = render(
        "reconcile_preview.html",
        entry=entry,
        message="",
        width=PREVIEW_SIZE[0],
        height=PREVIEW_SIZE[1],
        doc=root + (store.manifest.minter.doc_path(entry.iri) or ""),
    )
    return _tagged(request, store, Response(body, media_type="text/html"))


def _wants_html(request: Request) -> bool:
    """Whether the client would rather read an HTML card than JSON (a missing or unusable Accept: HTML, the card
    being what previews show)."""
    try:
        return negotiate(request.headers.get("accept"), ["text/html", "application/json", PROBLEM_JSON]) == "text/html"
    except NotAcceptableError:
        return True


for _path, _handler, _summary in (
    ("/suggest/entity", suggest_entity, "Suggest entities"),
    ("/suggest/type", suggest_type, "Suggest types"),
    ("/suggest/property", suggest_property, "Suggest properties"),
    ("/extend/propose", propose, "Properties proposed for data extension"),
    ("/preview", preview, "HTML preview of an entity"),
):
    for _each in _both(_path):
        router.add_api_route(_each, _handler, methods=["GET", "HEAD"], summary=_summary, response_class=Response)
