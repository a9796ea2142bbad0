"""Answers to repeated queries, kept in memory: a published build never changes, so neither do its answers.

A public endpoint sees the same queries again and again (examples, dashboards, links); the second time, the
answer costs a dictionary lookup instead of a worker's time. Only deterministic queries are kept (no RAND, NOW,
UUID, STRUUID, BNODE), only answers up to an eighth of the budget (setting result_cache_mb), least recently used
ones go first, and the answers of a build are dropped as soon as a query arrives for a newer one.
"""

from __future__ import annotations

from api.http.cache import BuildCache
from api.sparql.pool import Answer, Job

__all__ = ["AnswerCache", "answer_cache", "cost"]

AnswerCache = BuildCache[Job, Answer]


def answer_cache(max_bytes: int) -> AnswerCache:
    return AnswerCache(max_bytes, max_bytes // 8)


def cost(job: Job, answer: Answer) -> int:
    """What keeping `answer` costs: its bytes and its query's."""
    return len(answer.payload) + len(job.query)
