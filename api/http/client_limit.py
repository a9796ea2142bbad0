"""Each client's allowance of something per minute (query time, new short links): one leaky bucket per address.

Every use adds its amount to the client's bucket, which drains at `capacity` per `window`; a client whose bucket
is full, or has no room for what it asks, waits (429 with Retry-After) until it has drained enough. So a client may
use its whole allowance at once, then goes on at the allowance's rate, and one client cannot keep a shared resource
(the query workers, the short links' file) from everybody else. A bucket is O(1) whatever the client does, where a
sliding window would keep one entry per use. The most recently active `clients` addresses are remembered; a drained
bucket is the same as a forgotten one.
"""

from __future__ import annotations

import threading
import time
from math import ceil

__all__ = ["ClientLimit"]


class ClientLimit:
    """`capacity` (seconds of query time, links ...) per `window` seconds for each client address."""

    def __init__(self, capacity: float, window: float = 60.0, clients: int = 10_000) -> None:
        self.capacity, self.window, self.clients = capacity, window, clients
        self.rate = capacity / window
        self._buckets: dict[str, tuple[float, float]] = {}  # client → (level, when it was measured); oldest first
        self._lock = threading.Lock()  # charged from the event loop and from the threads that evaluate queries

    def _level(self, client: str, now: float) -> float:
        level, when = self._buckets.get(client, (0.0, now))
        return max(level - (now - when) * self.rate, 0.0)

    def retry_after(self, client: str, amount: float = 0.0) -> int | None:
        """Seconds `client` must wait before it may use `amount` more (or anything, for 0), None when it may now."""
        with self._lock:
            return self._wait(self._level(client, time.monotonic()), amount)

    def charge(self, client: str, amount: float) -> None:
        """Adds what `client` used (after the fact: a query's time is known when it has run)."""
        with self._lock:
            self._put(client, amount, time.monotonic())

    def take(self, client: str, amount: float = 1.0) -> int | None:
        """`retry_after`, with `amount` charged when `client` may use it now: None then, else the seconds to wait."""
        now = time.monotonic()
        with self._lock:
            wait = self._wait(self._level(client, now), amount)
            if wait is None:
                self._put(client, amount, now)
            return wait

    def _wait(self, level: float, amount: float) -> int | None:
        if level < self.capacity and level + amount <= self.capacity:
            return None
        return max(ceil((level + amount - self.capacity) / self.rate), 1)

    def _put(self, client: str, amount: float, now: float) -> None:
        level = self._level(client, now) + amount
        self._buckets.pop(client, None)
        self._buckets[client] = (level, now)  # most recent last: the longest idle are forgotten first
        if len(self._buckets) > self.clients:
            del self._buckets[next(iter(self._buckets))]
