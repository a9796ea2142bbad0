"""`/openapi.json` and `/docs`: the OpenAPI description, and Swagger UI with its scripts served from here rather than
from a CDN."""

from __future__ import annotations

import json
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html

from api.http.conditional import conditional
from api.http.files import own_file
from api.http.forms import FormRoute
from api.http.representation import entity_tag
from api.http.security import policy
from graph.errors import ServiceError

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=FormRoute)
_ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
_SERVED = {"swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"}


@router.api_route("/openapi.json", methods=["GET", "HEAD"])
def openapi(request: Request) -> Response:
    """The description (FastAPI's `app.openapi()`), tagged by its content, so clients revalidate it with a 304.
    Its keys are sorted: FastAPI lists a route's methods in the order of a set, which differs between processes,
    and every server process must send the same bytes under the same tag."""
    body = json.dumps(request.app.openapi(), separators=(",", ":"), sort_keys=True).encode()
    return conditional(
        request, {"ETag": entity_tag(body.decode())}, lambda: Response(body, media_type="application/json")
    )


@router.api_route("/docs", methods=["GET", "HEAD"])
def swagger_ui(request: Request) -> Response:
    page = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="smartcity-kg API",
        swagger_js_url="/docs/assets/swagger-ui-bundle.js",
        swagger_css_url="/docs/assets/swagger-ui.css",
        swagger_favicon_url="/docs/assets/favicon.png",
    )
    # Swagger UI starts from an inline script: the policy allows that one by its hash.
    html = bytes(page.body).decode()
    page.headers["Content-Security-Policy"] = policy(html=html)
    return conditional(request, {"ETag": entity_tag(html)}, lambda: page)


@router.api_route("/docs/assets/{name}", methods=["GET", "HEAD"])
def asset(name: str, request: Request) -> Response:
    if name not in _SERVED:
        raise ServiceError(404, f"no asset {name!r}")
    return own_file(request, _ASSETS / name, headers={"Cache-Control": "public, max-age=86400"})
