"""Linked data: `/id/...` names a thing and redirects, `/doc/...` describes it, `/vocab/...` describes a controlled
vocabulary or one of its concepts, `/ontology` and `/context.jsonld`."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated

import pyoxigraph as ox
from fastapi import APIRouter, Path, Request, Response
from starlette.concurrency import run_in_threadpool

from api.catalog.releases import HISTORY, History
from api.http.context import load_context
from api.http.deps import PerBuildDep, SettingsDep, StoreDep, app_cache, get_per_build, public_base, rendered
from api.http.errors import ErrorBody, error_response
from api.http.forms import FormRoute
from api.http.representation import (
    HTML,
    JSON_LD,
    RDF_FORMATS,
    Format,
    build_tag,
    by_suffix,
    choose,
    entity_tag,
    prefixes_for,
    represent,
    serialize,
    split_suffix,
)
from api.http.terms import node_id
from api.linked_data.describe import Describing, Description, describe
from api.linked_data.doc_view import doc_page
from api.linked_data.profiles import profile_panels
from api.pages.display import LANGUAGES, pick_language
from api.pages.ontology import ONTOLOGY, ontology_page
from api.pages.templating import render, words
from graph.errors import ServiceError
from graph.iris import is_key
from graph.releases import Release
from graph.settings import Settings
from graph.store import ReadStore, with_constants
from graph.vocab import DCTERMS, OWL, RDFS, SKOS, XSD

__all__ = ["router"]

router = APIRouter(tags=["linked data"], route_class=FormRoute)

DOC_FORMATS = (HTML, *RDF_FORMATS)
# What a response varies on: the format by Accept, and the HTML page's language by Accept-Language.
VARY = "Accept, Accept-Language"

Kind = Annotated[str, Path(description="The type of thing, e.g. `city`, `alliance`, `membership`.")]
Key = Annotated[str, Path(description="The thing's key, e.g. `dortmund`.")]
# A browser's 404 is a page (api.http.errors writes it for routes whose responses include HTML), else the error body.
_NOT_FOUND: dict[str, object] = {"description": "No such thing", "model": ErrorBody, "content": {"text/html": {}}}
# What a description answers, the same for a thing and for a vocabulary node.
_DESCRIPTION_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "content": {fmt.media_type: {} for fmt in DOC_FORMATS},
        "description": "HTML for browsers; Turtle, JSON-LD, N-Triples or RDF/XML by Accept, "
        "by the suffix .ttl/.jsonld/.nt/.rdf/.html, or by ?format=",
    },
    404: _NOT_FOUND,
    406: {"description": "No acceptable format"},
}
_ONTOLOGY_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {fmt.media_type: {} for fmt in DOC_FORMATS}, "description": "HTML for browsers, else RDF"}
}
# A vocabulary node's description: its own triples with the labels of what they point at (its scheme, a broader
# concept), and for a scheme its concepts with their labels. Not what uses a concept: a role is the object of every
# membership in that role, and the description has to stay as small as the vocabulary whatever the graph's size.
_VOCABULARY_QUERY = f"""CONSTRUCT {{ ?node ?p ?o . ?o <{RDFS.label}> ?label .
                                    ?concept <{SKOS.inScheme}> ?node ; <{RDFS.label}> ?name }}
WHERE {{
  {{ ?node ?p ?o OPTIONAL {{ ?o <{RDFS.label}> ?label }} }}
  UNION {{ ?concept <{SKOS.inScheme}> ?node ; <{RDFS.label}> ?name }}
}}"""


@router.api_route(
    "/id/{kind}/{key}",
    methods=["GET", "HEAD"],
    summary="Name of a thing: 303 to its description",
    response_class=Response,
    responses={303: {"description": "See the description at Location"}, 404: _NOT_FOUND},
)
def identify(kind: Kind, key: Key, request: Request, store: StoreDep) -> Response:
    found = _lookup(request, store, kind, key, None)
    if isinstance(found, Response):
        return found
    fmt = choose(request, DOC_FORMATS)
    # A browser gets the plain page URL; a data client the URL of the format it asked for.
    location = store.manifest.minter.page(found.iri) + ("" if fmt == HTML else f".{fmt.suffix}")
    return Response(status_code=303, headers={"Location": location, "Vary": "Accept"})


@router.api_route(
    "/doc/{kind}/{name}",
    methods=["GET", "HEAD"],
    summary="Description of a thing",
    response_class=Response,
    responses={**_DESCRIPTION_RESPONSES, 410: {"description": "The thing has been retired"}},
)
async def document(
    kind: Kind,
    name: Annotated[str, Path(description="The key, optionally with a format suffix.")],
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
) -> Response:
    return await _kept(request, store, settings, partial(_document, kind, name, request, store, settings))


def _document(kind: str, name: str, request: Request, store: ReadStore, settings: Settings) -> Response:
    key, suffix = split_suffix(name, DOC_FORMATS)
    description = _lookup(request, store, kind, key, suffix)
    if isinstance(description, Response):
        return description
    return _described(request, store, settings, description, suffix)


def _with_release(releases: History, description: Description) -> tuple[Description, Release | None]:
    """The description with `dct:modified`: the date of the last release that changed a statement about it."""
    changed = releases.last_change(description.iri)
    if changed is None:
        return description, None
    modified = ox.Triple(
        ox.NamedNode(description.iri),
        ox.NamedNode(str(DCTERMS.modified)),
        ox.Literal(changed.date, datatype=ox.NamedNode(str(XSD.dateTime))),
    )
    return Description.of(description.iri, (*description.triples, modified)), changed


@router.api_route(
    "/vocab/{scheme}",
    methods=["GET", "HEAD"],
    summary="A controlled vocabulary and its concepts",
    response_class=Response,
    responses=_DESCRIPTION_RESPONSES,
)
async def scheme_document(
    scheme: Annotated[str, Path(description="The vocabulary's key, e.g. `role`, optionally with a format suffix.")],
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
) -> Response:
    return await _kept(request, store, settings, partial(_vocabulary_node, (scheme,), request, store, settings))


@router.api_route(
    "/vocab/{scheme}/{concept}",
    methods=["GET", "HEAD"],
    summary="A concept of a controlled vocabulary",
    response_class=Response,
    responses=_DESCRIPTION_RESPONSES,
)
async def concept_document(
    scheme: Annotated[str, Path(description="The vocabulary's key, e.g. `role`.")],
    concept: Annotated[str, Path(description="The concept's key, e.g. `member`, optionally with a format suffix.")],
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
) -> Response:
    return await _kept(request, store, settings, partial(_vocabulary_node, (scheme, concept), request, store, settings))


def _vocabulary_node(path: tuple[str, ...], request: Request, store: ReadStore, settings: Settings) -> Response:
    """A scheme (`path` is its key) or a concept (its scheme's key and its own), described like a thing."""
    *scheme, name = path
    key, suffix = split_suffix(name, DOC_FORMATS)
    description = None
    if all(is_key(part) for part in (*scheme, key)):
        mint = store.manifest.minter
        description = _describe_vocabulary(store, str(mint.concept(scheme[0], key) if scheme else mint.scheme(key)))
    if description is None:
        message = (
            f"there is no concept {key!r} in the vocabulary {scheme[0]!r}"
            if scheme
            else f"there is no vocabulary {key!r}"
        )
        return _error(suffix, 404, message)
    return _described(request, store, settings, description, suffix)


def _describe_vocabulary(store: ReadStore, iri: str) -> Description | None:
    """The description of the scheme or concept `iri`, or None when the graph says nothing of it."""
    query = with_constants(_VOCABULARY_QUERY, {"node": iri})
    if query is None:
        return None
    description = Description.of(iri, store.construct(query))
    return description if description.triples and node_id(description.triples[0].subject) == iri else None


def _described(
    request: Request,
    store: ReadStore,
    settings: Settings,
    description: Description,
    suffix: Format | None,
) -> Response:
    """`description` in the negotiated format: the page at the path that serves its IRI (`/doc/...`, `/vocab/...`),
    each format at that path with its suffix."""
    base = store.manifest.minter.page(description.iri)
    fmt = choose(request, DOC_FORMATS, suffix)
    values = get_per_build(request)
    description, changed = _with_release(values.get(HISTORY, store), description)
    location = f"{base}.{fmt.suffix}"
    lang = pick_language(request.query_params.get("lang"), request.headers.get("accept-language"))
    context_url = _context_url(request, settings)
    namespace = store.manifest.namespace

    def body() -> bytes:
        if fmt == HTML:
            page = doc_page(description, values.get(ONTOLOGY, store), namespace, lang)
            kind, _ = store.manifest.minter.parse(description.iri) or ("", "")
            return render(
                "doc.html",
                page=page,
                changed=changed,
                panels=profile_panels(store, kind, description.iri, lang),
                **_page_context(lang, base, DOC_FORMATS),
            )
        return serialize(
            description.triples, fmt, prefixes=prefixes_for(namespace), root=description.iri, context_url=context_url
        )

    etag = build_tag(store.manifest, location, lang if fmt == HTML else "", context_url if fmt == JSON_LD else "")
    return represent(
        request,
        fmt,
        body,
        location=location,
        etag=etag,
        vary=VARY,
        modified=store.manifest.modified,
        alternates=[(f"{base}.{alt.suffix}", alt) for alt in DOC_FORMATS],
    )


async def _kept(request: Request, store: ReadStore, settings: Settings, respond: Callable[[], Response]) -> Response:
    """The response of `respond`, kept: a kept one is sent from the event loop, and only the queries of a new one go
    to the thread pool."""
    responses = rendered(request)
    cache_key = responses.key(store, request, _context_url(request, settings))
    kept = responses.respond(request, cache_key)
    if kept is not None:
        return kept
    response = await run_in_threadpool(respond)
    return responses.keep(request, cache_key, response)


@router.api_route(
    "/ontology",
    methods=["GET", "HEAD"],
    summary="The ontology: documentation or RDF",
    response_class=Response,
    responses=_ONTOLOGY_RESPONSES,
)
def ontology(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    return _ontology(request, store, settings, None)


@router.api_route(
    "/ontology.{suffix}",
    methods=["GET", "HEAD"],
    summary="The ontology in one format",
    response_class=Response,
    responses=_ONTOLOGY_RESPONSES,
)
def ontology_as(
    suffix: Annotated[str, Path(description="ttl, jsonld, rdf or html")],
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
) -> Response:
    return _ontology(request, store, settings, by_suffix(suffix, DOC_FORMATS))


@router.api_route(
    "/ontology/{version}",
    methods=["GET", "HEAD"],
    summary="The ontology at its version IRI",
    response_class=Response,
    responses={**_ONTOLOGY_RESPONSES, 404: {"description": "a version that is not served here"}},
)
def ontology_version(
    version: str, request: Request, store: StoreDep, values: PerBuildDep, settings: SettingsDep
) -> Response:
    """The ontology's `owl:versionIRI` resolves: the version served here answers as `/ontology` does."""
    ontology = values.get(ONTOLOGY, store)
    # The versions the ontology declares, each an IRI under the ontology's own (`{ontology}/0.2.0`, as /ontology
    # serves the ontology's IRI): the ontology's IRI is its own, whatever namespace the data's things are minted in.
    served = [
        str(iri.value).removeprefix(f"{head}/")
        for head in ontology.of_type(str(OWL.Ontology))
        for iri in ontology.objects(head, str(OWL.versionIRI))
        if str(iri.value).startswith(f"{head}/")
    ]
    if version not in served:
        known = ", ".join(served) or "none"
        raise ServiceError(404, f"ontology version {version!r} is not served here; this build serves {known}")
    return _ontology(request, store, settings, None)


@router.api_route(
    "/context.jsonld",
    methods=["GET", "HEAD"],
    summary="The JSON-LD context of every JSON-LD answer",
    response_class=Response,
)
def context_document(request: Request) -> Response:
    # Offered in JSON-LD alone, chosen like every representation: ?format= naming another is a 400, not ignored.
    fmt = choose(request, (JSON_LD,))
    raw, _ = load_context()
    etag = entity_tag(raw.decode())
    return represent(request, fmt, lambda: raw, location="/context.jsonld", etag=etag, alternates=())


def _ontology(request: Request, store: ReadStore, settings: Settings, suffix: Format | None) -> Response:
    fmt = choose(request, DOC_FORMATS, suffix)
    ontology = get_per_build(request).get(ONTOLOGY, store)
    lang = pick_language(request.query_params.get("lang"), request.headers.get("accept-language"))
    location = f"/ontology.{fmt.suffix}"
    context_url = _context_url(request, settings)

    def body() -> bytes:
        if fmt == HTML:
            page = ontology_page(ontology, lang)
            return render("ontology.html", ontology=page, **_page_context(lang, "/ontology", DOC_FORMATS))
        root = next(iter(ontology.of_type(str(OWL.Ontology))), "")
        # The terms are fragments of the ontology's IRI, but each is a node of its own, not a part of another.
        return serialize(
            ontology.triples,
            fmt,
            prefixes=prefixes_for(store.manifest.namespace),
            root=root,
            context_url=context_url,
            embed_fragments=False,
        )

    etag = build_tag(store.manifest, location, lang if fmt == HTML else "", context_url if fmt == JSON_LD else "")
    return represent(
        request,
        fmt,
        body,
        location=location,
        etag=etag,
        vary=VARY,
        modified=store.manifest.modified,
        alternates=[(f"/ontology.{alt.suffix}", alt) for alt in DOC_FORMATS],
    )


# --- helpers ------------------------------------------------------------------------------------------------------
def _lookup(request: Request, store: ReadStore, kind: str, key: str, suffix: Format | None) -> Description | Response:
    """The thing's description; or the 404 for an unknown thing, the 410 for a retired one."""
    description = None
    if is_key(kind) and is_key(key):
        caches = Describing(app_cache(request, "descriptions"), app_cache(request, "vocabulary_triples"))
        description = describe(store, str(store.manifest.minter.thing(kind, key)), caches)
    if description is None:
        classes = get_per_build(request).get(ONTOLOGY, store).of_type(str(OWL.Class))
        types = sorted({iri.rsplit("#", 1)[-1].lower() for iri in classes})
        if kind in types:
            message = f"there is no {kind} with the key {key!r}"
        else:
            message = f"{kind!r} is not a type of thing here; types are the ontology's classes in lower case: " + (
                ", ".join(types)
            )
        return _error(suffix, 404, message)
    if description.retired:
        # Where each successor is served: its path when it is one of ours, else the IRI itself.
        successors = [store.manifest.minter.id_path(iri) or iri for iri in description.replaced_by]
        message = f"the {kind} {key!r} has been retired" + (
            f"; it has been replaced by {', '.join(successors)}" if successors else ""
        )
        return _error(suffix, 410, message, successors)
    return description


def _error(suffix: Format | None, status: int, message: str, successors: list[str] | None = None) -> Response:
    """An error of a description: the page for a browser (or for a .html address), the error body for a data
    format's address."""
    links = {"Link": ", ".join(f'<{url}>; rel="successor-version"' for url in successors)} if successors else {}
    extra = {"replacedBy": successors} if successors else None
    page = None if suffix is None else suffix == HTML
    return error_response(status, message, {"Vary": VARY, **links}, extra=extra, page=page)


def _context_url(request: Request, settings: Settings) -> str:
    return f"{public_base(request, settings)}/context.jsonld"


def _page_context(lang: str, base: str, offered: tuple[Format, ...]) -> dict[str, object]:
    """What base.html needs on every page: the language, its words, the other language, the data formats."""
    other = next(code for code in LANGUAGES if code != lang)
    return {
        "lang": lang,
        "w": words(lang),
        # The page's own path, not the request's: every URL that serves these bytes (`/ontology/0.2.0`, `.html`)
        # sends the same page under the same ETag.
        "other_language_href": f"{base}?lang={other}",
        "formats": [
            {"href": f"{base}.{fmt.suffix}", "media_type": fmt.media_type, "title": fmt.title}
            for fmt in offered
            if fmt != HTML
        ],
    }
