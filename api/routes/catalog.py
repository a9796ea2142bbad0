"""`/catalog`, `/.well-known/void` and `/dumps`: the dataset for portals, crawlers and bulk downloads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, Response
from rdflib import Graph

from api.catalog import catalog_graph, void_graph
from api.dataset import DUMPS, dump_file
from api.deps import SettingsDep, StoreDep
from api.models import ErrorBody
from api.rdf_formats import by_suffix, choose, entity_tag, represent
from graph.formats import GRAPH, JSON_LD, Format
from graph.settings import Settings
from graph.store import EmbeddedStore, ReadStore

__all__ = ["router"]

router = APIRouter(tags=["open data"])

_RDF_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {fmt.media_type: {} for fmt in GRAPH},
          "description": "RDF; Turtle unless the suffix, ?format= or Accept asks otherwise"},
    304: {"description": "not modified since the ETag given"},
    406: {"model": ErrorBody, "description": "none of the RDF formats is acceptable"},
}


def _base(request: Request, settings: Settings) -> str:
    return (settings.base_url or str(request.base_url)).rstrip("/")


def _rdf(request: Request, store: ReadStore, describe: Callable[[], Graph], path: str, *, suffix: Format | None,
         base: str, per_format: bool = True) -> Response:
    """The description in the format the suffix, ?format= or Accept chooses (the same names as /doc and /sparql),
    with an ETag per build, format and base URL. With `per_format`, each format is also a document of its own
    (`/catalog.nt`), named in Content-Location and linked as an alternate."""
    fmt = choose(request, GRAPH, suffix)

    def body() -> bytes:
        graph = describe()
        options: dict[str, Any] = {"context": dict(graph.namespaces()), "auto_compact": True} if fmt == JSON_LD else {}
        assert fmt.rdflib is not None  # every format of GRAPH has rdflib's name
        payload: bytes = graph.serialize(format=fmt.rdflib, encoding="utf-8", **options)
        return payload

    return represent(request, fmt, body, location=f"{path}.{fmt.suffix}" if per_format else path,
                     etag=entity_tag(store.manifest.build_id, path, fmt.name, base),
                     alternates=[(f"{path}.{alt.suffix}", alt) for alt in GRAPH] if per_format else [])


@router.api_route("/catalog", methods=["GET", "HEAD"], response_class=Response, responses=_RDF_RESPONSES,
                  summary="DCAT-AP.de catalogue of the dataset, its dumps and services")
def catalog(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    base = _base(request, settings)
    return _rdf(request, store, lambda: catalog_graph(store, settings, base), "/catalog", suffix=None, base=base)


@router.api_route("/catalog.{suffix}", methods=["GET", "HEAD"], response_class=Response,
                  responses={**_RDF_RESPONSES, 404: {"model": ErrorBody}},
                  summary=f"The catalogue in one format: {', '.join(fmt.suffix for fmt in GRAPH)}")
def catalog_as(suffix: str, request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    base = _base(request, settings)
    return _rdf(request, store, lambda: catalog_graph(store, settings, base), "/catalog",
                suffix=by_suffix(suffix, GRAPH), base=base)


@router.api_route("/.well-known/void", methods=["GET", "HEAD"], response_class=Response,
                  responses=_RDF_RESPONSES, summary="VoID description with statistics of the graph")
def void(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    base = _base(request, settings)
    return _rdf(request, store, lambda: void_graph(store, settings, base), "/.well-known/void", suffix=None,
                base=base, per_format=False)


@router.api_route("/dumps/{name}", methods=["GET", "HEAD"], response_class=FileResponse,
                  responses={200: {"content": {dump.served_as: {} for dump in DUMPS.values()}},
                             304: {"description": "not modified since the ETag or date given"},
                             404: {"model": ErrorBody}},
                  summary=f"The whole graph as a file: {', '.join(DUMPS)}")
def dump(name: str, request: Request, store: StoreDep) -> Response:
    """The dump of the build being served. Compressed dumps are sent as `application/gzip` (not with a
    Content-Encoding), so that clients store them as they are. `ETag` names the build; `If-None-Match` and
    `If-Modified-Since` are answered 304 while the data is unchanged."""
    if name not in DUMPS:
        raise HTTPException(404, f"no dump {name!r}; the dumps are: {', '.join(DUMPS)}")
    if not isinstance(store, EmbeddedStore):
        raise HTTPException(404, "the dumps are written by the build that loads a local store; this service reads "
                                 "its graph from a remote SPARQL server, which has no dump files here")
    path = dump_file(store, DUMPS[name])
    manifest = store.manifest
    modified = datetime.fromisoformat(manifest.modified).astimezone(UTC)
    headers = {"ETag": f'"{manifest.build_id}-{name}"', "Last-Modified": format_datetime(modified, usegmt=True)}
    if _unchanged(request, headers["ETag"], modified):
        return Response(status_code=304, headers=headers)
    return FileResponse(path, media_type=DUMPS[name].served_as, headers=headers, filename=name,
                        stat_result=path.stat())


def _unchanged(request: Request, etag: str, modified: datetime) -> bool:
    """RFC 9110 §13.1: If-None-Match decides when present (weak comparison); else If-Modified-Since."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False  # an unreadable date is ignored, as RFC 9110 asks
    return since.tzinfo is not None and modified.replace(microsecond=0) <= since
