"""Conditional requests (RFC 9110 §13): the one place a GET route's answer is made — 304, HEAD or 200 — from its
validators.

Every GET route answers through `conditional` but three: `/health` and `/metrics` say what is true at this moment
(a validator would let a monitor keep a stale answer), and a SPARQL query's answer (`/sparql?query=`), which is
not a resource of its own to revalidate; `/sparql` without a query (the service description, the editor) is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from fastapi import Request, Response

from graph.errors import ServiceError

__all__ = ["answer", "conditional", "etag_matches", "http_date", "unchanged", "validators"]


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names `etag` (weak comparison, as RFC 9110 asks for GET and HEAD)."""
    if not if_none_match:
        return False
    candidates = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in candidates or etag.removeprefix("W/") in candidates


def _strong_match(if_match: str, etag: str) -> bool:
    candidates = [tag.strip() for tag in if_match.split(",")]
    return "*" in candidates or (not etag.startswith("W/") and etag in candidates)


def http_date(iso: str) -> str:
    """An ISO 8601 date-time as an HTTP date (Last-Modified)."""
    return format_datetime(datetime.fromisoformat(iso).astimezone(UTC), usegmt=True)


def validators(etag: str, modified: str | None = None) -> dict[str, str]:
    """The headers a client revalidates with: ETag, and Last-Modified from an ISO 8601 date-time where known."""
    return {"ETag": etag, **({"Last-Modified": http_date(modified)} if modified else {})}


def unchanged(request: Request, etag: str, last_modified: str | None) -> bool:
    """RFC 9110 §13.1: If-None-Match decides when present (weak comparison); else If-Modified-Since, compared with
    the response's Last-Modified (an HTTP date; None when it has none).

    If-Match is evaluated first (§13.2.2): when it names no current representation (strong comparison, so a weak
    tag never matches), the request fails with 412 rather than answer with something the client did not ask for.
    """
    if_match = request.headers.get("if-match")
    if if_match is not None and not _strong_match(if_match, etag):
        raise ServiceError(412, "If-Match names none of this resource's current ETags; fetch it again without it")
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        return etag_matches(if_none_match, etag)
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since is None or last_modified is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False  # an unreadable date is ignored, as RFC 9110 asks
    return since.tzinfo is not None and parsedate_to_datetime(last_modified) <= since


def conditional(request: Request, headers: Mapping[str, str], make: Callable[[], Response]) -> Response:
    """The answer to a GET or HEAD whose representation `headers` describe (its ETag, and Last-Modified, Vary,
    Content-Location … as the 200 carries them): 304 with those headers when the client's copy is current, before
    anything is made; else `make()`, the 200, with them.

    HEAD is answered as GET is, body and all, and the HTTP server sends only the head (uvicorn writes no body to a
    HEAD): so a HEAD's headers are exactly a GET's — Content-Length, and where the compression (api.http.encoding)
    applies, Content-Encoding and the compressed length, which only the body decides. Other methods (a POST to a
    route that also answers GET) get `make()` as it is: their answers are not representations to revalidate.
    """
    if request.method not in ("GET", "HEAD"):
        return make()
    named = {name.lower(): value for name, value in headers.items()}
    if unchanged(request, named["etag"], named.get("last-modified")):
        return Response(status_code=304, headers=dict(headers))
    response = make()
    response.headers.update(headers)
    return response


def answer(
    request: Request,
    body: bytes | Callable[[], bytes],
    *,
    media_type: str,
    etag: str,
    modified: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """`body` (or what makes it, called only when a body is owed) with its validators: `etag`, Last-Modified from
    `modified` (ISO 8601) where known, and `headers`; answered as `conditional` says."""
    return conditional(
        request,
        {**validators(etag, modified), **(headers or {})},
        lambda: Response(body() if callable(body) else body, media_type=media_type),
    )
