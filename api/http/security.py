"""The Content-Security-Policy of the HTML pages: scripts, data and frames only from this service."""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ContentSecurity", "policy"]

# Scripts come from the service's own bundles (data travels in <script type="application/json">, which is never run),
# queries go to the service itself. Styles may be inline: the editor (CodeMirror) writes its own <style> elements.
_POLICY = (
    "default-src 'self'; script-src 'self'{scripts}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {frames}"
)
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def policy(*, embeddable: bool = False, html: str | None = None) -> str:
    """The policy of a page: only /embed may be framed by other sites; the inline scripts of `html` (a page the
    service does not write itself, such as Swagger UI's) are allowed by their hashes, no other."""
    hashes = "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(html or "")
    )
    return _POLICY.format(scripts=hashes, frames="*" if embeddable else "'self'")


class ContentSecurity:
    """Give every HTML response that has none the pages' policy."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        value = policy(embeddable=scope["path"] == "/embed").encode()

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"")
                if content_type.startswith(b"text/html") and b"content-security-policy" not in names:
                    message = {**message, "headers": [*headers, (b"content-security-policy", value)]}
            await send(message)

        await self.app(scope, receive, send_with_policy)
