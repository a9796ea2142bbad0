"""Short links to queries (`/q/{id}`), kept in a small SQLite file in the service's store folder across restarts."""

from __future__ import annotations

import base64
import hashlib
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MAX_LINKS", "MAX_QUERY_BYTES", "VIEWS", "LinkStoreFullError", "QueryTooLongError", "ShortLink",
           "ShortLinks"]

FILE_NAME = "short-links.sqlite3"
# Bounds that keep the file small (at most about 80 MB) whoever calls: a longer query is shared by its full address.
MAX_QUERY_BYTES = 16_384
MAX_LINKS = 5_000
VIEWS = ("table", "map", "timeline", "chart", "graph")
ID_LENGTH = 10  # base32 characters of the text's SHA-256: 50 bits, so that links cannot be guessed one by one


class QueryTooLongError(ValueError):
    pass


class LinkStoreFullError(RuntimeError):
    pass


@dataclass(frozen=True)
class ShortLink:
    id: str
    query: str
    view: str


def link_id(query: str, view: str) -> str:
    """The same query and view always get the same link, so saving twice keeps one row."""
    digest = hashlib.sha256(f"{view}\n{query}".encode()).digest()
    return base64.b32encode(digest).decode().lower()[:ID_LENGTH]


class ShortLinks:
    """The links of one service; each call opens the file, so any thread may use it."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / FILE_NAME

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=5)
        connection.execute("CREATE TABLE IF NOT EXISTS link (id TEXT PRIMARY KEY, query TEXT NOT NULL, "
                           "view TEXT NOT NULL, created REAL NOT NULL)")
        return connection

    def save(self, query: str, view: str) -> ShortLink:
        size = len(query.encode())
        if size > MAX_QUERY_BYTES:
            raise QueryTooLongError(f"A short link holds a query of at most {MAX_QUERY_BYTES} bytes, and this one has "
                                    f"{size}; share the editor's address instead, which holds any query")
        link = ShortLink(link_id(query, view), query, view)
        with closing(self._connect()) as connection, connection:
            if connection.execute("SELECT 1 FROM link WHERE id = ?", (link.id,)).fetchone() is None:
                (count,) = connection.execute("SELECT COUNT(*) FROM link").fetchone()
                if count >= MAX_LINKS:
                    raise LinkStoreFullError(f"The service keeps at most {MAX_LINKS} short links and has no room "
                                             "for another; share the editor's address instead")
                connection.execute("INSERT INTO link VALUES (?, ?, ?, ?)", (link.id, query, view, time.time()))
        return link

    def load(self, link: str) -> ShortLink | None:
        if not self.path.is_file():
            return None
        with closing(self._connect()) as connection:
            row = connection.execute("SELECT query, view FROM link WHERE id = ?", (link,)).fetchone()
        return None if row is None else ShortLink(link, row[0], row[1])
