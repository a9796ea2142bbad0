"""`/catalog`, `/.well-known/void` and `/dumps`: the dataset for portals, crawlers and bulk downloads."""

from __future__ import annotations

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
from api.negotiation import negotiate
from graph.settings import Settings
from graph.store import EmbeddedStore

__all__ = ["router"]

router = APIRouter(tags=["open data"])

# media type → (rdflib format, suffix of the document that has only this format)
_RDF = {"text/turtle": ("turtle", "ttl"), "application/ld+json": ("json-ld", "jsonld"),
        "application/rdf+xml": ("xml", "rdf"), "application/n-triples": ("nt11", None)}
_BY_SUFFIX = {suffix: media for media, (_, suffix) in _RDF.items() if suffix}
_RDF_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {media: {} for media in _RDF}, "description": "RDF; Turtle unless Accept asks otherwise"},
    406: {"model": ErrorBody, "description": "none of the RDF formats is acceptable"},
}


def _base(request: Request, settings: Settings) -> str:
    return (settings.base_url or str(request.base_url)).rstrip("/")


def _rdf(graph: Graph, media_type: str, location: str | None) -> Response:
    fmt, suffix = _RDF[media_type]
    options: dict[str, Any] = {"context": dict(graph.namespaces()), "auto_compact": True} if fmt == "json-ld" else {}
    headers = {"Vary": "Accept"}
    if location is not None and suffix is not None:
        headers["Content-Location"] = f"{location}.{suffix}"
    return Response(graph.serialize(format=fmt, encoding="utf-8", **options), media_type=media_type,
                    headers=headers)


@router.api_route("/catalog", methods=["GET", "HEAD"], response_class=Response, responses=_RDF_RESPONSES,
                  summary="DCAT-AP.de catalogue of the dataset, its dumps and services")
def catalog(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    media_type = negotiate(request.headers.get("accept"), list(_RDF))
    return _rdf(catalog_graph(store, settings, _base(request, settings)), media_type, "/catalog")


@router.api_route("/catalog.{suffix}", methods=["GET", "HEAD"], response_class=Response,
                  responses={**_RDF_RESPONSES, 404: {"model": ErrorBody}},
                  summary="The catalogue in one format: ttl, jsonld or rdf")
def catalog_as(suffix: str, request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    if suffix not in _BY_SUFFIX:
        raise HTTPException(404, f"no catalogue as .{suffix}; there are: {', '.join(_BY_SUFFIX)}")
    return _rdf(catalog_graph(store, settings, _base(request, settings)), _BY_SUFFIX[suffix], None)


@router.api_route("/.well-known/void", methods=["GET", "HEAD"], response_class=Response,
                  responses=_RDF_RESPONSES, summary="VoID description with statistics of the graph")
def void(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    media_type = negotiate(request.headers.get("accept"), list(_RDF))
    return _rdf(void_graph(store, settings, _base(request, settings)), media_type, None)


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
