"""Sending a query's answer: in chunks, each one once the client has taken the previous one, for either backend.

An answer handed to the HTTP server whole is copied into the connection's buffer whole while the client reads
it, so a client reading slowly, or not at all, keeps two copies of it in the server's memory. Sent chunk by
chunk, the server waits for the client between chunks (and gives up after `send_timeout`, see api.http.limits), and
holds the answer once. An answer of one chunk (most are: a lookup's is a few kB) goes as one message after the
head, which the HTTP server writes to the socket with the head in one write (`api.http.writes`).
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

__all__ = ["CHUNK", "StreamedAnswer"]

CHUNK = 64 * 1024


class StreamedAnswer(Response):
    """`payload` sent in CHUNK-sized pieces, with its Content-Length."""

    def __init__(self, payload: bytes, media_type: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(b"", media_type=media_type, headers=headers)
        self.payload = payload
        self.headers["content-length"] = str(len(payload))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A HEAD is sent its body too, which the HTTP server does not write: so the compression (api.http.encoding)
        # gives it the head a GET gets.
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        if len(self.payload) <= CHUNK:
            await send({"type": "http.response.body", "body": self.payload})
            return
        view = memoryview(self.payload)
        for start in range(0, len(view), CHUNK):
            end = start + CHUNK
            await send({"type": "http.response.body", "body": bytes(view[start:end]), "more_body": end < len(view)})
