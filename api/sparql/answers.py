"""Answers to repeated queries, kept in memory: a published build never changes, so neither do its answers.

A public endpoint sees the same queries again and again (examples, dashboards, links); the second time, the
answer costs a dictionary lookup instead of a worker's time. Only deterministic queries are kept (no RAND, NOW,
UUID, STRUUID, BNODE), only answers up to an eighth of the budget, least recently used ones go first, and the
answers of a build are dropped as soon as a query arrives for a newer one.
"""

from __future__ import annotations

from collections import OrderedDict

from api.sparql.pool import Answer, Job

__all__ = ["AnswerCache"]


class AnswerCache:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.max_entry = max_bytes // 8
        self.size = 0
        self._build = ""
        self._entries: OrderedDict[Job, Answer] = OrderedDict()

    def get(self, job: Job) -> Answer | None:
        if job.build != self._build:  # a new build: the old one's answers will never be asked for again
            self._entries.clear()
            self.size = 0
            self._build = job.build
        answer = self._entries.get(job)
        if answer is not None:
            self._entries.move_to_end(job)
        return answer

    def put(self, job: Job, answer: Answer) -> None:
        cost = len(answer.payload) + len(job.query)
        if cost > self.max_entry or job in self._entries:
            return
        self._entries[job] = answer
        self.size += cost
        while self.size > self.max_bytes:
            old_job, old = self._entries.popitem(last=False)
            self.size -= len(old.payload) + len(old_job.query)
