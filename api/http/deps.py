"""Dependencies of the route handlers, as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.datastructures import URL

from api.http.cache import BuildCache, PerBuildValues, Rendered
from api.http.state import StoreHolder
from graph.settings import Settings
from graph.store import ReadStore

__all__ = [
    "PerBuildDep",
    "SettingsDep",
    "StoreDep",
    "StoreHolderDep",
    "app_cache",
    "get_per_build",
    "public_base",
    "public_url",
    "rendered",
]


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_holder(request: Request) -> StoreHolder:
    holder: StoreHolder = request.app.state.store
    return holder


def get_store(request: Request) -> ReadStore:
    return get_holder(request).get()


def public_base(request: Request, settings: Settings) -> str:
    """The service's address as its users reach it (setting base_url, else the request's), without a final slash."""
    return (settings.base_url or str(request.base_url)).rstrip("/")


def public_url(request: Request, settings: Settings) -> URL:
    """This request's URL, query included, at the service's public address (`public_base`)."""
    # The request's path starts with the root path a proxy mounts the service at, which public_base already holds.
    path = request.url.path.removeprefix(request.scope.get("root_path", ""))
    return URL(public_base(request, settings) + path).replace(query=request.url.query)


def app_cache(request: Request, name: str) -> BuildCache[Any, Any]:
    """The app's cache `name`, as its /metrics names it (each app's own, made in create_app)."""
    caches: dict[str, BuildCache[Any, Any]] = request.app.state.caches
    return caches[name]


def rendered(request: Request) -> Rendered:
    """The app's cache of rendered responses."""
    responses: Rendered = request.app.state.caches["responses"]
    return responses


def get_per_build(request: Request) -> PerBuildValues:
    """The app's values computed once per build (each app's own, made in create_app)."""
    values: PerBuildValues = request.app.state.per_build
    return values


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreHolderDep = Annotated[StoreHolder, Depends(get_holder)]
StoreDep = Annotated[ReadStore, Depends(get_store)]
PerBuildDep = Annotated[PerBuildValues, Depends(get_per_build)]
