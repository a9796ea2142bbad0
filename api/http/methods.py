"""The request methods the service knows: any other is answered 501 Not Implemented, in the one error shape."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from api.http.errors import error_response

__all__ = ["ANSWERED_METHODS", "KNOWN_METHODS", "UnknownMethods", "not_implemented"]

# RFC 9110's methods that a resource here may answer or refuse (405, naming those it allows), PATCH, and QUERY
# (/sparql). TRACE, CONNECT and the WebDAV methods (PROPFIND, MKCOL, …) are implemented by no resource.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "QUERY"})
ANSWERED_METHODS = ("GET", "HEAD", "POST", "QUERY")  # what the service's resources answer (OPTIONS: CORS)


def not_implemented(method: str) -> str:
    """The message of a 501: the method named, and those the service answers."""
    return f"the method {method[:32]} is not implemented here; this server answers {', '.join(ANSWERED_METHODS)}"


class UnknownMethods:
    """501 for a method the service does not know (RFC 9110 §9.1), before any route: inside the app, so that it is
    counted in /metrics like any other answer. (A method the HTTP parser itself does not know never reaches the
    app: api.http.limits answers it 501 with the same message.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in KNOWN_METHODS:
            await error_response(501, not_implemented(scope["method"]))(scope, receive, send)
            return
        await self.app(scope, receive, send)
