"""Short links to queries (`/q/{id}`), kept in a small SQLite file in the service's store folder across restarts."""

from __future__ import annotations

import base64
import hashlib
import sqlite3
import time
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path

from graph.errors import ServiceError

__all__ = [
    "MAX_LINKS",
    "MAX_QUERY_BYTES",
    "VIEWS",
    "QueryTooLongError",
    "ShortLink",
    "ShortLinks",
    "refuse_too_long",
]

FILE_NAME = "short-links.sqlite3"
# Bounds that keep the file small (at most about 80 MB) whoever calls: a longer query is shared by its full address.
MAX_QUERY_BYTES = 16_384
MAX_LINKS = 5_000
VIEWS = ("table", "map", "timeline", "chart", "graph")
ID_LENGTH = 10  # base32 characters of the text's SHA-256: 50 bits, so that links cannot be guessed one by one


class QueryTooLongError(ServiceError):
    """A query longer than a short link holds (413)."""

    status = 413


def refuse_too_long(query: str) -> None:
    """QueryTooLongError (413) for a query longer than a short link holds: asked before the query is read."""
    size = len(query.encode())
    if size > MAX_QUERY_BYTES:
        raise QueryTooLongError(
            None,
            f"A short link holds a query of at most {MAX_QUERY_BYTES} bytes, and this one has "
            f"{size}; share the editor's address instead, which holds any query",
        )


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
        # isolation_level=None: transactions are begun by hand, IMMEDIATE, so that counting and inserting are one step
        # for every thread and process writing the file.
        connection = sqlite3.connect(self.path, timeout=5, isolation_level=None)
        connection.execute(
            "CREATE TABLE IF NOT EXISTS link (id TEXT PRIMARY KEY, query TEXT NOT NULL, "
            "view TEXT NOT NULL, created REAL NOT NULL, used REAL)"
        )
        if "used" not in {row[1] for row in connection.execute("PRAGMA table_info(link)")}:
            # A file written before links were evicted; another connection may add the column meanwhile.
            with suppress(sqlite3.OperationalError):
                connection.execute("ALTER TABLE link ADD COLUMN used REAL")
        return connection

    def save(self, query: str, view: str) -> ShortLink:
        """Keep a link; beyond MAX_LINKS the least recently used links make room, so that nobody is refused."""
        refuse_too_long(query)
        link = ShortLink(link_id(query, view), query, view)
        now = time.time()
        with closing(self._connect()) as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.execute(
                    "INSERT INTO link VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET used = ?",
                    (link.id, query, view, now, now, now),
                )
                connection.execute(
                    "DELETE FROM link WHERE id IN (SELECT id FROM link ORDER BY COALESCE(used, created) "
                    "DESC LIMIT -1 OFFSET ?)",
                    (MAX_LINKS,),
                )
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        return link

    def load(self, link: str) -> ShortLink | None:
        if not self.path.is_file():
            return None
        with closing(self._connect()) as connection:
            row = connection.execute("SELECT query, view FROM link WHERE id = ?", (link,)).fetchone()
            if row is not None:  # opened: the last to be evicted
                connection.execute("UPDATE link SET used = ? WHERE id = ?", (time.time(), link))
        return None if row is None else ShortLink(link, row[0], row[1])
