"""Reading `a=1&b=2` (a URL's query string, a form body) strictly: bytes that are not UTF-8 are refused, not replaced.

Parameters are decoded from the raw bytes, not through a framework's lenient parser: a replacement character would
be read as if the client had sent it (a query text, a name to reconcile).
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

__all__ = ["FormError", "read_fields"]


class FormError(ValueError):
    """Fields that cannot be read; the message says where and why, for the client."""


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


def _decode(raw: bytes, where: str) -> str:
    try:
        return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError as error:
        raise FormError(f"the {where} cannot be read: it is not UTF-8 (byte {error.start})") from None
