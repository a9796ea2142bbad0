"""`/catalog`, `/.well-known/void`, `/dumps` and `/`: the dataset for portals, crawlers, bulk downloads and people.

Everything here names the build it was made from in its ETag and the data's date in Last-Modified, so harvesters
revalidate with a 304 until the next release.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from rdflib import Graph

from api.catalog.dataset import DUMPS, dump_file
from api.catalog.dcat import catalog_graph, catalog_url, citation, dump_url, release_graph, void_graph
from api.catalog.landing import LANDING_FIGURES
from api.catalog.releases import HISTORY
from api.http.cache import PerBuildValues
from api.http.conditional import answer, conditional, validators
from api.http.deps import PerBuildDep, SettingsDep, StoreDep, public_base
from api.http.errors import ErrorBody
from api.http.files import file_answer
from api.http.forms import FormRoute
from api.http.representation import (
    build_tag,
    by_suffix,
    choose,
    entity_tag,
    release_file_tag,
    represent,
    request_tag,
    requested,
)
from api.pages.render import page, page_response
from graph.errors import ServiceError
from graph.formats import GRAPH, HTML, JSON, JSON_LD, Format
from graph.iris import Minter
from graph.published import DUMP_FILES
from graph.releases import CHECKSUMS, checksum_lines, dump_name
from graph.settings import Settings
from graph.store import ReadStore

__all__ = ["router"]

router = APIRouter(tags=["open data"], route_class=FormRoute)

_RDF_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {fmt.media_type: {} for fmt in GRAPH},
        "description": "RDF; Turtle unless the suffix, ?format= or Accept asks otherwise",
    },
    304: {"description": "not modified since the ETag given"},
    406: {"model": ErrorBody, "description": "none of the RDF formats is acceptable"},
}


def _rdf(
    request: Request,
    store: ReadStore,
    describe: Callable[[], Graph],
    path: str,
    *,
    suffix: Format | None,
    base: str,
    per_format: bool = True,
) -> Response:
    """The description in the format the suffix, ?format= or Accept chooses (the same names as /doc and /sparql),
    with an ETag per build, format and base URL and the data's date as Last-Modified. With `per_format`, each
    format is also a document of its own (`/catalog.nt`), named in Content-Location and linked as an alternate."""
    fmt = choose(request, GRAPH, suffix)

    def body() -> bytes:
        graph = describe()
        options: dict[str, Any] = {"context": dict(graph.namespaces()), "auto_compact": True} if fmt == JSON_LD else {}
        assert fmt.rdflib is not None  # every format of GRAPH has rdflib's name
        payload: bytes = graph.serialize(format=fmt.rdflib, encoding="utf-8", **options)
        return payload

    return represent(
        request,
        fmt,
        body,
        location=f"{path}.{fmt.suffix}" if per_format else path,
        # Weak (RFC 9110 §8.8.1): rdflib names the description's blank nodes afresh each time, so two bodies of one
        # build say the same in other bytes.
        etag="W/" + build_tag(store.manifest, path, fmt.name, base),
        alternates=[(f"{path}.{alt.suffix}", alt) for alt in GRAPH] if per_format else [],
        modified=store.manifest.modified,
    )


@router.api_route(
    "/catalog",
    methods=["GET", "HEAD"],
    response_class=Response,
    responses=_RDF_RESPONSES,
    summary="DCAT-AP.de catalogue of the dataset, its dumps and services",
)
def catalog(request: Request, store: StoreDep, values: PerBuildDep, settings: SettingsDep) -> Response:
    base = public_base(request, settings)
    return _rdf(
        request, store, lambda: catalog_graph(store, values, settings, base), "/catalog", suffix=None, base=base
    )


@router.api_route(
    "/catalog.{suffix}",
    methods=["GET", "HEAD"],
    response_class=Response,
    responses={**_RDF_RESPONSES, 404: {"model": ErrorBody}},
    summary=f"The catalogue in one format: {', '.join(fmt.suffix for fmt in GRAPH)}",
)
def catalog_as(suffix: str, request: Request, store: StoreDep, values: PerBuildDep, settings: SettingsDep) -> Response:
    base = public_base(request, settings)
    return _rdf(
        request,
        store,
        lambda: catalog_graph(store, values, settings, base),
        "/catalog",
        suffix=by_suffix(suffix, GRAPH),
        base=base,
    )


@router.api_route(
    "/catalog/{version}",
    methods=["GET", "HEAD"],
    response_class=Response,
    responses={**_RDF_RESPONSES, 404: {"model": ErrorBody}},
    summary="One release of the dataset: its version, date, dumps while kept, and the release before",
)
def release(version: str, request: Request, store: StoreDep, values: PerBuildDep, settings: SettingsDep) -> Response:
    found = values.get(HISTORY, store).require(version)
    base = public_base(request, settings)
    return _rdf(
        request,
        store,
        lambda: release_graph(found, settings, base, store.manifest.namespace),
        f"/catalog/{version}",
        suffix=None,
        base=base,
        per_format=False,
    )


@router.api_route(
    "/.well-known/void",
    methods=["GET", "HEAD"],
    response_class=Response,
    responses=_RDF_RESPONSES,
    summary="VoID description with statistics of the graph",
)
def void(request: Request, store: StoreDep, values: PerBuildDep, settings: SettingsDep) -> Response:
    base = public_base(request, settings)
    return _rdf(
        request,
        store,
        lambda: void_graph(store, values, settings, base),
        "/.well-known/void",
        suffix=None,
        base=base,
        per_format=False,
    )


# The dumps' types, and plain text for SHA256SUMS.
_DUMP_TYPES: dict[str, Any] = {**{dump.served_as: {} for dump in DUMPS.values()}, "text/plain": {}}
_TEXT = "text/plain; charset=utf-8"
_NO_DUMPS = (
    "the dumps are written by the build that loads a local store; this service reads its graph from a "
    "remote SPARQL server, which has no dump files here"
)


@router.api_route(
    "/dumps/{name}",
    methods=["GET", "HEAD"],
    response_class=FileResponse,
    responses={
        200: {"content": _DUMP_TYPES},
        304: {"description": "not modified since the ETag or date given"},
        404: {"model": ErrorBody},
    },
    summary=f"The current release as a file: {', '.join(DUMPS)}; their checksums in {CHECKSUMS}",
)
def dump(name: str, request: Request, store: StoreDep, values: PerBuildDep) -> Response:
    """The dump of the release being served. Compressed dumps are sent as `application/gzip` (not with a
    Content-Encoding), so that clients store them as they are. `ETag` names the build; `If-None-Match` and
    `If-Modified-Since` are answered 304 while the data is unchanged. `SHA256SUMS` lists the checksums of these
    files in the format `sha256sum -c` reads."""
    if name not in DUMPS and name != CHECKSUMS:
        if values.get(HISTORY, store).get(name) is not None:  # a release's folder, named without its slash
            return RedirectResponse(f"/dumps/{name}/", status_code=308)
        raise ServiceError(404, f"no dump {name!r}; the dumps are: {', '.join(DUMPS)}, with {CHECKSUMS}")
    if store.path is None:
        raise ServiceError(404, _NO_DUMPS)
    manifest = store.manifest
    if name == CHECKSUMS:
        requested(request, ())
        if not manifest.checksums:
            raise ServiceError(404, "this build was published before checksums were recorded; build it again")
        listing = checksum_lines(manifest.checksums)
        tag = release_file_tag(manifest.build_id, manifest.release, name, listing)
        headers = validators(tag, manifest.modified)
        return conditional(request, headers, lambda: Response(listing, media_type=_TEXT))
    requested(request, (DUMPS[name].format,))
    # Tagged by the file's name in its release and its digest, so that its versioned URL gives the same validator.
    in_release = dump_name(manifest.release, name)
    tag = release_file_tag(manifest.build_id, manifest.release, in_release, manifest.checksums.get(name, ""))
    headers = validators(tag, manifest.modified)
    return file_answer(request, headers, dump_file(store.path, DUMPS[name]), DUMPS[name].served_as, name)


@router.api_route(
    "/dumps/",
    methods=["GET", "HEAD"],
    response_class=Response,
    status_code=307,
    responses={307: {"description": "the folder of the release being served"}, 404: {"model": ErrorBody}},
    summary="The dumps' folder: the folder of the release being served",
)
def dumps_folder(store: StoreDep) -> Response:
    """`/dumps/`, where the documentation sends readers, lists what the current release's folder lists: the current
    dumps are that release's files under shorter names."""
    release = store.manifest.release
    if store.path is None:
        raise ServiceError(404, _NO_DUMPS)
    if not release:
        raise ServiceError(404, f"this build is not a release; its dumps are: {', '.join(DUMPS)}, with {CHECKSUMS}")
    return RedirectResponse(f"/dumps/{release}/", status_code=307)


@router.api_route(
    "/dumps/{version}/",
    methods=["GET", "HEAD"],
    response_class=Response,
    responses={
        200: {"content": {JSON.media_type: {}, HTML.media_type: {}}},
        304: {"description": "not modified since the ETag or date given"},
        404: {"model": ErrorBody},
        406: {"model": ErrorBody},
    },
    summary="The files of a release: name, size, SHA-256 and URL (JSON, or a page for browsers)",
)
def release_files(
    version: str, request: Request, store: StoreDep, values: PerBuildDep, settings: SettingsDep
) -> Response:
    """The folder a citation names: what it holds, so that a reader finds and verifies the files. Dumps older than
    the kept releases are listed with `url` null; their checksums stay."""
    found = values.get(HISTORY, store).require(version)
    media_type = choose(request, (JSON, HTML)).media_type
    base = public_base(request, settings)
    folder = dump_url(base, "", version)  # the release's folder
    listing = {
        "version": version,
        "kept": found.kept,
        "files": [
            {
                "name": name,
                "bytes": found.sizes.get(name),
                "sha256": digest,
                "url": folder + name if found.kept else None,
            }
            for name, digest in sorted(found.files.items())
        ],
        "checksums": folder + CHECKSUMS,
        "release": catalog_url(base, version),
    }
    # Whether the dumps are still kept is part of what the listing says: a pruned release's listing is new (its urls
    # are gone), dated no later than the release being served, which pruned it.
    modified = found.date if found.kept else store.manifest.modified
    etag = entity_tag(found.build_id, version, base, media_type, "kept" if found.kept else "pruned")

    def body() -> bytes:
        return page("dumps.html", listing=listing) if media_type == HTML.media_type else json.dumps(listing).encode()

    return answer(request, body, media_type=media_type, etag=etag, modified=modified, headers={"Vary": "Accept"})


@router.api_route(
    "/dumps/{version}/{name}",
    methods=["GET", "HEAD"],
    response_class=FileResponse,
    responses={
        200: {"content": _DUMP_TYPES},
        304: {"description": "not modified since the ETag or date given"},
        404: {"model": ErrorBody},
        410: {"model": ErrorBody},
    },
    summary="A release's dumps, named with its version, and their SHA256SUMS",
)
def release_dump(version: str, name: str, request: Request, store: StoreDep, values: PerBuildDep) -> Response:
    """The files of one release never change: a versioned URL always gives the same bytes. Releases older than the
    kept ones answer 410 Gone for their dumps; their SHA256SUMS stays."""
    releases = values.get(HISTORY, store)
    found = releases.get(version)
    if found is None or releases.folder is None:
        raise ServiceError(404, f"there is no release {version!r}; /changes lists them all")
    folder = releases.folder / version
    if name == CHECKSUMS:
        requested(request, ())
        listing = folder / CHECKSUMS
        content = listing.read_text(encoding="utf-8") if listing.is_file() else ""
        return file_answer(
            request, validators(release_file_tag(found.build_id, version, name, content), found.date), listing, _TEXT
        )
    dump = next((dump for dump in DUMPS.values() if dump_name(version, dump.name) == name), None)
    if dump is None:
        raise ServiceError(
            404, f"release {version} has no file {name!r}; it has: {', '.join(sorted(found.files))}, {CHECKSUMS}"
        )
    requested(request, (dump.format,))
    headers = validators(release_file_tag(found.build_id, version, name, found.files.get(name, "")), found.date)
    # A build pruning old dumps may have started after this build's history was read: the disk has the last word.
    if not found.kept or not (folder / name).is_file():
        kept = [release.version for release in releases.releases if release.kept]
        raise ServiceError(
            410,
            f"the dumps of release {version} are no longer kept; those of "
            f"{', '.join(kept)} are. Its checksums are still at /dumps/{version}/{CHECKSUMS}",
        )
    return file_answer(request, headers, folder / name, dump.served_as, name)


# What the class counts are called on the page, in the order they are shown.
_FIGURES = (
    ("Alliance", "alliances and partnerships"),
    ("Membership", "memberships"),
    ("City", "cities"),
    ("Company", "companies"),
    ("Organization", "other organisations"),
    ("Agreement", "agreements"),
    ("Pilot", "pilots"),
    ("Person", "people"),
    ("Source", "sources"),
    ("Conflict", "conflicts between sources"),
)
_VENDORS_SHOWN = 12


def _date(modified: str) -> str:
    try:
        return datetime.fromisoformat(modified).strftime("%-d %B %Y")
    except ValueError:
        return modified


# `/`, the dataset's landing page (its dcat:landingPage): what the graph holds, its dumps and how to cite it.
@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
def landing(request: Request, store: StoreDep, values: PerBuildDep, settings: SettingsDep) -> Response:
    etag = request_tag(store.manifest, request)
    return conditional(request, validators(etag, store.manifest.modified), lambda: _landing(store, values, settings))


def _landing(store: ReadStore, values: PerBuildValues, settings: Settings) -> HTMLResponse:
    figures = values.get(LANDING_FIGURES, store)
    counts = figures.coverage.counts
    release = values.get(HISTORY, store).get(store.manifest.release)
    return page_response(
        "landing.html",
        manifest=store.manifest,
        release=release,
        cite=citation(release, settings, store.manifest.namespace) if release is not None else None,
        built=_date(store.manifest.modified),
        figures=[(counts.get(name, 0), label) for name, label in _FIGURES],
        sources=counts.get("Source", 0),
        coverage=figures.coverage,
        vendors=figures.coverage.vendors[:_VENDORS_SHOWN],
        more_vendors=figures.coverage.vendors[_VENDORS_SHOWN:],
        alliances=figures.alliances,
        dumps=sorted(DUMP_FILES.values()),
        # A thing's page (`{ns}id/city/x` is described at `/doc/city/x`); other IRIs stay as they are.
        page=Minter(store.manifest.namespace).page,
    )
