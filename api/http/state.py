"""The published store as the service sees it: reopened when a new build is published, 503 while there is none."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from graph.published import NOT_PUBLISHED, StoreUnavailableError
from graph.remote import RemoteEndpoints, RemoteStore
from graph.settings import Settings
from graph.store import EmbeddedStore, QueryServer, ReadStore, open_embedded

__all__ = ["StoreHolder"]


class StoreHolder:
    """Hands out the current build's store: the embedded one (following `current` when a new build is swapped
    in) or, with `sparql_endpoint` set, the remote server's (checked on each use, so the service recovers by
    itself when the server returns)."""

    def __init__(self, settings: Settings) -> None:
        self.store_dir: Path = settings.store
        # The store, from the start, when it evaluates a client's query itself; None when the service does (in
        # worker processes that open each build as it is published).
        self.server: QueryServer | None = None
        if settings.sparql_endpoint is not None:
            self.server = RemoteStore(
                RemoteEndpoints.from_settings(settings), settings.namespace, timeout=settings.query_timeout
            )
        self._lock = threading.Lock()
        self._link = str(self.store_dir / "current")
        self._target: tuple[int, int, int] | None = None
        self._store: EmbeddedStore | None = None

    def get(self) -> ReadStore:
        """The store of the current build; raises StoreUnavailableError with what to do when there is none."""
        if self.server is not None:
            self.server.manifest  # noqa: B018 - raises StoreUnavailableError while the server is away
            return self.server
        try:
            # One system call per request. Publishing replaces the link with a new one, even when it names a build
            # served before (data restored to an earlier state is that build again, as a newer release): the link's
            # own inode and times tell each publication apart, where its text would not. (Resolving the whole path
            # costs a stat per component, and pathlib objects more than the call itself.)
            link = os.lstat(self._link)
            target = (link.st_ino, link.st_mtime_ns, link.st_ctime_ns)
        except OSError as error:
            raise StoreUnavailableError(
                f"no published graph in {self.store_dir}; run `smartcity-kg build`", NOT_PUBLISHED
            ) from error
        if target != self._target or self._store is None:
            with self._lock:
                if target != self._target or self._store is None:
                    self._store = open_embedded(self.store_dir)
                    self._target = target
        return self._store

    def check(self) -> ReadStore:
        """`get`, with the store verified now (a remote server asked rather than its last answer trusted, and
        whether it still holds every statement of the published graphs), for /health."""
        store = self.server if self.server is not None else self.get()
        store.verify()
        return store

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
