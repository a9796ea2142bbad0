"""One socket write per answer: what the HTTP server writes in one turn of the event loop goes out in one system call.

uvicorn writes a response's head when the app starts it and the body when the app sends it: two writes, each a
system call and a TCP segment of its own, for an answer of a few kB (a SPARQL lookup's: a fifth of the server's time
per lookup went to those writes). `CoalescingTransport` keeps what is written until the event loop's next turn, or
until it holds `FLUSH_BYTES`, and hands it to the socket's transport in one `writelines` (one vectored write, no
copy). Large answers are not held back: a chunk of `FLUSH_BYTES` or more is passed on at once, so the transport's
flow control (pausing a sender whose client does not read) sees every chunk as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

__all__ = ["FLUSH_BYTES", "CoalescingTransport"]

FLUSH_BYTES = 16 * 1024


class CoalescingTransport(asyncio.Transport):
    """`transport`, with the writes of one turn of the event loop passed on together (see the module)."""

    def __init__(self, transport: asyncio.Transport) -> None:
        super().__init__()
        self.transport = transport
        self._pending: list[bytes | bytearray | memoryview] = []
        self._size = 0
        self._scheduled = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        self._pending.append(data)
        self._size += len(data)
        if self._size >= FLUSH_BYTES:
            self.flush()
        elif not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush_scheduled)

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        for data in list_of_data:
            self.write(data)

    def _flush_scheduled(self) -> None:
        self._scheduled = False
        self.flush()

    def flush(self) -> None:
        """Pass what is held on to the socket's transport now (dropped if the connection is closing: nobody reads)."""
        if not self._pending:
            return
        pending, self._pending, self._size = self._pending, [], 0
        if not self.transport.is_closing():
            self.transport.writelines(pending)

    def close(self) -> None:
        self.flush()  # a response ending with `Connection: close` is written whole first
        self.transport.close()

    def abort(self) -> None:
        self._pending, self._size = [], 0
        self.transport.abort()

    def write_eof(self) -> None:
        self.flush()
        self.transport.write_eof()

    def can_write_eof(self) -> bool:
        return self.transport.can_write_eof()

    def get_write_buffer_size(self) -> int:
        return self._size + self.transport.get_write_buffer_size()

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self.transport.get_write_buffer_limits()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self.transport.set_write_buffer_limits(high, low)

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.transport.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self.transport.pause_reading()

    def resume_reading(self) -> None:
        self.transport.resume_reading()

    def is_reading(self) -> bool:
        return self.transport.is_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.flush()
        self.transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self.transport.get_protocol()
