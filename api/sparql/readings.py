"""What reading a /sparql request decided, remembered per app: the guard's verdicts on query texts, the check of
a text sent on to a remote server, and the formats chosen for a query's form, an Accept header and ?format=."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar, cast

from api.http.cache import BuildCache
from graph.errors import ServiceError

__all__ = ["REMEMBERED_BYTES", "Readings", "readings_cache", "remembered"]

T = TypeVar("T")

# Texts (and Accept headers) up to this long are remembered: a text sent again, the common case for a public
# endpoint, then costs a dictionary lookup. Longer ones are read again each time: reading one takes about as long
# as sending it, and keeping them would let a few texts take the whole cache.
REMEMBERED_BYTES = 4096

# What was read, or the refusal it met, kept in a 1-tuple so that a check that returns None is remembered too.
Readings = BuildCache[Hashable, tuple[object]]


def readings_cache(max_bytes: int) -> Readings:
    """An app's cache of readings, `max_bytes` of texts in all (the `reading_cache_kb` setting)."""
    return BuildCache(max_bytes, largest=REMEMBERED_BYTES)


def remembered(readings: Readings, key: Hashable, cost: int, read: Callable[[], T]) -> T:
    """`read()`, or what it gave or raised when `key` was read before. A refusal is remembered as well as an
    answer, since reading a refused text again would cost as much as the first time. Readings do not depend on the
    data, so they are all kept as if of one build."""
    kept = readings.get(None, key)
    if kept is None:
        try:
            kept = (read(),)
        except ServiceError as refusal:
            kept = (refusal.with_traceback(None),)
        readings.put(None, key, kept, cost)
    if isinstance(kept[0], ServiceError):
        raise kept[0].afresh()
    return cast(T, kept[0])
