"""Limits applied to every request before any route runs: oversized headers are refused with 431; on a remote
store, every query a request sends shares one deadline."""

from __future__ import annotations

import json
import time

from starlette.types import ASGIApp, Receive, Scope, Send

from graph.remote import request_deadline

__all__ = ["HeaderLimit", "RequestDeadline"]


class HeaderLimit:
    """Refuse requests whose headers add up to more than `max_bytes` (the HTTP parser itself sets no bound)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = sum(len(name) + len(value) + 4 for name, value in scope["headers"])
            if size > self.max_bytes:
                message = (f"the request's headers take {size} bytes, more than the {self.max_bytes} allowed "
                           "(setting max_header_bytes)")
                body = json.dumps({"error": {"status": 431, "message": message}}).encode()
                await send({"type": "http.response.start", "status": 431,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


class RequestDeadline:
    """Give each request `seconds` for all the queries it sends to a remote server: a page that needs several
    queries is answered, or refused with 503, within the time limit of one."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = request_deadline.set(time.monotonic() + self.seconds)
        try:
            await self.app(scope, receive, send)
        finally:
            request_deadline.reset(token)
