"""Each client's share of query time: so many seconds of evaluation per minute, as public endpoints ration it.

A leaky bucket per client address: every query adds the seconds it ran, the bucket drains at `seconds` per
minute, and a client whose bucket is full waits (429, Retry-After) until it has drained below the brim. One
client running heavy queries therefore cannot keep the workers from everybody else for long.
"""

from __future__ import annotations

import time
from math import ceil

__all__ = ["ClientBudget"]

WINDOW = 60.0
FORGET_AFTER = 1024  # clients tracked before drained buckets are swept out


class ClientBudget:
    def __init__(self, seconds_per_minute: float) -> None:
        self.capacity = seconds_per_minute
        self.rate = seconds_per_minute / WINDOW
        self._buckets: dict[str, tuple[float, float]] = {}  # client → (level in seconds, when it was measured)

    def _level(self, client: str, now: float) -> float:
        level, when = self._buckets.get(client, (0.0, now))
        return max(level - (now - when) * self.rate, 0.0)

    def retry_after(self, client: str) -> int | None:
        """Seconds `client` must wait before its next query, or None when it may run one now."""
        level = self._level(client, time.monotonic())
        if level < self.capacity:
            return None
        return max(ceil((level - self.capacity) / self.rate), 1)

    def charge(self, client: str, seconds: float) -> None:
        now = time.monotonic()
        self._buckets[client] = (self._level(client, now) + seconds, now)
        if len(self._buckets) > FORGET_AFTER:
            self._buckets = {
                key: (level, when) for key, (level, when) in self._buckets.items() if self._level(key, now) > 0
            }
