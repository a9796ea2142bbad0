"""Values derived from a whole build (label index, statistics), computed once per build and then reused."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from graph.store import ReadStore

__all__ = ["PerBuild"]

T = TypeVar("T")


class PerBuild(Generic[T]):
    """`make(store)` for the build being served; a new build id computes it afresh and forgets the old one."""

    def __init__(self, make: Callable[[ReadStore], T]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._cached: tuple[str, T] | None = None

    def __call__(self, store: ReadStore) -> T:
        build = store.manifest.build_id
        cached = self._cached
        if cached is not None and cached[0] == build:
            return cached[1]
        with self._lock:  # one computation at a time: the others wait for it rather than repeat it
            if self._cached is None or self._cached[0] != build:
                self._cached = (build, self._make(store))
            return self._cached[1]
