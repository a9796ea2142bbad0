"""The pages people read, rendered through the shared templates, with static files addressed by their content."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse

from api.http.files import digest
from api.pages.templating import render, words

__all__ = ["STATIC_DIR", "page", "page_response", "static_url"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
LANG = "en"  # the landing page and the editor are written in English only


@cache
def static_url(name: str) -> str:
    """`/static/NAME?v=HASH`: a new version of the file gets a new URL, so browsers may keep each one for long."""
    return f"/static/{name}?v={digest(STATIC_DIR / name)[:12]}"


def page(template: str, **context: Any) -> bytes:
    return render(template, lang=LANG, w=words(LANG), other_language_href=None, **context)


def page_response(template: str, **context: Any) -> HTMLResponse:
    return HTMLResponse(page(template, **context))
