"""The request side of the SPARQL 1.1 Protocol: the query, its dataset and the result format a request asks for.

Parameters are read by `api.http.forms`, so that text that is not UTF-8 is refused with a 400 rather than silently
turned into replacement characters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import Scope

from api.http.forms import FormError, read_fields, read_text
from api.http.limits import read_body, url_too_long
from api.http.negotiation import NotAcceptableError, negotiate
from api.http.server import max_url_bytes
from graph.formats import GRAPH, GRAPH_FORMS, RESULT_FORMS, RESULTS, for_query, media_types
from graph.sparql_guard import QueryRefusedError, check_size

__all__ = [
    "BODY_METHODS",
    "GRAPH_TYPES",
    "MEDIA_TYPES",
    "RESULT_TYPES",
    "SparqlRequest",
    "choose_formats",
    "read_query_string",
    "read_received",
    "read_request",
]

FORM, DIRECT, UPDATE = "application/x-www-form-urlencoded", "application/sparql-query", "application/sparql-update"
RESULT_TYPES = {fmt.media_type: fmt.name for fmt in RESULTS}
GRAPH_TYPES = {fmt.media_type: fmt.name for fmt in GRAPH}
MEDIA_TYPES = {fmt: media for media, fmt in (RESULT_TYPES | GRAPH_TYPES).items()}
# What Accept may ask for, per kind of result: the types above, then generic ones such as application/json.
RESULT_ACCEPT = media_types(RESULTS)
GRAPH_ACCEPT = media_types(GRAPH)
BODY_METHODS = ("POST", "QUERY")


@dataclass(frozen=True)
class SparqlRequest:
    query: str | None  # None: no query at all (a request for the service description or the editor)
    default_graphs: tuple[str, ...] | None  # default-graph-uri, None when not given
    named_graphs: tuple[str, ...] | None  # named-graph-uri, None when not given
    formats: tuple[str, ...]  # ?format= values


def parse_params(raw: bytes, where: str) -> dict[str, list[str]]:
    """The fields of a query string or form body; QueryRefusedError (400) for bytes that are not UTF-8."""
    try:
        return read_fields(raw, where)
    except FormError as error:
        raise QueryRefusedError(400, str(error)) from None


def _media(method: str, content_types: list[str], url: dict[str, list[str]]) -> str:
    """The media type of a POST's (or QUERY's) body, which must be a form or a query; QueryRefusedError for an
    update, a second Content-Type, or a charset that is not UTF-8 (one that is not, even after one that is, says
    the body may be read otherwise)."""
    if len(content_types) > 1:
        raise QueryRefusedError(400, "the request has several Content-Type headers; send one")
    if not content_types or not content_types[0]:
        raise QueryRefusedError(
            415,
            f"a {method} to /sparql needs a Content-Type: {FORM} (with query=...) or {DIRECT} (the query as the body)",
        )
    media, *params = (part.strip() for part in content_types[0].split(";"))
    media = media.lower()
    if media == UPDATE or (media == FORM and "update" in url):
        raise _read_only()
    for name, _, value in (param.partition("=") for param in params):
        charset = value.strip().strip('"')
        if name.strip().lower() == "charset" and charset.lower().replace("-", "") != "utf8":
            raise QueryRefusedError(400, f"the request declares charset={charset}; SPARQL requests must be UTF-8")
    if media not in (FORM, DIRECT):
        raise QueryRefusedError(415, f"a {method} to /sparql must be {FORM} or {DIRECT}, not {media}")
    return media


def _body_limit(media: str, max_query_bytes: int) -> int:
    """The largest body read: a query of the largest size, or a form holding one percent-encoded, and more."""
    return 3 * max_query_bytes + 8192 if media == FORM else max_query_bytes


def _too_large(limit: int) -> QueryRefusedError:
    return QueryRefusedError(413, f"the request body is over {limit} bytes; this endpoint accepts at most {limit}")


def _posted(url: dict[str, list[str]], media: str, raw: bytes, max_query_bytes: int) -> SparqlRequest:
    """What a POST (or QUERY) asks for, from its URL's fields and its body of type `media`."""
    if media == FORM:
        body = parse_params(raw, "request body")
        return _asked(url, body, url.get("query", []) + body.get("query", []), max_query_bytes, 413)
    return _asked(url, {}, [*url.get("query", []), _decode_direct(raw)], max_query_bytes, 413)


async def read_request(request: Request, max_query_bytes: int) -> SparqlRequest:
    """What a GET, POST or QUERY to /sparql asks for; QueryRefusedError for anything the protocol does not allow.

    QUERY (the HTTP method for safe requests with a body, as Oxigraph and Fuseki accept it) reads its body as POST
    does: a form or the query itself."""
    if request.method not in BODY_METHODS:
        return read_query_string(request.scope["query_string"], max_query_bytes)
    url = _url_fields(request.scope["query_string"], max_query_bytes)
    media = _media(request.method, request.headers.getlist("content-type"), url)
    limit = _body_limit(media, max_query_bytes)
    raw = await read_body(request, limit)
    if raw is None:
        raise _too_large(limit)
    return _posted(url, media, raw, max_query_bytes)


def read_received(scope: Scope, body: bytes, max_query_bytes: int) -> SparqlRequest:
    """`read_request` of a request whose body has been received whole."""
    if scope["method"] not in BODY_METHODS:
        return read_query_string(scope["query_string"], max_query_bytes)
    url = _url_fields(scope["query_string"], max_query_bytes)
    media = _media(scope["method"], [v.decode("latin-1") for n, v in scope["headers"] if n == b"content-type"], url)
    limit = _body_limit(media, max_query_bytes)
    if len(body) > limit:
        raise _too_large(limit)
    return _posted(url, media, body, max_query_bytes)


def read_query_string(raw_url: bytes, max_query_bytes: int) -> SparqlRequest:
    """What a GET (or HEAD) to /sparql asks for, all of it in the URL's query string."""
    url = _url_fields(raw_url, max_query_bytes)
    return _asked(url, {}, url.get("query", []), max_query_bytes, 414)


def _url_fields(raw_url: bytes, max_query_bytes: int) -> dict[str, list[str]]:
    if len(raw_url) > max_url_bytes(max_query_bytes):  # under another HTTP server than ours (api.http.limits)
        raise QueryRefusedError(414, url_too_long(len(raw_url), max_url_bytes(max_query_bytes)))
    return parse_params(raw_url, "query string")


def _asked(
    url: dict[str, list[str]], body: dict[str, list[str]], queries: list[str], max_query_bytes: int, too_long: int
) -> SparqlRequest:
    """The request's query, dataset and formats, from its URL's fields and its form body's; `too_long`: the status
    of a query over `max_query_bytes` (414 in a URL, 413 in a body)."""
    if "update" in url or "update" in body:
        raise _read_only()
    if len(queries) > 1:
        raise QueryRefusedError(400, f"the request holds {len(queries)} queries; send exactly one query parameter")
    # A byte-order mark that some editors and tools write first is not part of the query.
    query = queries[0].removeprefix("\ufeff") if queries else None
    if query is not None:
        check_size(len(query.encode()), max_query_bytes, too_long)
    default = url.get("default-graph-uri", []) + body.get("default-graph-uri", [])
    named = url.get("named-graph-uri", []) + body.get("named-graph-uri", [])
    return SparqlRequest(
        query,
        tuple(default) if default else None,
        tuple(named) if named else None,
        tuple(name for name in url.get("format", []) + body.get("format", []) if name),
    )


def _decode_direct(raw: bytes) -> str:
    try:
        return read_text(raw, "query")
    except FormError as error:
        raise QueryRefusedError(400, str(error)) from None


def _read_only() -> QueryRefusedError:
    return QueryRefusedError(
        400,
        "this endpoint is read-only: SPARQL Update is not accepted, only queries (SELECT, ASK, CONSTRUCT, DESCRIBE)",
    )


def choose_formats(form: str | None, accept: str | None, names: Sequence[str]) -> tuple[str | None, str | None]:
    """(format for a SELECT/ASK result, format for a CONSTRUCT/DESCRIBE result); None where that kind is not
    wanted. ?format= overrides Accept; raises NotAcceptableError (406) or QueryRefusedError (400)."""
    wants_results, wants_graph = form not in GRAPH_FORMS, form not in RESULT_FORMS
    if names:
        # What ?format= may say, per form; the names other clients and servers use are understood too
        # (SPARQLWrapper, for one, sends format=turtle, format=json-ld or the media type itself).
        results, graph = (fmt.name if fmt else None for fmt in for_query(names[0], form))
        if results is None and graph is None:
            kind = f"a {form} query" if form else "a query"
            offered = (RESULT_TYPES if wants_results else {}) | (GRAPH_TYPES if wants_graph else {})
            raise QueryRefusedError(
                400, f"format={names[0]} is not a format of {kind}'s result; use one of {', '.join(offered.values())}"
            )
        return results, graph
    results = _negotiated(accept, RESULT_ACCEPT) if wants_results else None
    graph = _negotiated(accept, GRAPH_ACCEPT) if wants_graph else None
    if results is None and graph is None:
        raise NotAcceptableError([*(RESULT_TYPES if wants_results else ()), *(GRAPH_TYPES if wants_graph else ())])
    return results, graph


def _negotiated(accept: str | None, types: dict[str, str]) -> str | None:
    try:
        return types[negotiate(accept, list(types))]
    except NotAcceptableError:
        return None
