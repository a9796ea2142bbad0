"""`/changes`, `/changes/{version}` and `/changes.atom`: what each release changed, for tools that want only that
(JSON) and for people following a link from a page (the same as HTML, by Accept)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from functools import partial
from typing import Annotated, Any
from xml.etree import ElementTree as ET

import pyoxigraph as ox
from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response

from api.catalog.dcat import catalog_url, dump_url, names_base
from api.catalog.releases import HISTORY, History, counted, statements_of
from api.http.cache import PerBuildValues
from api.http.conditional import answer, validators
from api.http.deps import PerBuildDep, SettingsDep, StoreDep, get_per_build, public_base
from api.http.errors import ErrorBody
from api.http.files import file_answer
from api.http.forms import FormRoute
from api.http.representation import build_tag, choose, release_file_tag, requested
from api.pages.render import page
from graph.errors import ServiceError
from graph.formats import ATOM, HTML, JSON, N_QUADS
from graph.iris import Minter
from graph.releases import ADDED, CHECKSUMS, REMOVED, Release, ThingChange
from graph.settings import Settings
from graph.store import ReadStore

__all__ = ["router"]

router = APIRouter(tags=["releases"], route_class=FormRoute)

ATOM_NS = "http://www.w3.org/2005/Atom"
_LISTED = 100  # things named per release in /changes; all of them are in /changes/{version}, page by page
_NAMED_IN_FEED = 20
# JSON unless the client prefers HTML (a browser following a link from a page) or `?format=` names one.
_OFFERED = (JSON, HTML)
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody},
    304: {"description": "not modified"},
    406: {"model": ErrorBody},
}
_JSON_OR_HTML: dict[int | str, dict[str, Any]] = {200: {"content": {fmt.media_type: {} for fmt in _OFFERED}}, **_ERRORS}
# The list of the releases is the feed's content too: Atom on request, the same bytes as /changes.atom.
_LISTED_AS = (*_OFFERED, ATOM)


def _respond(
    request: Request,
    store: ReadStore,
    settings: Settings,
    media_type: str,
    render: Callable[[], bytes],
    *,
    location: str | None = None,
) -> Response:
    """The body `render()` makes for this build and URL, with its validators; 304 when the client has it.
    `location` is the URL of this representation where it has one of its own (Content-Location)."""
    releases = get_per_build(request).get(HISTORY, store).releases
    modified = releases[0].date if releases else store.manifest.modified
    etag = build_tag(store.manifest, request.url.path, request.url.query, public_base(request, settings), media_type)
    headers = {"Vary": "Accept", **({"Content-Location": location} if location else {})}
    return answer(request, render, media_type=media_type, etag=etag, modified=modified, headers=headers)


def _summary(release: Release, base: str, things: list[dict[str, Any]]) -> dict[str, Any]:
    """A release's record and links, with the changed `things` listed among them."""
    return {
        "version": release.version,
        "date": release.date,
        "previous": release.previous,
        "triples": release.triples,
        "added": release.added,
        "removed": release.removed,
        # None for the first release, which changes nothing: it adds every statement, about every thing.
        "things_changed": len(release.things) if release.previous is not None else None,
        "things": things,
        "changes": f"{base}/changes/{release.version}",
        "release": catalog_url(base, release.version),
        # Older releases keep their record and checksums; their dumps only while they are among the kept ones.
        "dumps": {name: dump_url(base, name, release.version) for name in sorted(release.files)}
        if release.kept
        else None,
        "checksums": dump_url(base, CHECKSUMS, release.version),
    }


def _thing(thing: ThingChange, base: str, minter: Minter, served: frozenset[str]) -> dict[str, Any]:
    """A changed thing, with its page only while the served build describes it: a thing a release removed (and
    no later one brought back) has none, where its old page would answer 404."""
    described = thing.iri in served
    path = minter.doc_path(thing.iri) if described else None
    page = None if path is None else base + path
    return {"id": thing.iri, "page": page, "served": described, "added": thing.added, "removed": thing.removed}


def _served(store: ReadStore, releases: Iterable[Release], things: slice) -> frozenset[str]:
    """Which of the things `releases` list (those `things` selects of each) the served build still says something
    about, in one query."""
    iris = {thing.iri for release in releases for thing in release.things[things]}
    if not iris:
        return frozenset()
    # Each IRI is written by the engine's own term (it refuses one that is not an IRI): it cannot change the query.
    nodes = " ".join(str(ox.NamedNode(iri)) for iri in sorted(iris))
    rows = store.select(f"SELECT DISTINCT ?s WHERE {{ VALUES ?s {{ {nodes} }} ?s ?p ?o }}")
    return frozenset(row["s"].value for row in rows)


@router.api_route(
    "/changes",
    methods=["GET", "HEAD"],
    response_class=Response,
    responses={**_JSON_OR_HTML, 200: {"content": {fmt.media_type: {} for fmt in _LISTED_AS}}},
    summary="Every release, newest first: version, date, counts and the things changed",
)
def changes(request: Request, store: StoreDep, values: PerBuildDep, settings: SettingsDep) -> Response:
    fmt = choose(request, _LISTED_AS)
    if fmt == ATOM:  # the feed, as /changes.atom sends it
        render_feed = partial(_feed, request, store, values, settings)
        return _respond(request, store, settings, ATOM.media_type, render_feed, location="/changes.atom")

    def render() -> bytes:
        base, minter = public_base(request, settings), store.manifest.minter
        releases = values.get(HISTORY, store).releases
        served = _served(store, releases, slice(_LISTED))
        listed = [
            _summary(release, base, [_thing(thing, base, minter, served) for thing in release.things[:_LISTED]])
            for release in releases
        ]
        body = {"current": store.manifest.release or None, "releases": listed}
        return page("changes.html", listing=body, release=None) if fmt == HTML else _json(body)

    return _respond(request, store, settings, fmt.media_type, render)


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


@router.api_route(
    "/changes/{version}",
    methods=["GET", "HEAD"],
    response_class=Response,
    responses=_JSON_OR_HTML,
    summary="What one release changed: the things, each with its added and removed statements (N-Quads)",
)
def release_changes(
    version: str,
    request: Request,
    store: StoreDep,
    values: PerBuildDep,
    settings: SettingsDep,
    *,
    limit: Annotated[int, Query(ge=1, le=1000, description="things per page")] = 100,
    offset: Annotated[int, Query(ge=0, description="things to skip")] = 0,
) -> Response:
    releases = values.get(HISTORY, store)
    release = releases.require(version)
    fmt = choose(request, _OFFERED)

    def render() -> bytes:
        base, minter = public_base(request, settings), store.manifest.minter
        shown = slice(offset, offset + limit)
        served = _served(store, [release], shown)
        statements = statements_of(releases, release, {thing.iri for thing in release.things[shown]})
        body = _summary(release, base, [])
        del body["things"]  # here listed last, page by page, each with its statements
        body["things"] = [
            {
                **_thing(thing, base, minter, served),
                "added_statements": statements[thing.iri][0],
                "removed_statements": statements[thing.iri][1],
            }
            for thing in release.things[shown]
        ]
        body["offset"], body["limit"] = offset, limit
        following = offset + limit
        body["next"] = (
            f"{base}/changes/{version}?limit={limit}&offset={following}" if following < len(release.things) else None
        )
        patch = f"{base}/changes/{version}/"
        body["patch"] = {"added": patch + ADDED, "removed": patch + REMOVED} if release.previous is not None else None
        if release.previous is None:
            body["note"] = "The first release: every statement in it is new; its dumps hold them all."
        return page("changes.html", listing=None, release=body) if fmt == HTML else _json(body)

    return _respond(request, store, settings, fmt.media_type, render)


@router.api_route(
    "/changes/{version}/{name}",
    methods=["GET", "HEAD"],
    response_class=FileResponse,
    responses={200: {"content": {"application/gzip": {}}}, **_ERRORS},
    summary=f"The patch of a release as gzipped N-Quads: {ADDED} and {REMOVED}",
)
def patch_file(version: str, name: str, request: Request, store: StoreDep, values: PerBuildDep) -> Response:
    releases = values.get(HISTORY, store)
    release = releases.require(version)
    if name not in (ADDED, REMOVED):
        raise ServiceError(404, f"a release's patch is {ADDED} and {REMOVED}, not {name!r}")
    if release.previous is None or releases.folder is None:
        raise ServiceError(404, f"release {version} is the first: it has no patch, its dumps hold every statement")
    requested(request, (N_QUADS,))
    path = releases.folder / version / name
    # The only file at its URL, written once: its size tells it apart from the other patch of the release.
    size = str(path.stat().st_size) if path.is_file() else ""
    headers = validators(release_file_tag(release.build_id, version, name, size), release.date)
    return file_answer(request, headers, path, "application/gzip", f"{version}-{name}")


@router.api_route(
    "/changes.atom",
    methods=["GET", "HEAD"],
    response_class=Response,
    responses={200: {"content": {ATOM.media_type: {}}}, 304: {"description": "not modified"}},
    summary="An Atom feed with one entry per release, naming what it changed",
)
def feed(request: Request, store: StoreDep, values: PerBuildDep, settings: SettingsDep) -> Response:
    requested(request, (ATOM,))
    return _respond(request, store, settings, ATOM.media_type, lambda: _feed(request, store, values, settings))


def _feed(request: Request, store: ReadStore, values: PerBuildValues, settings: Settings) -> bytes:
    base, manifest = public_base(request, settings), store.manifest
    return _atom(values.get(HISTORY, store), settings, base, manifest.namespace, manifest.modified)


def _element(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attributes)
    element.text = text
    return element


def _atom(releases: History, settings: Settings, base: str, namespace: str, modified: str) -> bytes:
    """RFC 4287: the feed and each entry carry an id, a title and an updated date; the author is named once."""
    ET.register_namespace("", ATOM_NS)
    root = ET.Element(f"{{{ATOM_NS}}}feed")
    # Ids are permanent (RFC 4287 §4.2.6): the IRIs of the releases, never the address a reader happened to use.
    names = names_base(settings, namespace)
    _element(root, "id", f"{names}/changes.atom")
    _element(root, "title", "smartcity-kg: releases and what they changed")
    _element(root, "updated", releases.releases[0].date if releases.releases else modified)
    _element(_element(root, "author"), "name", settings.publisher_name)
    _element(root, "link", rel="self", type=ATOM.media_type, href=f"{base}/changes.atom")
    _element(root, "link", rel="alternate", type=JSON.media_type, href=f"{base}/changes")
    for release in releases.releases:
        entry = _element(root, "entry")
        _element(entry, "id", f"{names}/changes/{release.version}")
        _element(entry, "title", f"Release {release.version}")
        _element(entry, "updated", release.date)
        _element(entry, "link", rel="alternate", type=JSON.media_type, href=f"{base}/changes/{release.version}")
        _element(entry, "link", rel="related", href=catalog_url(base, release.version))
        _element(entry, "summary", _entry_text(release, namespace), type="text")
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document


def _entry_text(release: Release, namespace: str) -> str:
    if release.previous is None:
        return f"The first release: {counted(release.triples, 'statement')}."
    mint = Minter(namespace)
    # A thing is named by its kind and key (`city/dortmund`), another IRI of the graph by its path, any other as itself.
    named = [
        "/".join(kind_key) if (kind_key := mint.parse(thing.iri)) else (mint.local(thing.iri) or thing.iri)
        for thing in release.things[:_NAMED_IN_FEED]
    ]
    more = len(release.things) - len(named)
    return (
        f"{counted(release.added, 'statement')} added and {release.removed} removed since release "
        f"{release.previous}, about {counted(len(release.things), 'thing')}: {', '.join(named)}"
        + (f" and {more} more." if more else ".")
    )
