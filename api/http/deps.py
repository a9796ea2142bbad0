"""Dependencies of the route handlers, as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.http.cache import Rendered
from api.http.state import StoreHolder
from graph.settings import Settings
from graph.store import ReadStore

__all__ = ["SettingsDep", "StoreDep", "StoreHolderDep", "public_base", "rendered"]


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


def rendered(request: Request) -> Rendered:
    """The app's cache of rendered responses (made in create_app)."""
    responses: Rendered = request.app.state.responses
    return responses


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreHolderDep = Annotated[StoreHolder, Depends(get_holder)]
StoreDep = Annotated[ReadStore, Depends(get_store)]
