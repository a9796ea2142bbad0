"""The pool of query worker processes: a fixed number running, a bounded queue waiting, killed at the time limit.

Persistent workers keep the hot path short (one socket round trip per query, no process started per request);
a worker that overruns is SIGKILLed and a fresh one takes its place, so a runaway query costs its own worker
for at most the time limit, and a worker that crashes costs only its own request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import marshal
import os
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from math import ceil
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from api.sparql.request import MEDIA_TYPES
from api.sparql.worker import ANSWER, FORMATS, JOB, Status, answer
from graph.errors import ServiceError
from graph.prefixes import prefixes
from graph.store import ReadStore

__all__ = [
    "Answer",
    "HandOver",
    "Job",
    "Pool",
    "QueryFailedError",
    "QueryPool",
    "busy_error",
    "timed_out",
    "waited_too_long",
]

T = TypeVar("T")

log = logging.getLogger("smartcity_kg.api.sparql")
WORKER = Path(__file__).with_name("worker.py")
START_TIMEOUT = 30.0
BUSY_RETRY_AFTER = 2


@dataclass(frozen=True)
class Job:
    build: str
    query: str
    base_iri: str  # relative IRIs in the query resolve against it (the endpoint's URL)
    default_graphs: tuple[str, ...] | None  # None: the query's own dataset (or the union default graph)
    named_graphs: tuple[str, ...] | None
    union: bool  # the default graph is the union of all graphs (not with FROM: it would override the query's)
    results_format: str | None  # for SELECT/ASK; None: not acceptable
    graph_format: str | None  # for CONSTRUCT/DESCRIBE; None: not acceptable
    max_rows: int
    max_bytes: int = 16 * 2**20  # the answer is cut at a row before it is longer (setting max_answer_bytes)
    namespace: str | None = None  # the build's (its manifest's), whose `id:` and `vocab:` answers declare

    @property
    def prefixes(self) -> dict[str, str]:
        """The prefixes a Turtle or TriG answer declares: the vocabularies' and the build's own."""
        return prefixes(self.namespace)

    def fields(self) -> tuple[str | tuple[str, ...] | dict[str, str] | bool | int | None, ...]:
        """What a worker is sent: the build's folder and the prefixes first, then what `worker.answer` evaluates."""
        return (
            self.build,
            self.prefixes,
            self.query,
            self.base_iri,
            self.default_graphs,
            self.named_graphs,
            self.union,
            self.results_format or "",
            self.graph_format or "",
            self.max_rows,
            self.max_bytes,
        )

    def frame(self) -> bytes:
        body = marshal.dumps(self.fields())
        return JOB.pack(len(body)) + body


@dataclass(frozen=True)
class Answer:
    payload: bytes
    format: str
    truncated: bool
    seconds: float  # time spent evaluating, charged to the client


class QueryFailedError(ServiceError):
    """The query got no result; `status` and `headers` for the response, the message says why."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        retry_after: int | None = None,
        seconds: float = 0.0,
        not_acceptable: str | None = None,
        event: str | None = None,
    ) -> None:
        super().__init__(
            status, message, headers={"Retry-After": str(retry_after)} if retry_after is not None else None
        )
        self.event = event  # what /metrics counts it as: query_timeout, overload, worker_crash ...
        self.seconds = seconds
        self.not_acceptable = not_acceptable  # "results" or "graph": which kind of result had no acceptable format


class Pool(Protocol):
    """What /sparql needs of whatever evaluates its queries (the worker processes, or a remote server), under the
    same limits: so many at once, so many waiting, each stopped at its deadline."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def run(self, job: Job, deadline: float) -> Answer:
        """`job`'s answer; QueryFailedError when refused, over `deadline` (loop time), or failed."""
        ...

    def run_here(self, store: ReadStore, job: Job) -> Answer | None:
        """`job` (a lookup, whose cost is bounded) evaluated in this process, where `store` can be; None where
        it cannot, and `run` answers it."""
        ...

    def row_limit(self, max_rows: int) -> int:
        """The most rows an answer holds."""
        ...


class HandOver(Generic[T]):
    """The queries waiting for what a pool hands out (a worker, a place at the remote server), in the order they
    came, each handed the first one freed; at most `max_pending` wait, each until its deadline."""

    def __init__(self, max_pending: int, timeout: float) -> None:
        self.max_pending = max_pending
        self.timeout = timeout
        self._waiting: deque[asyncio.Future[T]] = deque()

    async def wait(self, deadline: float, running: int, release: Callable[[T], None]) -> T:
        """What is handed over to this query; a 503 when `max_pending` queries already wait or the deadline passes.
        `release` passes on what is handed over just as the wait ends (by a timeout or a cancellation)."""
        if len(self._waiting) >= self.max_pending:
            raise busy_error(running, len(self._waiting))
        waiter: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            async with asyncio.timeout_at(deadline):
                return await waiter
        except BaseException as error:
            if waiter in self._waiting:
                self._waiting.remove(waiter)
            elif waiter.done() and not waiter.cancelled():
                release(waiter.result())
            if isinstance(error, TimeoutError):
                raise waited_too_long(self.timeout) from None
            raise

    def hand(self, value: T) -> bool:
        """Hand `value` to the query that has waited longest; False when none waits."""
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(value)
                return True
        return False


def busy_error(running: int, waiting: int) -> QueryFailedError:
    return QueryFailedError(
        503,
        f"the server is busy: {running} queries are running and {waiting} are waiting, the "
        "most allowed (settings query_workers, max_pending_queries); try again shortly",
        retry_after=BUSY_RETRY_AFTER,
        event="overload",
    )


def waited_too_long(timeout: float) -> QueryFailedError:
    return QueryFailedError(
        503,
        f"the server is busy: no query worker became free within the time limit of {timeout:g} s",
        retry_after=BUSY_RETRY_AFTER,
        event="overload",
    )


def timed_out(timeout: float, seconds: float, waited: float) -> QueryFailedError:
    """The error of a query stopped at the time limit after running `seconds` (having waited `waited`)."""
    queued = f" after waiting {waited:.1f} s for a free worker" if waited >= 0.1 else ""
    return QueryFailedError(
        503,
        f"the query was stopped: it reached the time limit of {timeout:g} s per query "
        f"(setting query_timeout, environment variable SMARTCITY_KG_QUERY_TIMEOUT); it ran "
        f"{seconds:.1f} s{queued}",
        retry_after=ceil(timeout),
        seconds=seconds,
        event="query_timeout",
    )


class _Worker:
    def __init__(
        self, process: subprocess.Popen[bytes], reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.process = process
        self.reader = reader
        self.writer = writer
        self.used = False  # has evaluated a query: its engine caches hold what that query read
        self.refreshing = False  # a fresh worker is starting to take its place at rest
        self.idle_since = 0.0  # loop time at which it last became idle

    async def receive(self) -> tuple[int, str, bool, bool, bytes]:
        """status, format, truncated, retiring (the worker exits after this answer), payload"""
        status, index, truncated, retiring, length = ANSWER.unpack(await self.reader.readexactly(ANSWER.size))
        return status, FORMATS[index], truncated, retiring, await self.reader.readexactly(length)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.writer.close()

    async def exit_signal(self) -> str | None:
        """The name of the signal that ended the worker, once it has ended (None if it exited or lingers)."""
        try:
            code = await asyncio.to_thread(self.process.wait, 2.0)
        except subprocess.TimeoutExpired:
            self.kill()
            return None
        return signal.Signals(-code).name if code < 0 else None


class QueryPool:
    """`workers` worker processes; up to `max_pending` queries wait for one, more are refused at once. A worker
    that has evaluated queries and then stays idle for `idle_seconds` (0: never) is replaced by a fresh one."""

    def __init__(
        self,
        *,
        workers: int,
        max_pending: int,
        timeout: float,
        memory_mb: int,
        rest_mb: int,
        idle_seconds: float,
        record: Callable[[str], None],
    ) -> None:
        self.size = workers
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.rest_mb = rest_mb
        self.idle_seconds = idle_seconds
        self.record = record  # counts the pool's own events ("worker_rested") in /metrics
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._queue: HandOver[_Worker] = HandOver(max_pending, timeout)
        self._starting: set[asyncio.Task[None]] = set()
        self._dying: set[_Worker] = set()
        self._closed = False
        self.network_isolated = True  # every worker so far runs in a network namespace of its own

    async def start(self) -> None:
        workers = await asyncio.gather(*(self._spawn() for _ in range(self.size)))
        self._idle.extend(workers)
        if self.idle_seconds > 0:
            self._track(self._give_back_at_rest())

    async def close(self) -> None:
        self._closed = True
        for task in self._starting:
            task.cancel()
        await asyncio.gather(*self._starting, return_exceptions=True)
        for worker in [*self._idle, *self._busy]:
            worker.kill()
        for worker in [*self._idle, *self._busy, *self._dying]:  # killed for replacement, perhaps never reaped
            await asyncio.to_thread(worker.process.wait)
        self._idle.clear()
        self._busy.clear()

    async def run(self, job: Job, deadline: float) -> Answer:
        """Evaluate `job` on a worker; QueryFailedError when refused, over `deadline` (loop time), or crashed."""
        worker = await self._acquire(deadline)
        began = time.monotonic()
        try:
            async with asyncio.timeout_at(deadline):
                worker.writer.write(job.frame())
                status, fmt, truncated, retiring, payload = await worker.receive()
        except TimeoutError:
            self._replace(worker)
            raise timed_out(self.timeout, time.monotonic() - began, began - (deadline - self.timeout)) from None
        except (asyncio.IncompleteReadError, ConnectionError):
            failure = await self._crashed(worker, time.monotonic() - began)  # before the kill that would mask it
            self._replace(worker)
            raise failure from None
        except BaseException:  # cancelled: the worker's state is unknown, so it is not reused
            self._replace(worker)
            raise
        if retiring:
            self._replace(worker)
        else:
            self._release(worker)
        return self._settle(status, fmt, truncated, payload, time.monotonic() - began)

    def row_limit(self, max_rows: int) -> int:
        """The most rows an answer holds (`max_rows`: the workers cut every result there)."""
        return max_rows

    def run_here(self, store: ReadStore, job: Job) -> Answer | None:
        """Evaluate `job` in this process, on the event loop's thread, on the store's engine (None for a store
        without one here): only for queries whose cost is bounded by one thing's triples (`Analysis.lookup`), where
        handing them to a worker would cost several times the evaluation (two wake-ups of another process) and the
        time limit can never be reached."""
        engine = store.engine
        if engine is None:
            return None
        began = time.monotonic()
        status, payload, fmt, truncated = answer(lambda: engine, job.fields()[2:], job.prefixes, again=True)
        return self._settle(status, fmt, truncated, payload, time.monotonic() - began)

    def _settle(self, status: int, fmt: str, truncated: bool, payload: bytes, seconds: float) -> Answer:
        """The answer of an evaluation, or the QueryFailedError its status stands for."""
        if status == Status.OK:
            return Answer(payload, fmt, truncated, seconds)
        message = payload.decode("utf-8", "replace")
        if status == Status.BAD_QUERY:
            raise QueryFailedError(400, message, seconds=seconds)
        if status == Status.NOT_ACCEPTABLE:
            raise QueryFailedError(406, message, seconds=seconds, not_acceptable=message)
        if status == Status.OUT_OF_MEMORY:
            raise self._out_of_memory(seconds)
        if status == Status.UNWRITABLE:
            raise QueryFailedError(
                406,
                f"the result cannot be written as {MEDIA_TYPES[fmt]} ({message}); ask for "
                "another format: Turtle and N-Triples can write every result",
                seconds=seconds,
            )
        log.error("query failed: %s", message)  # the engine's own words may name the server's files: logged only
        raise QueryFailedError(
            500,
            "the query could not be evaluated: the query engine failed (the details are in the server's log)",
            seconds=seconds,
        )

    def _out_of_memory(self, seconds: float) -> QueryFailedError:
        return QueryFailedError(
            503,
            f"the query was stopped: it needed more than the {self.memory_mb} MiB of "
            "memory a query may use (setting query_memory_mb)",
            retry_after=BUSY_RETRY_AFTER,
            seconds=seconds,
            event="query_memory_limit",
        )

    async def _crashed(self, worker: _Worker, seconds: float) -> QueryFailedError:
        name = await worker.exit_signal()
        if name == "SIGABRT":  # the engine aborts when an allocation fails, as over the worker's RLIMIT_DATA
            return self._out_of_memory(seconds)
        if name == "SIGKILL":  # not by this pool, which replaces the workers it kills: an operator or the OOM killer
            log.error("a query worker was killed from outside the service (SIGKILL) while it evaluated a query")
            return QueryFailedError(
                503,
                "the query's worker process was killed from outside the service (SIGKILL, "
                "by an operator or the system running out of memory); it has been "
                "replaced: try again",
                retry_after=BUSY_RETRY_AFTER,
                seconds=seconds,
                event="worker_crash",
            )
        log.error("a query worker died (%s) evaluating a query", name or "exited")
        return QueryFailedError(
            500,
            f"the query engine crashed evaluating this query ({name or 'exited'}); "
            "it has been restarted and other queries are unaffected, but this query "
            "cannot be answered",
            seconds=seconds,
            event="worker_crash",
        )

    async def _acquire(self, deadline: float) -> _Worker:
        while self._idle and self._idle[-1].process.poll() is not None:  # died while idle: never hand it a query
            self._replace(self._idle.pop())
        worker = self._idle.pop() if self._idle else await self._queue.wait(deadline, len(self._busy), self._release)
        self._busy.add(worker)
        worker.used = True
        return worker

    def _release(self, worker: _Worker) -> None:
        self._busy.discard(worker)
        if not self._queue.hand(worker):
            worker.idle_since = asyncio.get_running_loop().time()
            self._idle.append(worker)

    async def _give_back_at_rest(self) -> None:
        """Replace each worker that has evaluated queries and been idle `idle_seconds` since: the engine's caches
        it filled (about 90 MiB at a million triples, which `malloc_trim` does not return) go with it. A worker is
        replaced only when it has been idle that long itself, whatever its server process's siblings do."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(max(self.idle_seconds / 4, 0.05))
            now = loop.time()
            for worker in self._idle:
                if worker.used and not worker.refreshing and now - worker.idle_since >= self.idle_seconds:
                    worker.refreshing = True
                    self._track(self._refresh(worker, worker.idle_since))

    async def _refresh(self, rested: _Worker, idle_since: float) -> None:
        """Start a fresh worker, then put it in the place of `rested` if that one is still idle since `idle_since`
        (else it has been given a query meanwhile, and stays). `rested` answers queries until the swap, so a rest
        never leaves the pool a worker short."""
        try:
            fresh = await self._spawn()
        except (OSError, RuntimeError, asyncio.IncompleteReadError, TimeoutError) as error:
            log.warning("a fresh query worker could not be started (%s); the rested one stays", error)
            rested.refreshing = False
            return
        if rested in self._idle and rested.idle_since == idle_since:
            self._idle.remove(rested)
            self.record("worker_rested")
            self._release(fresh)
            discarded = rested
        else:
            rested.refreshing = False
            discarded = fresh
        discarded.kill()
        self._dying.add(discarded)  # reaped here, or by `close` should it cancel this first
        await asyncio.to_thread(discarded.process.wait)
        self._dying.discard(discarded)

    def _replace(self, worker: _Worker) -> None:
        self._busy.discard(worker)
        worker.kill()
        self._dying.add(worker)
        self._track(self._start_replacement(worker))

    def _track(self, starting: Coroutine[Any, Any, None]) -> None:
        """Run `starting` (which starts workers) as a task that closing the pool cancels and waits for."""
        task = asyncio.get_running_loop().create_task(starting)
        self._starting.add(task)
        task.add_done_callback(self._starting.discard)

    async def _start_replacement(self, dead: _Worker) -> None:
        try:
            await asyncio.to_thread(dead.process.wait)  # reap it
        finally:
            self._dying.discard(dead)
        while not self._closed:
            try:
                worker = await self._spawn()
            except (OSError, RuntimeError, asyncio.IncompleteReadError, TimeoutError) as error:
                log.error("a query worker could not be started (%s); trying again", error)
                await asyncio.sleep(1.0)
                continue
            self._release(worker)
            return

    async def _spawn(self) -> _Worker:
        ours, theirs = socket.socketpair()
        with theirs, contextlib.ExitStack() as failing:
            failing.callback(ours.close)  # unless the worker starts: its end would otherwise stay open
            process = subprocess.Popen(  # from the loop's thread: the worker's PDEATHSIG follows this thread
                [
                    sys.executable,
                    str(WORKER),
                    str(theirs.fileno()),
                    str(os.getpid()),
                    str(self.memory_mb),
                    str(self.rest_mb),
                ],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
            )
            failing.pop_all()
        reader, writer = await asyncio.open_connection(sock=ours)
        worker = _Worker(process, reader, writer)
        try:
            async with asyncio.timeout(START_TIMEOUT):
                status, _, _, _, note = await worker.receive()
        except BaseException:  # also when the pool closes meanwhile: reap the process, which SIGKILL ends at once
            worker.kill()
            await asyncio.to_thread(worker.process.wait)
            raise
        if status != Status.READY:
            worker.kill()
            raise RuntimeError(f"unexpected first answer from a query worker: {status}")
        if note != b"isolated":
            self.network_isolated = False
            log.warning("query worker %d runs %s", process.pid, note.decode())
        return worker
