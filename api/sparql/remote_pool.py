"""Queries answered by a remote SPARQL server, under the limits of the worker pool: so many at once, so many
waiting, each stopped at the time limit, cut at the row and byte limits, and written by the same code.

The server is asked for SPARQL JSON results (or N-Triples for CONSTRUCT and DESCRIBE), whatever the client asked
for; the answer is parsed as it arrives, checked, cut at the row and byte limits (the rest is never read: the
connection is closed, which a server may take as a sign to stop), and written in the client's format here. So a
client gets a well-formed answer in the format it asked for, or an error; never whatever the server sent.
"""

from __future__ import annotations

import asyncio
import time
from itertools import islice

import pyoxigraph as ox

from api.sparql.pool import Answer, HandOver, Job, QueryFailedError, timed_out
from api.sparql.request import MEDIA_TYPES
from api.sparql.worker import Outcome, Status, write_outcome
from graph.published import StoreUnavailableError
from graph.remote import (
    AnswerTooLargeError,
    BadAnswerError,
    DeadlineError,
    QueryRefusedByServerError,
    solutions,
)
from graph.store import QueryServer, ReadStore, Received

__all__ = ["SERVER_BYTES", "RemotePool"]

UNAVAILABLE_RETRY_AFTER = 10
# How many bytes of the server's answer are read per byte an answer may take (max_answer_bytes): SPARQL JSON and
# N-Triples spell a row out at several times the length of CSV or Turtle. The answer is parsed as it arrives and
# cut by the writer, so these bytes are never held at once; the bound is for a server sending one endless row.
SERVER_BYTES = 8


class RemotePool:
    """Up to `workers` queries at once on `store`'s server; up to `max_pending` wait, more are refused at once."""

    def __init__(
        self,
        store: QueryServer,
        *,
        workers: int,
        max_pending: int,
        timeout: float,
        max_bytes: int,
    ) -> None:
        self.store = store
        self.size = workers
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._running = 0
        self._queue: HandOver[None] = HandOver(max_pending, timeout)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def run(self, job: Job, deadline: float) -> Answer:
        """`job` answered by the server; QueryFailedError when refused, over `deadline` (loop time), or when the
        server is unreachable (503) or answers what cannot be used (502)."""
        await self._acquire(deadline)
        loop = asyncio.get_running_loop()
        began, waited = time.monotonic(), loop.time() - (deadline - self.timeout)
        # In a thread, which ends by the deadline whatever happens (graph.remote's watchdog closes the
        # connection); its slot is free only then, even when the client has left, so the server never has more
        # than `workers` of our queries at once.
        evaluation = asyncio.ensure_future(asyncio.to_thread(self._answer, job, began + deadline - loop.time()))
        evaluation.add_done_callback(self._finished)
        try:
            status, payload, fmt, truncated = await asyncio.shield(evaluation)
        except DeadlineError:
            raise timed_out(self.timeout, time.monotonic() - began, waited) from None
        except BadAnswerError as error:
            raise QueryFailedError(
                502,
                str(error),
                retry_after=UNAVAILABLE_RETRY_AFTER,
                seconds=time.monotonic() - began,
                event="remote_bad_answer",
            ) from None
        except QueryRefusedByServerError as error:  # the same query would be refused again: no Retry-After
            raise QueryFailedError(503, str(error), seconds=time.monotonic() - began, event="remote_refused") from None
        except StoreUnavailableError as error:
            raise QueryFailedError(
                503,
                error.public,
                retry_after=UNAVAILABLE_RETRY_AFTER,
                seconds=time.monotonic() - began,
                event="remote_unavailable",
            ) from None
        except (SyntaxError, AnswerTooLargeError) as error:
            raise QueryFailedError(400, str(error), seconds=time.monotonic() - began) from None
        seconds = time.monotonic() - began
        if status == Status.OK:
            return Answer(payload, fmt, truncated, seconds)
        message = payload.decode("utf-8", "replace")
        if status == Status.NOT_ACCEPTABLE:
            raise QueryFailedError(406, message, seconds=seconds, not_acceptable=message)
        raise QueryFailedError(
            406,
            f"the result cannot be written as {MEDIA_TYPES[fmt]} ({message}); ask for "
            "another format: Turtle and N-Triples can write every result",
            seconds=seconds,
        )

    def _answer(self, job: Job, deadline: float) -> Outcome:
        """The server's answer to `job`, cut at the row limit, written in the job's format (in a thread)."""
        store = self.store
        cap = store.row_cap(deadline, job.max_rows + 1)
        # The guard knows the form; only a query of unknown form is offered both, and is asked for results
        # (evaluating a client's query here, even on no data, could cost anything).
        graph = job.results_format is None

        def write(outcome: ox.QuerySolutions | ox.QueryBoolean | list[ox.Triple]) -> Outcome:
            limits = (job.max_rows, job.max_bytes)
            return write_outcome(
                outcome, job.results_format or "", job.graph_format or "", limits=limits, prefixes=job.prefixes
            )

        def read(outcome: Received) -> Outcome:
            if isinstance(outcome, ox.QueryBoolean) or (
                isinstance(outcome, ox.QuerySolutions) and (cap is None or cap > job.max_rows)
            ):
                # Written as it is parsed, the writer stopping the parser one row past the limits.
                return write(outcome)
            if isinstance(outcome, ox.QuerySolutions):
                # Counted, since the server's cap, being within the limit, means there may be more than it gave.
                limited, taken = solutions(outcome.variables, iter(outcome), job.max_rows + 1)
                return _mark(write(limited), cap is not None and taken >= cap)
            triples = list(islice(outcome, job.max_rows + 1))
            return _mark(write(triples), cap is not None and len(triples) >= cap)

        # The dataset as the worker pool makes it, with the published graphs for the embedded store's union: a
        # server's own default graph (Virtuoso's holds its system graphs) is never what a query sees.
        if job.default_graphs is None and job.named_graphs is None:
            default = named = store.graphs if job.union else []
        else:
            default, named = list(job.default_graphs or ()), list(job.named_graphs or ())
        return store.evaluate(
            job.query,
            graph=graph,
            default_graph=default,
            named_graphs=named,
            deadline=deadline,
            read=read,
            max_bytes=self.max_bytes,
        )

    def run_here(self, store: ReadStore, job: Job) -> Answer | None:
        """None: the server answers every query, lookups too; nothing is evaluated in this process."""
        return None

    def row_limit(self, max_rows: int) -> int:
        """The most rows an answer holds: `max_rows`, or the server's own cap when it is lower."""
        cap = self.store.known_row_cap(max_rows + 1)
        return max_rows if cap is None else min(cap, max_rows)

    async def _acquire(self, deadline: float) -> None:
        if self._running < self.size:
            self._running += 1
            return
        # The place is handed over by _release, `_running` unchanged.
        await self._queue.wait(deadline, self._running, lambda _: self._release())

    def _finished(self, done: asyncio.Future[Outcome]) -> None:
        self._release()
        if not done.cancelled():
            done.exception()  # retrieved here: its requester may have left

    def _release(self) -> None:
        if not self._queue.hand(None):
            self._running -= 1


def _mark(outcome: Outcome, capped: bool) -> Outcome:
    status, payload, fmt, truncated = outcome
    return status, payload, fmt, truncated or (capped and status == Status.OK)
