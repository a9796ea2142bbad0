"""The request side of the SPARQL 1.1 Protocol: the query, its dataset and the result format a request asks for.

Parameters are read by `api.http.forms`, so that text that is not UTF-8 is refused with a 400 rather than silently
turned into replacement characters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from starlette.requests import Request

from api.http.forms import FormError, read_fields, read_text
from api.http.limits import max_url_bytes, read_body, url_too_long
from api.http.negotiation import NotAcceptableError, negotiate
from graph.formats import GRAPH, RESULTS, media_types, names
from graph.sparql_guard import QueryRefusedError, check_size

__all__ = [
    "BODY_METHODS",
    "GRAPH_TYPES",
    "MEDIA_TYPES",
    "RESULT_TYPES",
    "SparqlRequest",
    "choose_formats",
    "read_request",
]

FORM, DIRECT, UPDATE = "application/x-www-form-urlencoded", "application/sparql-query", "application/sparql-update"
RESULT_TYPES = {fmt.media_type: fmt.name for fmt in RESULTS}
GRAPH_TYPES = {fmt.media_type: fmt.name for fmt in GRAPH}
MEDIA_TYPES = {fmt: media for media, fmt in (RESULT_TYPES | GRAPH_TYPES).items()}
# What ?format= may say, per kind of result; the names other clients and servers use are understood too
# (SPARQLWrapper, for one, sends format=turtle, format=json-ld or the media type itself).
RESULT_NAMES = names(RESULTS)
GRAPH_NAMES = names(GRAPH)
# What Accept may ask for, per kind of result: the types above, then generic ones such as application/json.
RESULT_ACCEPT = media_types(RESULTS)
GRAPH_ACCEPT = media_types(GRAPH)
RESULT_FORMS, GRAPH_FORMS = ("SELECT", "ASK"), ("CONSTRUCT", "DESCRIBE")
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


def _content_type(request: Request) -> tuple[str, list[str]]:
    """The media type and every charset the Content-Type declares (each must be UTF-8: one that is not, even
    after one that is, says the body may be read otherwise)."""
    headers = request.headers.getlist("content-type")
    if len(headers) > 1:
        raise QueryRefusedError(400, "the request has several Content-Type headers; send one")
    if not headers or not headers[0]:
        raise QueryRefusedError(
            415,
            f"a {request.method} to /sparql needs a Content-Type: {FORM} (with query=...) or {DIRECT} "
            "(the query as the body)",
        )
    media, *params = (part.strip() for part in headers[0].split(";"))
    charsets = [
        value.strip().strip('"')
        for name, _, value in (p.partition("=") for p in params)
        if name.strip().lower() == "charset"
    ]
    return media.lower(), charsets


async def _body(request: Request, limit: int) -> bytes:
    body = await read_body(request, limit)
    if body is None:
        raise QueryRefusedError(413, f"the request body is over {limit} bytes; this endpoint accepts at most {limit}")
    return body


async def read_request(request: Request, max_query_bytes: int) -> SparqlRequest:
    """What a GET, POST or QUERY to /sparql asks for; QueryRefusedError for anything the protocol does not allow.

    QUERY (the HTTP method for safe requests with a body, as Oxigraph and Fuseki accept it) reads its body as POST
    does: a form or the query itself."""
    raw_url = request.scope["query_string"]
    if len(raw_url) > max_url_bytes(max_query_bytes):  # under another HTTP server than ours (api.http.limits)
        raise QueryRefusedError(414, url_too_long(len(raw_url), max_url_bytes(max_query_bytes)))
    url = parse_params(raw_url, "query string")
    body: dict[str, list[str]] = {}
    queries = url.get("query", [])
    if request.method in BODY_METHODS:
        media, charsets = _content_type(request)
        if media == UPDATE or (media == FORM and "update" in url):
            raise _read_only()
        for charset in charsets:
            if charset.lower().replace("-", "") != "utf8":
                raise QueryRefusedError(400, f"the request declares charset={charset}; SPARQL requests must be UTF-8")
        if media == FORM:
            body = parse_params(await _body(request, 3 * max_query_bytes + 8192), "request body")
            queries = queries + body.get("query", [])
        elif media == DIRECT:
            raw = await _body(request, max_query_bytes)
            queries = [*queries, _decode_direct(raw)]
        else:
            raise QueryRefusedError(415, f"a {request.method} to /sparql must be {FORM} or {DIRECT}, not {media}")
    if "update" in url or "update" in body:
        raise _read_only()
    if len(queries) > 1:
        raise QueryRefusedError(400, f"the request holds {len(queries)} queries; send exactly one query parameter")
    # A byte-order mark that some editors and tools write first is not part of the query.
    query = queries[0].removeprefix("\ufeff") if queries else None
    if query is not None:
        check_size(len(query.encode()), max_query_bytes, 413 if request.method in BODY_METHODS else 414)
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


@lru_cache(maxsize=256)
def choose_formats(form: str | None, accept: str | None, names: Sequence[str]) -> tuple[str | None, str | None]:
    """(format for a SELECT/ASK result, format for a CONSTRUCT/DESCRIBE result); None where that kind is not
    wanted. ?format= overrides Accept; raises NotAcceptableError (406) or QueryRefusedError (400)."""
    wants_results, wants_graph = form not in GRAPH_FORMS, form not in RESULT_FORMS
    if names:
        name = names[0].strip().lower()
        results = RESULT_NAMES.get(name) if wants_results else None
        graph = GRAPH_NAMES.get(name) if wants_graph else None
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
