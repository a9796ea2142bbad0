"""Files sent as they are stored (dumps, patches), whose Range errors answer in the service's one error shape."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import cache
from mimetypes import guess_type
from pathlib import Path

from fastapi import Request, Response
from starlette.datastructures import Headers
from starlette.responses import FileResponse, MalformedRangeHeader, RangeNotSatisfiable
from starlette.types import Receive, Scope, Send

from api.http.conditional import conditional
from api.http.errors import error_response

__all__ = ["FileAnswer", "digest", "file_answer", "own_file"]


class FileAnswer(FileResponse):
    """A FileResponse whose refusals of a Range header are problem documents, not Starlette's plain text, and which
    ignores a Range of a unit other than bytes, as RFC 9110 asks, rather than refuse it."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        wanted, if_range = headers.get("range"), headers.get("if-range")
        unit, equals, _ = (wanted or "").partition("=")
        if equals and unit.strip().lower() != "bytes":
            # A range unit the server does not know is ignored (RFC 9110 §14.2): the whole file, 200.
            scope = {**scope, "headers": [(name, value) for name, value in scope["headers"] if name != b"range"]}
            wanted = None
        # The same conditions as FileResponse's for reading the header at all; it is read again there when valid.
        if (
            wanted is not None
            and self.status_code == 200
            and scope["method"].upper() in ("GET", "HEAD")
            and (if_range is None or self._should_use_range(if_range))
        ):
            size = (self.stat_result or Path(self.path).stat()).st_size
            try:
                self._parse_range_header(wanted, size)
            except MalformedRangeHeader as error:
                reason = error.content.removeprefix("Range header: ").rstrip(".")
                refusal = error_response(
                    400, f"the Range header {wanted[:100]!r} cannot be read ({reason}); send bytes=first-last"
                )
                return await refusal(scope, receive, send)
            except RangeNotSatisfiable:
                refusal = error_response(
                    416,
                    f"the Range {wanted[:100]!r} starts beyond the end of this file of {size} bytes",
                    headers={"Content-Range": f"bytes */{size}"},
                )
                return await refusal(scope, receive, send)
        await super().__call__(scope, receive, send)


def file_answer(
    request: Request, headers: Mapping[str, str], path: Path, media_type: str, filename: str | None = None
) -> Response:
    """The file at `path` with the validators `headers` (ETag, Last-Modified), answered as `conditional` says."""
    return conditional(
        request, headers, lambda: FileAnswer(path, media_type=media_type, filename=filename, stat_result=path.stat())
    )


@cache
def digest(path: Path) -> str:
    """The SHA-256 of one of the service's own files (scripts, stylesheets): they change only with the service."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def own_file(
    request: Request, path: Path, media_type: str | None = None, headers: Mapping[str, str] | None = None
) -> Response:
    """One of the service's own files, tagged by its content, answered as `conditional` says. Sent from memory (the
    largest, Swagger UI's script, is 1.5 MB) rather than as a file, so that a HEAD gets the head of a GET, compressed
    alike."""
    tag = f'"{digest(path)[:24]}{"-gzip" if (headers or {}).get("Content-Encoding") else ""}"'
    media_type = media_type or guess_type(path.name)[0] or "application/octet-stream"
    return conditional(
        request, {"ETag": tag, **(headers or {})}, lambda: Response(path.read_bytes(), media_type=media_type)
    )
