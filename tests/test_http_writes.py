"""One write per answer: a response's head and a small body reach the socket in one write, large answers still
go chunk by chunk under the transport's flow control, and nothing is lost or reordered on a kept-alive connection."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Coroutine, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from starlette.types import Message

from api.http.writes import FLUSH_BYTES, CoalescingTransport
from api.sparql.answer_stream import CHUNK, StreamedAnswer
from tests.conftest import Server

HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n"
T = TypeVar("T")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` in a thread of its own: in a whole test run, Playwright's synchronous API (the browser tests)
    leaves an event loop running in the main thread."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


class _Socket(asyncio.Transport):
    """A socket's transport that records each write it is handed: each one is a system call on a real socket."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        self.writes.append(b"".join(list_of_data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True


def test_head_and_body_written_in_one_turn_go_out_in_one_write() -> None:
    async def scenario() -> list[bytes]:
        sock = _Socket()
        transport = CoalescingTransport(sock)
        transport.write(HEAD)
        transport.write(b"")
        transport.write(b"body")
        assert sock.writes == []  # held until the event loop's next turn
        await asyncio.sleep(0)
        return sock.writes

    assert _run(scenario()) == [HEAD + b"body"]


def test_a_large_write_is_passed_on_at_once_for_flow_control() -> None:
    async def scenario() -> None:
        sock = _Socket()
        transport = CoalescingTransport(sock)
        chunk = b"x" * FLUSH_BYTES
        transport.write(HEAD)
        transport.write(chunk)  # the transport must see it now: it pauses a sender whose client does not read
        assert sock.writes == [HEAD + chunk]
        transport.write(b"last")
        transport.close()  # a response ending the connection is written whole before it closes
        assert sock.writes[-1] == b"last" and sock.closed
        await asyncio.sleep(0)
        assert len(sock.writes) == 2

    _run(scenario())


def test_nothing_is_written_once_the_connection_is_aborted() -> None:
    async def scenario() -> list[bytes]:
        sock = _Socket()
        transport = CoalescingTransport(sock)
        transport.write(HEAD)
        transport.abort()
        await asyncio.sleep(0)
        return sock.writes

    assert _run(scenario()) == []


def _messages(payload: bytes, method: str = "GET") -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    answer = StreamedAnswer(payload, "application/sparql-results+json")
    _run(answer({"type": "http", "method": method, "headers": []}, receive, send))
    return sent


def test_a_small_answer_is_one_body_message() -> None:
    start, *bodies = _messages(b'{"boolean": true}')
    assert start["type"] == "http.response.start"
    assert bodies == [{"type": "http.response.body", "body": b'{"boolean": true}'}]


def test_a_large_answer_goes_chunk_by_chunk_and_ends_with_its_last_chunk() -> None:
    payload = bytes(range(256)) * (2 * CHUNK // 256) + b"tail"
    start, *bodies = _messages(payload)
    assert [len(body["body"]) for body in bodies] == [CHUNK, CHUNK, 4]
    assert [body.get("more_body", False) for body in bodies] == [True, True, False]
    assert b"".join(body["body"] for body in bodies) == payload
    assert dict(start["headers"])[b"content-length"] == str(len(payload)).encode()
    # A HEAD is sent what a GET is (the HTTP server writes no body to it), so that compression gives it a GET's head.
    assert _messages(payload, "HEAD") == _messages(payload)


def test_pipelined_requests_are_answered_whole_and_in_order(live_server: Server) -> None:
    # Several requests sent at once on one connection: their answers, written through the coalescing transport,
    # arrive complete and in the order asked.
    host, port = live_server.url.removeprefix("http://").split(":")
    queries = ["ASK {}", "ASK { FILTER(false) }", "SELECT (1 AS ?one) {}"]
    requests = b"".join(
        f"POST /sparql HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/sparql-query\r\n"
        f"Content-Length: {len(query)}\r\n\r\n{query}".encode()
        for query in queries
    )
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(requests + b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    bodies = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head
        length = next(
            int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
        )
        bodies.append(rest[:length])
        data = rest[length:]
    assert bodies[0] == b'{"head":{},"boolean":true}' and bodies[1] == b'{"head":{},"boolean":false}'
    assert b'"one"' in bodies[2] and len(bodies) == 4
