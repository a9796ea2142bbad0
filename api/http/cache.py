"""Values derived from a whole build (label index, statistics, rendered responses), computed once and reused."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Generic, TypeVar
from weakref import WeakKeyDictionary

from fastapi import Request, Response

from graph.errors import ServiceError
from graph.store import ReadStore

__all__ = [
    "BuildCache",
    "PerBuild",
    "Rendered",
    "build_of",
    "etag_matches",
    "http_date",
    "text_bytes",
    "unchanged",
    "validators",
]

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class PerBuild(Generic[T]):
    """`make(store)` for the build being served; a new build or release computes it afresh and forgets the old one.

    The value is kept with the store object it was made from: each app opens stores of its own (StoreHolder), so
    two apps never share one, and the value goes with its store when a newer build replaces it. (A value must not
    hold its store, or the store would never go.)
    """

    def __init__(self, make: Callable[[ReadStore], T]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._kept: WeakKeyDictionary[ReadStore, tuple[str, T]] = WeakKeyDictionary()

    def __call__(self, store: ReadStore) -> T:
        build = store.manifest.key
        kept = self._kept.get(store)
        if kept is not None and kept[0] == build:
            return kept[1]
        with self._lock:  # one computation at a time: the others wait for it rather than repeat it
            kept = self._kept.get(store)
            if kept is None or kept[0] != build:  # a remote store serves each new build from the same object
                kept = self._kept[store] = (build, self._make(store))
            return kept[1]


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names `etag` (weak comparison, as RFC 9110 asks for GET and HEAD)."""
    if not if_none_match:
        return False
    candidates = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in candidates or etag in candidates


def _strong_match(if_match: str, etag: str) -> bool:
    candidates = [tag.strip() for tag in if_match.split(",")]
    return "*" in candidates or (not etag.startswith("W/") and etag in candidates)


def http_date(iso: str) -> str:
    """An ISO 8601 date-time as an HTTP date (Last-Modified)."""
    return format_datetime(datetime.fromisoformat(iso).astimezone(UTC), usegmt=True)


def validators(etag: str, modified: str) -> dict[str, str]:
    """The headers a harvester revalidates with: ETag, and Last-Modified from an ISO 8601 date-time."""
    return {"ETag": etag, "Last-Modified": http_date(modified)}


def unchanged(request: Request, etag: str, last_modified: str | None) -> bool:
    """RFC 9110 §13.1: If-None-Match decides when present (weak comparison); else If-Modified-Since, compared with
    the response's Last-Modified (an HTTP date; None when it has none).

    If-Match is evaluated first (§13.2.2): when it names no current representation (strong comparison, so a weak
    tag never matches), the request fails with 412 rather than answer with something the client did not ask for.
    """
    if_match = request.headers.get("if-match")
    if if_match is not None and not _strong_match(if_match, etag):
        raise ServiceError(412, "If-Match names none of this resource's current ETags; fetch it again without it")
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        return etag_matches(if_none_match, etag)
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since is None or last_modified is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False  # an unreadable date is ignored, as RFC 9110 asks
    return since.tzinfo is not None and parsedate_to_datetime(last_modified) <= since


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

    def get(self, build: Hashable, key: K) -> V | None:
        with self._lock:
            if build != self._build:  # a new build: the old one's values will never be asked for again
                self._entries.clear()
                self.size = 0
                self._build = build
            kept = self._entries.get(key)
            if kept is None:
                self.misses += 1
                return None
            self.hits += 1
            self._entries.move_to_end(key)
            return kept[0]

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
        """The kept response for `key` (304 when If-None-Match names it, headers only for HEAD), or None."""
        entry = self.get(key[0], key)
        if entry is None:
            return None
        if unchanged(request, entry.headers.get("etag", ""), entry.headers.get("last-modified")):
            return Response(status_code=304, headers=entry.headers)
        if request.method == "HEAD":
            return Response(
                headers={**entry.headers, "Content-Length": str(len(entry.body))}, media_type=entry.media_type
            )
        return Response(entry.body, headers=entry.headers, media_type=entry.media_type)

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
