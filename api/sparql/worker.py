"""A query worker process: evaluates one query at a time on the published store and sends back serialised bytes.

It runs as its own interpreter (`python worker.py FD PARENT_PID MEMORY_MB REST_MB`), importing only the
standard library and pyoxigraph, so that it starts in a fraction of a second and the parent can kill it at any
moment: pyoxigraph cannot interrupt a running query, and a query deep enough to overflow the engine's stack
would take down whichever process evaluated it. Before it reads a job the worker

- dies with its parent (PR_SET_PDEATHSIG), so no worker outlives a killed server;
- leaves the network (a network namespace of its own): even a query that slipped past the guard cannot reach
  another server, because the worker has none to reach;
- caps its memory (RLIMIT_DATA), so a query building a huge intermediate result dies alone;
- evaluates on a thread with a large stack, so deeply nested algebra ends in the time limit, not in a segfault.

Frames on the socket: a job is `!I` length + marshal((build, prefixes, query, base_iri, default_graphs, named_graphs,
union, results_format, graph_format, max_rows, max_bytes)); an answer is ANSWER (status, format index, truncated,
retiring, length) followed by that many bytes. A worker that still holds more than REST_MB of memory after a query
(glibc and the engine keep what a big query freed) says it is retiring in that answer and exits, and the pool starts
a fresh one: idle workers stay small, however heavy the queries they once ran.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import marshal
import os
import re
import resource
import signal
import socket
import struct
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

__all__ = ["ANSWER", "FORMATS", "JOB", "Outcome", "Status", "answer", "read_exactly", "write_outcome"]

JOB = struct.Struct("!I")
ANSWER = struct.Struct("!BB??I")  # status, index in FORMATS, truncated, retiring, payload length
Outcome = tuple[int, bytes, str, bool]  # status, payload, format, truncated


class Status:
    OK = 0
    BAD_QUERY = 1  # the parser's or the evaluator's message: the query's fault
    NOT_ACCEPTABLE = 2  # the result's kind has no acceptable format; payload: "results" or "graph"
    FAILED = 3  # anything else; payload: the message
    READY = 4  # sent once at start; payload: "isolated" or why the network could not be cut
    OUT_OF_MEMORY = 5  # Python's own allocations failed (the engine's abort the process instead)
    UNWRITABLE = 6  # the result cannot be written in the chosen format; payload: the writer's message


# This file runs as a bare interpreter (standard library and pyoxigraph only), so it keeps its own map from format
# names to the engine; a test holds it to the one table in graph/formats.py.
RESULT_FORMATS = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}
GRAPH_FORMATS = {
    "ttl": ox.RdfFormat.TURTLE,
    "jsonld": ox.RdfFormat.JSON_LD,
    "nt": ox.RdfFormat.N_TRIPLES,
    "rdfxml": ox.RdfFormat.RDF_XML,
}
FORMATS = (*RESULT_FORMATS, *GRAPH_FORMATS)
STACK_BYTES = 512 * 2**20  # reserved address space; only the pages a deep query touches are ever used
UNKNOWN_FUNCTION = re.compile(r"The custom function <(.+)> is not supported")
WRONG_ARITY = re.compile(r"The custom function <.+> requires .+ arguments, but \d+ were given")
MAX_UNKNOWN_FUNCTIONS = 32
PR_SET_PDEATHSIG = 1
CLONE_NEWUSER, CLONE_NEWNET = 0x10000000, 0x40000000
PAGE = os.sysconf("SC_PAGE_SIZE")


def read_exactly(sock: socket.socket, size: int) -> bytes | None:
    """`size` bytes from `sock`, or None when the other side has closed it."""
    chunks, missing = [], size
    while missing:
        chunk = sock.recv(min(missing, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def _answer(sock: socket.socket, outcome: Outcome, retiring: bool = False) -> None:
    status, payload, fmt, truncated = outcome
    sock.sendall(ANSWER.pack(status, FORMATS.index(fmt), truncated, retiring, len(payload)) + payload)


class Evaluator:
    """Keeps the build it was last asked about open; reopens when a job names a newer build."""

    def __init__(self) -> None:
        self.build = ""
        self.store: ox.Store | None = None

    def open(self, build: str) -> ox.Store:
        if not Path(build).is_dir():  # removed by later publishes while the query waited: the current one answers
            build = str((Path(build).parent.parent / "current").resolve())
        if self.store is None or build != self.build:
            self.store = None  # release the old build's files before opening the new one
            self.store = ox.Store.read_only(str(Path(build) / "oxigraph"))
            self.build = build
        return self.store

    def run(self, job: tuple[Any, ...]) -> Outcome:
        return answer(lambda: self.open(job[0]), job[2:], job[1])


def answer(
    engine: Callable[[], ox.Store], job: tuple[Any, ...], prefixes: dict[str, str], *, again: bool = False
) -> Outcome:
    """The answer to a job (without its build) on the store `engine` gives: the query's own faults and the
    engine's failures become statuses, so that whoever evaluates it can answer the client. `again`: the job costs
    so little (a lookup) that it may be evaluated a second time, so its answer is first written directly in the
    chosen format (see `_whole`)."""
    try:
        return _evaluate_job(engine(), job, prefixes, again=again)
    except SyntaxError as error:
        return Status.BAD_QUERY, f"syntax error: {error}".encode(), "json", False
    except ValueError as error:
        return Status.BAD_QUERY, f"cannot evaluate: {error}".encode(), "json", False
    except MemoryError:
        return Status.OUT_OF_MEMORY, b"", "json", False
    except Exception as error:
        return Status.FAILED, f"{type(error).__name__}: {error}".encode(), "json", False


def _evaluate_job(store: ox.Store, job: tuple[Any, ...], prefixes: dict[str, str], *, again: bool) -> Outcome:
    query, base_iri, default_graphs, named_graphs, union, results_format, graph_format, max_rows, max_bytes = job
    if default_graphs is None and named_graphs is None:
        dataset: dict[str, Any] = {"use_default_graph_as_union": union}
    else:  # the protocol's dataset replaces the query's and the union alike
        dataset = {
            "default_graph": [ox.NamedNode(g) for g in default_graphs or ()],
            "named_graphs": [ox.NamedNode(g) for g in named_graphs or ()],
        }
    outcome = _evaluate(store, query, base_iri, dataset)
    fmt = (results_format if isinstance(outcome, ox.QuerySolutions) else graph_format) if again else ""
    if fmt and not isinstance(outcome, ox.QueryBoolean):
        whole = _whole(outcome, fmt, prefixes, min(max_bytes, max_rows * MIN_ROW_BYTES[fmt]))
        if whole is not None:
            return Status.OK, whole, fmt, False
        outcome = _evaluate(store, query, base_iri, dataset)  # longer (or unwritable): again, the usual way
    return write_outcome(
        outcome,
        results_format,
        graph_format,
        limits=(max_rows, max_bytes),
        prefixes=prefixes,
    )


def write_outcome(
    outcome: ox.QuerySolutions | ox.QueryBoolean | Iterable[ox.Triple],
    results_format: str,
    graph_format: str,
    *,
    limits: tuple[int, int],
    prefixes: dict[str, str],
) -> Outcome:
    """A query's outcome written in the chosen format, cut at `max_rows` and `max_bytes`: the engine's here, a
    remote server's (parsed and checked as it arrives) in the service, so that both answer alike."""
    max_rows, max_bytes = limits
    if not isinstance(outcome, ox.QuerySolutions | ox.QueryBoolean):
        if not graph_format:
            return Status.NOT_ACCEPTABLE, b"graph", "json", False
        try:
            payload, truncated = _first_triples(outcome, GRAPH_FORMATS[graph_format], prefixes, max_rows, max_bytes)
        except OSError as error:  # a writer refusing what its format cannot express (JSON-LD and triple terms)
            return Status.UNWRITABLE, str(error).encode(), graph_format, False
        return Status.OK, payload, graph_format, truncated
    if not results_format:
        return Status.NOT_ACCEPTABLE, b"results", "json", False
    fmt = RESULT_FORMATS[results_format]
    if isinstance(outcome, ox.QueryBoolean):
        return Status.OK, outcome.serialize(format=fmt) or b"", results_format, False
    payload, truncated = _first_rows(outcome, fmt, max_rows, max_bytes)
    return Status.OK, payload, results_format, truncated


def _first_triples(
    triples: Iterable[ox.Triple], fmt: ox.RdfFormat, prefixes: dict[str, str], max_rows: int, max_bytes: int
) -> tuple[bytes, bool]:
    """At most `max_rows` triples in `fmt` and at most `max_bytes` long, and whether there were more. The engine
    writes the first `max_rows` triples in `fmt` into a writer that stops it past `max_bytes`, keeping the triples
    it was handed: an answer whose text in `fmt` fits is sent whole, whatever its text in another format would
    take; a longer one is cut at the last triple whose text still fits."""
    kept: list[ox.Triple] = []
    more = False

    def first() -> Iterator[ox.Triple]:
        nonlocal more
        for triple in triples:
            if len(kept) == max_rows:
                more = True
                return
            kept.append(triple)
            yield triple

    whole = _written(lambda out: ox.serialize(first(), out, format=fmt, prefixes=prefixes), max_bytes)
    if whole is not None:
        return whole, more

    def write(count: int) -> bytes:
        return ox.serialize(kept[:count], format=fmt, prefixes=prefixes) or b""

    payload = write(len(kept))
    return (payload, True) if len(payload) <= max_bytes else _longest(len(kept), write, max_bytes, len(payload))


def _longest(count: int, write: Callable[[int], bytes], max_bytes: int, too_long: int) -> tuple[bytes, bool]:
    """The text `write` gives for the most of `count` rows (or triples) that fits in `max_bytes` (no fewer than
    none), and True: the answer was cut. `too_long` is the length of all `count` rows, over the limit. A format's
    text grows with every row it holds, so the count is searched between one that fits and one that does not:
    first guessed from their lengths (rows alike in length take two or three guesses), then halved (so that
    however unlike they are, each write halves what is left)."""
    best = write(0)
    low, low_size, high, high_size = 0, len(best), count, too_long
    guesses = 4
    while high - low > 1:
        guess = low + (max_bytes - low_size) * (high - low) // max(high_size - low_size, 1)
        middle = min(max(guess, low + 1), high - 1) if guesses else (low + high) // 2
        guesses = max(guesses - 1, 0)
        payload = write(middle)
        if len(payload) <= max_bytes:
            low, low_size, best = middle, len(payload), payload
        else:
            high, high_size = middle, len(payload)
    return best, True


def _unbound(*_: object) -> None:
    return None


def _evaluate(
    store: ox.Store, query: str, base_iri: str, dataset: dict[str, Any]
) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
    """Evaluate; a function the engine does not know is an expression error (an unbound value), as SPARQL says,
    rather than a refusal of the whole query, so each one found is declared as a function without a value."""
    unknown: dict[ox.NamedNode, Any] = {}
    while True:
        try:
            return store.query(query, base_iri=base_iri, custom_functions=unknown or None, **dataset)
        except RuntimeError as error:
            if WRONG_ARITY.fullmatch(str(error)):  # a cast such as xsd:integer() called with no argument
                raise ValueError(str(error)) from None
            function = UNKNOWN_FUNCTION.fullmatch(str(error))
            if function is None:
                raise
            if len(unknown) >= MAX_UNKNOWN_FUNCTIONS:
                raise ValueError(f"the query calls more than {MAX_UNKNOWN_FUNCTIONS} unknown functions") from None
            unknown[ox.NamedNode(function[1])] = _unbound


# The fewest bytes a row takes in each format (a row without bindings: `{}` in JSON, `<result></result>` in XML,
# the line's end in CSV and TSV; a triple: its object, at least a character): an answer of N bytes holds at most
# N / MIN_ROW_BYTES rows (no writer leaves out a repeated triple).
MIN_ROW_BYTES = {"json": 2, "xml": 17, "csv": 2, "tsv": 1, "ttl": 1, "jsonld": 1, "nt": 1, "rdfxml": 1}


def _whole(outcome: ox.QuerySolutions | ox.QueryTriples, fmt: str, prefixes: dict[str, str], room: int) -> bytes | None:
    """The whole outcome written by the engine directly in `fmt`, when it takes at most `room` bytes (so few that
    neither the row limit nor the byte limit can cut it): the bytes `_first_rows` and `_first_triples` give such an
    answer, without the rows written as TSV and read back, or the triples made into Python objects. None for a
    longer answer (the engine is stopped a write buffer past `room`) and for one the format cannot write."""
    try:
        if isinstance(outcome, ox.QuerySolutions):
            solutions = outcome
            return _written(lambda out: solutions.serialize(out, format=RESULT_FORMATS[fmt]), room)
        return _written(lambda out: ox.serialize(outcome, out, format=GRAPH_FORMATS[fmt], prefixes=prefixes), room)
    except OSError:  # JSON-LD and triple terms, answered by `write_outcome`
        return None


def _written(write: Callable[[_Lines], object], limit: int) -> bytes | None:
    """What `write` writes into a writer that stops it past `limit` bytes; None when it was stopped."""
    out = _Lines(sys.maxsize, limit)  # the bytes bound it, not the lines
    with contextlib.suppress(_Lines.FullError):
        write(out)
    return None if out.full else out.getvalue()


def _first_rows(
    solutions: ox.QuerySolutions, fmt: ox.QueryResultsFormat, max_rows: int, max_bytes: int
) -> tuple[bytes, bool]:
    """At most `max_rows` solutions in `fmt` and at most `max_bytes` long, and whether there were more.

    pyoxigraph serialises a whole iterator and cannot build one from a list, so the engine writes the solutions
    as TSV (one line a row) into a writer that stops it once it has more than max_rows rows or max_bytes bytes,
    and the first rows are read back into a QuerySolutions to serialise: the bytes are identical to serialising
    the solutions directly, and the evaluation stops a write buffer past the limit. Where the chosen format
    writes the rows longer than TSV does, rows are dropped until it fits. CSV writes rows shorter than TSV (no
    brackets, quotes or datatypes) and cannot be read back, so it is written directly and cut at a row's end.
    """
    if fmt == ox.QueryResultsFormat.CSV:
        return _first_csv_rows(solutions, max_rows, max_bytes)
    table = _Lines(max_rows + 2, max_bytes)  # the header, max_rows rows, and one more to know the result was cut
    with contextlib.suppress(_Lines.FullError):
        solutions.serialize(table, format=ox.QueryResultsFormat.TSV)
    lines = table.getvalue().split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    truncated = table.full
    rows = max(min(len(lines) - 1 - truncated, max_rows), 0)  # a row the writer was stopped in: not kept
    truncated = truncated or len(lines) - 1 > rows

    def write(count: int) -> bytes:
        capped = ox.parse_query_results(b"\n".join(lines[: count + 1]) + b"\n", format=ox.QueryResultsFormat.TSV)
        assert isinstance(capped, ox.QuerySolutions)
        return capped.serialize(format=fmt) or b""

    payload = write(rows)
    return (payload, truncated) if len(payload) <= max_bytes else _longest(rows, write, max_bytes, len(payload))


def _first_csv_rows(solutions: ox.QuerySolutions, max_rows: int, max_bytes: int) -> tuple[bytes, bool]:
    """`_first_rows` in CSV: written by the engine into a writer that stops it past `max_bytes` or at the row after
    `max_rows` (counting line ends: a value holding one only stops it early), then cut after the last whole row
    that fits. A row ends at a CRLF outside quotes, that is after an even number of quotes (CSV doubles them)."""
    table = _Lines(max_rows + 2, max_bytes, end=b"\r\n")
    with contextlib.suppress(_Lines.FullError):
        solutions.serialize(table, format=ox.QueryResultsFormat.CSV)
    text = table.getvalue()
    ends: list[int] = []
    start = quotes = 0
    while len(ends) <= max_rows + 1 and (end := text.find(b"\r\n", start)) >= 0:
        quotes += text.count(b'"', start, end)
        start = end + 2
        if quotes % 2 == 0 and start <= max_bytes:
            ends.append(start)
    if not table.full and len(ends) <= max_rows + 1:
        return text, False
    return text[: ends[min(len(ends) - 1, max_rows)]] if ends else b"", True


class _Lines(io.BytesIO):
    """A file for pyoxigraph's writers that stops the writing (raises FullError) once it holds `limit` lines (ends
    of a line: `end`, CRLF for CSV) or more than `max_bytes` bytes; `full` says the writer was stopped."""

    class FullError(Exception):
        pass

    def __init__(self, limit: int, max_bytes: int, end: bytes = b"\n") -> None:
        super().__init__()
        self.limit = limit
        self.max_bytes = max_bytes
        self.end = end
        self.lines = 0
        self.full = False

    def write(self, chunk: ReadableBuffer) -> int:
        if self.full:  # the writer's final flush after FullError: it already holds what is needed
            raise self.FullError
        data = bytes(chunk)
        room = self.max_bytes + 1 - self.tell()
        written = super().write(data[:room])
        self.lines += data.count(self.end, 0, room)
        if self.lines >= self.limit or len(data) >= room:
            self.full = True
            raise self.FullError
        return written


def _cut_network() -> str:
    """Enter a network namespace of our own (no interface but a down loopback); say how it went."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) == 0:
        return "isolated"
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0:
        # Map our own ids into the new user namespace so that the store's files stay readable.
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
            Path(f"/proc/self/{name}").write_text(text, encoding="ascii")
        return "isolated"
    return f"not isolated from the network: {os.strerror(ctypes.get_errno())}"


def _serve(sock: socket.socket, evaluator: Evaluator, rest_bytes: int) -> None:
    libc = ctypes.CDLL(None)
    while (header := read_exactly(sock, JOB.size)) is not None:
        body = read_exactly(sock, JOB.unpack(header)[0])
        if body is None:
            return
        outcome = evaluator.run(marshal.loads(body))
        retiring = _keeps_too_much(libc, rest_bytes)
        _answer(sock, outcome, retiring)
        if retiring:
            return


def _keeps_too_much(libc: ctypes.CDLL, rest_bytes: int) -> bool:
    """Whether this process holds more than `rest_bytes` even after giving freed heap back to the system."""
    if _resident() <= rest_bytes:
        return False
    libc.malloc_trim(0)
    return _resident() > rest_bytes


def _resident() -> int:
    return int(Path("/proc/self/statm").read_bytes().split()[1]) * PAGE


def main(argv: list[str]) -> None:
    fd, parent, memory_mb, rest_mb = (int(argv[1]), int(argv[2]), int(argv[3]), int(argv[4]))
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above took effect
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal reaches the whole group: the parent decides
    isolation = _cut_network()
    limit = memory_mb * 2**20 + STACK_BYTES
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    sock = socket.socket(fileno=fd)
    _answer(sock, (Status.READY, isolation.encode(), "json", False))
    threading.stack_size(STACK_BYTES)
    thread = threading.Thread(target=_serve, args=(sock, Evaluator(), rest_mb * 2**20), name="evaluate")
    thread.start()
    thread.join()


if __name__ == "__main__":
    main(sys.argv)
