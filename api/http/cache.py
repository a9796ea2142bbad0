"""Values derived from a whole build (label index, statistics, rendered responses), computed once and reused."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from weakref import WeakKeyDictionary

from fastapi import Request, Response

from api.http.conditional import conditional
from graph.store import ReadStore

__all__ = ["BuildCache", "Derived", "PerBuild", "PerBuildValues", "Rendered", "build_of", "text_bytes"]

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True)
class Derived(Generic[T]):
    """A kind of value computed from a whole build (the label index, the statistics): its name in /metrics and how
    it is made. Declared once, beside what uses it; each app keeps its own values (`PerBuildValues`)."""

    name: str
    make: Callable[[ReadStore], T]


class PerBuild(Generic[T]):
    """`make(store)` for the build being served; a new build or release computes it afresh and forgets the old one.
    Its computations and the time they took are counted for /metrics.

    The value is kept with the store object it was made from, and the store goes when a newer build replaces it.
    (A value must not hold its store, or the store would never go.)
    """

    def __init__(self, make: Callable[[ReadStore], T]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._kept: WeakKeyDictionary[ReadStore, tuple[str, T]] = WeakKeyDictionary()
        self.computations = 0
        self.seconds = 0.0

    def __call__(self, store: ReadStore) -> T:
        build = store.manifest.key
        kept = self._kept.get(store)
        if kept is not None and kept[0] == build:
            return kept[1]
        with self._lock:  # one computation at a time: the others wait for it rather than repeat it
            kept = self._kept.get(store)
            if kept is None or kept[0] != build:  # a remote store serves each new build from the same object
                began = time.perf_counter()
                try:
                    kept = self._kept[store] = (build, self._make(store))
                finally:  # a computation that failed (a remote store away) took its time too
                    self.computations += 1
                    self.seconds += time.perf_counter() - began
            return kept[1]


class PerBuildValues:
    """An app's values computed once per build, one `PerBuild` per kind, made in `create_app` (two apps in one
    process share none) and counted in its /metrics under the kinds' names."""

    def __init__(self, *kinds: Derived[Any]) -> None:
        self.kept: dict[str, PerBuild[Any]] = {kind.name: PerBuild(kind.make) for kind in kinds}

    def get(self, kind: Derived[T], store: ReadStore) -> T:
        """`kind`'s value for the build `store` serves, computed on first asking."""
        value: T = self.kept[kind.name](store)
        return value


def build_of(store: ReadStore) -> Hashable:
    """What tells the build `store` serves apart from any other: its folder, and its id (a hash of its content, with
    the release it is published as). The first argument of a BuildCache's `get` and `put`."""
    return (str(getattr(store, "path", "")), store.manifest.key)


def text_bytes(terms: Iterable[object]) -> int:
    """The length of the text of `terms` (RDF terms or triples, as N-Triples writes them; strings): what keeping
    values made of them costs a BuildCache. It counts the text only, as the other caches count their bodies."""
    return sum(len(str(term)) for term in terms)


class BuildCache(Generic[K, V]):
    """Values computed from one build, kept by key up to `max_bytes` in all (each value's `cost`, in bytes), the
    least recently used dropped first; none larger than `largest` bytes. A published build never changes, so
    neither does what is computed from it; the values of a build are dropped as soon as one for a newer build is
    asked for. Hits, misses and evictions are counted for /metrics. Thread-safe: routes run in a thread pool.

    One per kind of value and per app, made in `create_app` and sized in the settings (0 bytes: keeps nothing).
    """

    def __init__(self, max_bytes: int, largest: int | None = None) -> None:
        """`largest`: the most one value may cost (default: the whole budget, for values bounded by the data, which
        no client can make larger)."""
        self.max_bytes = max_bytes
        self.largest = max_bytes if largest is None else min(largest, max_bytes)
        self.size = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0
        self._build: Hashable = None
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, build: Hashable, key: K, *, counted: bool = True) -> V | None:
        """The value kept for `key`, or None; `counted=False` for a look that `count` counts, if it counts."""
        with self._lock:
            if build != self._build:  # a new build: the old one's values will never be asked for again
                self._entries.clear()
                self.size = 0
                self._build = build
            kept = self._entries.get(key)
            if kept is None:
                self.misses += counted
                return None
            self.hits += counted
            self._entries.move_to_end(key)
            return kept[0]

    def count(self, *, hit: bool) -> None:
        """Count a hit or a miss of a look made with `counted=False`."""
        with self._lock:
            self.hits += hit
            self.misses += not hit

    def put(self, build: Hashable, key: K, value: V, cost: int) -> None:
        """Keep `value`, unless it is larger than `largest`, already kept, or of a build no longer current."""
        with self._lock:
            if cost > self.largest or build != self._build or key in self._entries:
                return
            self._entries[key] = (value, cost)
            self.size += cost
            while self.size > self.max_bytes:
                _, (_, old) = self._entries.popitem(last=False)
                self.size -= old
                self.evictions += 1


@dataclass(frozen=True)
class _Entry:
    body: bytes
    media_type: str
    # Lower-case names, as Starlette keeps them; no Content-Type or Content-Length, which follow from the above.
    headers: dict[str, str]


class Rendered(BuildCache[Hashable, _Entry]):
    """200 responses already rendered, by everything their bytes depend on (for every route that keeps them).

    The key starts with the build (its folder, and its id, a hash of its content, with the release it is published
    as). Only successful GETs are kept, so made-up keys (404) cannot push real ones out; none larger than 1/64 of
    the whole.
    """

    def __init__(self, max_bytes: int) -> None:
        super().__init__(max_bytes, max_bytes // 64)

    @staticmethod
    def key(store: ReadStore, request: Request, *parts: Hashable) -> tuple[Hashable, ...]:
        """The key of this request's response: the build, the URL, the headers it is negotiated by, `parts`."""
        headers = request.headers
        return (
            build_of(store),
            request.url.path,
            request.url.query,
            headers.get("accept"),
            headers.get("accept-language"),
            *parts,
        )

    def respond(self, request: Request, key: tuple[Hashable, ...]) -> Response | None:
        """The kept response for `key`, answered as `conditional` says (304 when the client has it), or None."""
        entry = self.get(key[0], key)
        if entry is None:
            return None
        return conditional(request, entry.headers, lambda: Response(entry.body, media_type=entry.media_type))

    def keep(self, request: Request, key: tuple[Hashable, ...], response: Response) -> Response:
        """Keep `response` when it is a 200 to a GET; return it unchanged."""
        body = response.body
        if request.method != "GET" or response.status_code != 200 or not body:
            return response
        media_type = response.headers.get("content-type", response.media_type or "")
        headers = {
            name: value for name, value in response.headers.items() if name not in ("content-type", "content-length")
        }
        self.put(key[0], key, _Entry(bytes(body), media_type, headers), len(body))
        return response
