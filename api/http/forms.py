"""Reading `a=1&b=2` (a URL's query string, a form body) and text bodies strictly: bytes that are not UTF-8 are
refused, not replaced.

Parameters are decoded from the raw bytes, not through a framework's lenient parser: a replacement character would
be read as if the client had sent it (a query text, a name to reconcile). Every route reads its query string here:
its router's `route_class` is `FormRoute`, whose requests hand the framework (and the route) the fields read by
`read_fields`, so that the parameters a route declares keep their OpenAPI description.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.datastructures import QueryParams

from graph.errors import ServiceError

__all__ = ["FormError", "FormRoute", "read_fields", "read_text"]


class FormError(ServiceError):
    """Fields or text that cannot be read (400); the message says where and why, for the client."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(None, message)


def read_fields(raw: bytes, where: str, *, max_fields: int | None = None) -> dict[str, list[str]]:
    """`a=1&b=2&a=3` as {"a": ["1", "3"], "b": ["2"]}, `+` and percent escapes decoded, strictly UTF-8; a field
    without `=` has the empty value. `where` names the text in messages ("query string", "form body")."""
    fields = [field for field in raw.split(b"&") if field]
    if max_fields is not None and len(fields) > max_fields:
        raise FormError(f"the {where} cannot be read: it has {len(fields)} fields, more than the {max_fields} read")
    params: dict[str, list[str]] = {}
    for field in fields:
        name, _, value = field.partition(b"=")
        params.setdefault(_decode(name, where), []).append(_decode(value, where))
    return params


def read_text(raw: bytes, where: str) -> str:
    """`raw` as UTF-8 text (a JSON body, a query sent as the body); FormError names the first byte that is not."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FormError(
            f"the {where} cannot be read: it is not UTF-8 (byte {error.start}); requests must be UTF-8-encoded"
        ) from None


def _decode(raw: bytes, where: str) -> str:
    return read_text(unquote_to_bytes(raw.replace(b"+", b" ")), where)


class FormRequest(Request):
    """A request whose query parameters are those `read_fields` reads: the framework's parser would turn `%FF` into
    U+FFFD and read raw bytes as Latin-1."""

    _fields: QueryParams | None = None

    @property
    def query_params(self) -> QueryParams:
        if self._fields is None:
            fields = read_fields(self.scope["query_string"], "query string")
            self._fields = QueryParams([(name, value) for name, values in fields.items() for value in values])
        return self._fields


class FormRoute(APIRoute):
    """The route class of every router: its endpoint, and the framework's reading of the parameters it declares,
    get a `FormRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(FormRequest(request.scope, request.receive))

        return strict
