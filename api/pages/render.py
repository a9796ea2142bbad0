"""The pages people read, rendered through the shared templates, with static files addressed by their content."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from api.http.files import digest
from api.pages.display import Link, pick_language
from api.pages.templating import render, words

__all__ = ["STATIC_DIR", "error_page", "page", "page_response", "static_url"]

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


def error_page(request: Request, problem: Mapping[str, Any]) -> bytes:
    """The page a browser gets for an error (api.http.errors decides when, and hands it the error's body): what was
    wrong and, for a retired thing, where its successors are, in the reader's language."""
    lang = pick_language(request.query_params.get("lang"), request.headers.get("accept-language"))
    return render(
        "error.html",
        status=problem["status"],
        message=problem["detail"],
        lang=lang,
        w=words(lang),
        other_language_href=None,
        successors=[Link(url, url) for url in problem.get("replacedBy", ())],
    )
