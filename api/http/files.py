"""Files sent as they are stored (dumps, patches), whose Range errors answer in the service's one error shape."""

from __future__ import annotations

from pathlib import Path

from starlette.datastructures import Headers
from starlette.responses import FileResponse, MalformedRangeHeader, RangeNotSatisfiable
from starlette.types import Receive, Scope, Send

from api.http.errors import error_response

__all__ = ["FileAnswer"]


class FileAnswer(FileResponse):
    """A FileResponse whose refusals of a Range header are problem documents, not Starlette's plain text."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        wanted, if_range = headers.get("range"), headers.get("if-range")
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
