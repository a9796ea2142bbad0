"""The request methods the service knows: any other is answered 501 Not Implemented, in the one error shape."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from api.http.errors import error_response
from api.http.limits import _KNOWN_METHODS as ANSWERED

__all__ = ["KNOWN_METHODS", "UnknownMethods"]

# RFC 9110's methods that a resource here may answer or refuse (405, naming those it allows), PATCH, and QUERY
# (/sparql). TRACE, CONNECT and the WebDAV methods (PROPFIND, MKCOL, …) are implemented by no resource.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "QUERY"})


class UnknownMethods:
    """501 for a method the service does not know (RFC 9110 §9.1), before any route: inside the app, so that it is
    counted in /metrics like any other answer. (A method the HTTP parser itself does not know never reaches the
    app: api.http.limits answers it 501 with the same message.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in KNOWN_METHODS:
            message = (
                f"the method {scope['method'][:32]} is not implemented here; this server answers {', '.join(ANSWERED)}"
            )
            await error_response(501, message)(scope, receive, send)
            return
        await self.app(scope, receive, send)
