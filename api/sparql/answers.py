"""Answers to repeated queries, kept in memory: a published build never changes, so neither do its answers.

A public endpoint sees the same queries again and again (examples, dashboards, links); the second time, the
answer costs a dictionary lookup instead of a worker's time. Only deterministic queries are kept (no RAND, NOW,
UUID, STRUUID, BNODE), only answers up to an eighth of the budget (setting result_cache_mb), least recently used
ones go first, and the answers of a build are dropped as soon as a query arrives for a newer one.
"""

from __future__ import annotations

from collections.abc import Hashable

from api.http.cache import BuildCache
from api.sparql.pool import Answer, Job

__all__ = ["AnswerCache", "Doorkeeper", "answer_cache", "cost"]

AnswerCache = BuildCache[Job, Answer]


def answer_cache(max_bytes: int) -> AnswerCache:
    return AnswerCache(max_bytes, max_bytes // 8)


def cost(job: Job, answer: Answer) -> int:
    """What keeping `answer` costs: its bytes and its query's."""
    return len(answer.payload) + len(job.query)


class Doorkeeper:
    """Whether a job was asked before, among about the last `size` jobs asked (remembered by hash, in two
    generations): a lookup's answer is kept the second time it is asked, not the first.

    A lookup costs less to evaluate again than the place its answer takes: with texts that never repeat (a crawler
    walking the graph, a client numbering its requests), keeping each answer filled the cache (64 MiB per server
    process) with answers nobody asked for again, and evicted those that were. Other queries are kept at once: a
    second evaluation of one costs far more than its place."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._now: set[int] = set()
        self._before: set[int] = set()

    def seen_again(self, key: Hashable) -> bool:
        mark = hash(key)
        if mark in self._now or mark in self._before:
            return True
        if len(self._now) >= self.size:
            self._before, self._now = self._now, set()
        self._now.add(mark)
        return False
