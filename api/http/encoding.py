"""Content coding: answers compressed with gzip when the client asks, with validators that stay true under it."""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Compression", "accepts_gzip"]

# Dumps are files: served with byte ranges and checksums of their exact bytes, some already compressed (.gz).
_AS_STORED = ("/dumps/",)


def accepts_gzip(header: str | None) -> bool:
    """Whether Accept-Encoding allows gzip (RFC 9110 §12.5.3): codings are case-insensitive, `x-gzip` is gzip,
    `*` stands for any coding not named, and a q of 0 refuses; a missing header asks for no coding here."""
    if not header:
        return False
    weights: dict[str, float] = {}
    for item in header.split(","):
        coding, *params = (part.strip() for part in item.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0  # a weight that cannot be read grants nothing
        coding = coding.lower()
        if coding:
            weights["gzip" if coding == "x-gzip" else coding] = q
    return weights.get("gzip", weights.get("*", 0.0)) > 0


class Compression:
    """gzip for GET and HEAD answers of at least `minimum_size` bytes when Accept-Encoding allows it (SPARQL answers
    stream through in compressed chunks); the dumps go out as they are. A HEAD is made with its body, as a GET is
    (api.http.conditional), so its head says what a GET's would: Content-Encoding and the compressed length; the HTTP
    server sends no body to a HEAD.

    Where gzip may be chosen, the ETag is weak (`W/"…"`), as RFC 9110 §8.8.1 asks of a validator that does not name
    the exact bytes sent; it is weak on the 200, the 304 and the HEAD alike, so a cache sees one validator.
    If-None-Match is compared weakly, so the client's next request still gets its 304.
    """

    def __init__(self, app: ASGIApp, minimum_size: int = 1024) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_AS_STORED):
            await self.app(scope, receive, send)
            return
        if not accepts_gzip(Headers(scope=scope).get("accept-encoding")):
            await self.app(scope, receive, send)
            return
        # The gzip middleware's own test is a substring match ("gzip" in the header); it is shown only the verdict.
        # Changed in place: the router writes the matched route into this scope, which the metrics read.
        headers = [(name, value) for name, value in scope["headers"] if name != b"accept-encoding"]
        scope["headers"] = [*headers, (b"accept-encoding", b"gzip")]

        async def send_weak(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                etag = headers.get("etag")
                if etag and not etag.startswith("W/"):
                    headers["etag"] = f"W/{etag}"
                if "accept-encoding" not in headers.get("vary", "").lower():
                    headers.add_vary_header("Accept-Encoding")
            await send(message)

        await (self.gzip if scope["method"] in ("GET", "HEAD") else self.app)(scope, receive, send_weak)
