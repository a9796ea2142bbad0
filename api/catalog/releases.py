"""The release history as the service reads it: the releases, what each changed, when a thing last changed."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from api.http.cache import Derived
from graph.errors import ServiceError
from graph.published import store_of
from graph.releases import ADDED, REMOVED, Release, read_releases, release_dir, thing_of
from graph.store import ReadStore

__all__ = ["HISTORY", "History", "counted", "patch_lines", "statements_of"]


@dataclass(frozen=True)
class History:
    """Every recorded release, newest first; `folder` holds them (None for a graph on a remote server)."""

    releases: tuple[Release, ...]
    folder: Path | None

    def get(self, version: str) -> Release | None:
        return next((release for release in self.releases if release.version == version), None)

    def require(self, version: str) -> Release:
        """The release `version`; a 404 that says where the releases are listed when there is none."""
        release = self.get(version)
        if release is None:
            raise ServiceError(404, f"there is no release {version!r}; /changes lists them all")
        return release

    @cached_property
    def _changed(self) -> tuple[tuple[Release, frozenset[str]], ...]:
        return tuple((release, frozenset(thing.iri for thing in release.things)) for release in self.releases)

    def last_change(self, iri: str) -> Release | None:
        """The newest release that changed a statement about `iri`; the first release, which added everything, for
        a thing unchanged since."""
        for release, things in self._changed:
            if iri in things:
                return release
        first = self.releases[-1] if self.releases else None
        return first if first is not None and first.previous is None else None


def _history(store: ReadStore) -> History:
    if store.path is None:  # a graph on a remote server: its releases are not recorded here
        return History((), None)
    store_dir = store_of(store.path)
    releases = read_releases(store_dir)
    # Up to the release being served: one recorded by a build that was stopped before it switched `current` (or
    # that has yet to) is not announced until it is served.
    served = next((index for index, release in enumerate(releases) if release.version == store.manifest.release), 0)
    return History(tuple(releases[served:]), release_dir(store_dir))


HISTORY = Derived("history", _history)


def counted(number: int, noun: str) -> str:
    """`1 statement`, `2 statements`: a count with its noun, in the plural where English wants one."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def patch_lines(history: History, release: Release, added: bool) -> Iterator[bytes]:
    """The added (or removed) statements of `release`, read from its patch file as N-Quads lines."""
    if history.folder is None or release.previous is None:
        return
    with gzip.open(history.folder / release.version / (ADDED if added else REMOVED), "rb") as lines:
        for line in lines:
            yield line.rstrip(b"\n")


def statements_of(history: History, release: Release, things: set[str]) -> dict[str, tuple[list[str], list[str]]]:
    """The added and removed statements of `release` about each of `things` (one pass over each patch file)."""
    found: dict[str, tuple[list[str], list[str]]] = {iri: ([], []) for iri in things}
    for added in (True, False):
        for line in patch_lines(history, release, added):
            entry = found.get(thing_of(line))
            if entry is not None:
                entry[0 if added else 1].append(line.decode())
    return found
