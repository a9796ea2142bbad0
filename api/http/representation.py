"""Choosing the format a resource is sent in (URL suffix, ?format=, Accept), and writing the response."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence

import pyoxigraph as ox
from fastapi import Request, Response

from api.http.conditional import answer
from api.http.context import compact
from api.http.negotiation import NotAcceptableError, negotiate
from graph.errors import ServiceError
from graph.formats import FORMATS, GRAPH, HTML, JSON_LD, N_TRIPLES, RDF_XML, TURTLE, Format, find, media_types
from graph.prefixes import prefixes
from graph.published import Manifest

__all__ = [
    "HTML",
    "JSON_LD",
    "N_TRIPLES",
    "RDF_FORMATS",
    "RDF_XML",
    "TURTLE",
    "Format",
    "accepted",
    "build_tag",
    "by_suffix",
    "choose",
    "entity_tag",
    "prefixes_for",
    "release_file_tag",
    "represent",
    "request_tag",
    "requested",
    "serialize",
    "split_suffix",
]


RDF_FORMATS = GRAPH


def by_suffix(suffix: str, offered: Sequence[Format]) -> Format:
    """The offered format with this URL suffix; any other suffix names nothing here (404)."""
    for fmt in offered:
        if fmt.suffix == suffix:
            return fmt
    known = ", ".join(f".{fmt.suffix}" for fmt in offered)
    raise ServiceError(404, f"no representation with the suffix .{suffix}; this resource is offered as {known}")


def split_suffix(name: str, offered: Sequence[Format]) -> tuple[str, Format | None]:
    """`dortmund.ttl` → (`dortmund`, Turtle); a name without a suffix → (name, None); an unknown suffix is a 404."""
    stem, dot, suffix = name.rpartition(".")
    return (stem, by_suffix(suffix, offered)) if dot else (name, None)


def choose(request: Request, offered: Sequence[Format], suffix: Format | None = None) -> Format:
    """The format to send: the URL's suffix, else `?format=` (any name the format table knows), else Accept.

    Raises NotAcceptableError (answered 406 with the offer) when Accept rules out everything offered.
    """
    if suffix is not None:  # a `?format=` beside it may name the same format, no other
        return requested(request, (suffix,)) or suffix
    return requested(request, offered) or accepted(request.headers.get("accept"), offered)


def requested(request: Request, offered: Sequence[Format]) -> Format | None:
    """The offered format `?format=` names (any name the format table knows for it); None without `?format=`. Any
    other name is a 400 naming what is offered: a format is never silently ignored. A file of one fixed format (a
    dump, the Atom feed) reads `?format=` through this alone, with its own format as the offer."""
    given = set(request.query_params.getlist("format"))
    if not given:
        return None
    if len(given) > 1:
        raise ServiceError(400, "?format= is given more than once, with different names; give one")
    text = given.pop()
    for fmt in offered:
        if fmt.answers_to(text):
            return fmt
    named = find(text, FORMATS)
    refused = f"{named.title} is not offered here" if named else f"unknown format {text[:100]!r}"
    known = ", ".join(f"{fmt.name} ({fmt.media_type})" for fmt in offered)
    if not known:
        raise ServiceError(400, f"{refused}; this resource is sent in one form only, without ?format=")
    raise ServiceError(400, f"{refused}; use one of {known}")


def accepted(accept: str | None, offered: Sequence[Format]) -> Format:
    """The offered format an Accept header prefers, by each format's media type and the table's aliases of it
    (`text/n3`, `application/json`); NotAcceptableError (406), listing each format's own type, when none is."""
    table = media_types(offered)
    try:
        chosen = table[negotiate(accept, list(table))]
    except NotAcceptableError:
        raise NotAcceptableError([fmt.media_type for fmt in offered]) from None
    return next(fmt for fmt in offered if fmt.name == chosen)


def prefixes_for(namespace: str) -> dict[str, str]:
    """The prefixes used in Turtle and RDF/XML: the vocabularies plus this graph's own `id:` and `vocab:`."""
    return prefixes(namespace)


def serialize(
    triples: Sequence[ox.Triple],
    fmt: Format,
    *,
    prefixes: dict[str, str],
    root: str,
    context_url: str,
    embed_fragments: bool = True,
) -> bytes:
    """RDF in `fmt`. JSON-LD is compacted with the published context (referenced by `context_url`), `root`
    first and, with `embed_fragments`, the root's fragment nodes written inside the node that refers to them."""
    if fmt == JSON_LD:
        document = compact(triples, root, context_url, embed_fragments=embed_fragments)
        return json.dumps(document, ensure_ascii=False, indent=2).encode()
    if not isinstance(fmt.engine, ox.RdfFormat):
        raise ValueError(f"{fmt.title} is not an RDF format")
    payload = ox.serialize(triples, format=fmt.engine, prefixes=None if fmt == N_TRIPLES else prefixes)
    assert payload is not None  # Oxigraph returns None only when it is given a file to write to
    return payload


def entity_tag(*parts: str) -> str:
    """A strong ETag of what identifies a representation (the build id, its URL, its language)."""
    return '"' + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24] + '"'


def build_tag(manifest: Manifest, *parts: str) -> str:
    """The ETag of a representation of the build being served: every one made from it is tagged here.

    It names the release as well as the build: the same build published again as a newer release (data restored)
    has other dates, history and catalogue in its bodies, which a harvester must not be told are unchanged.
    """
    return entity_tag(manifest.key, *parts)


def release_file_tag(build_id: str, version: str, name: str, content: str) -> str:
    """The ETag of a file of one release (a dump, its checksums, a patch): its bytes never change, whichever build is
    served, and a dump's current URL and its versioned one give the same tag. `content` tells its bytes apart from
    any other file's: a dump's SHA-256, a SHA256SUMS's own few lines (the current one lists the current names, the
    versioned one the versioned names: both are the release's SHA256SUMS, in different bytes), a patch's size."""
    return entity_tag(build_id, version, name, content)


def request_tag(manifest: Manifest, request: Request, *parts: str) -> str:
    """The ETag of an answer made from the build being served for exactly this URL, address and query included
    (answers name the address the client used in their links), and `parts` (whatever else the answer shows)."""
    return build_tag(manifest, str(request.url), *parts)


def represent(
    request: Request,
    fmt: Format,
    render: Callable[[], bytes],
    *,
    location: str,
    etag: str,
    alternates: Iterable[tuple[str, Format]],
    vary: str | None = "Accept",
    modified: str | None = None,
) -> Response:
    """The 200 response for one representation, with the headers linked-data clients rely on.

    `location` is the URL of exactly this representation (Content-Location); `alternates` are (URL, format)
    pairs of every representation offered; `modified` (ISO 8601) is sent as Last-Modified. A matching
    If-None-Match (or, without one, If-Modified-Since) gives 304 without rendering anything (api.http.conditional).
    """
    link = ", ".join(f'<{url}>; rel="alternate"; type="{alt.media_type}"' for url, alt in alternates)
    headers = {
        "Content-Location": location,
        **({"Vary": vary} if vary else {}),
        **({"Link": link} if link else {}),
    }
    return answer(request, render, media_type=fmt.content_type, etag=etag, modified=modified, headers=headers)
