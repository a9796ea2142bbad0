"""The published store as the service sees it: reopened when a new build is published, 503 while there is none."""

from __future__ import annotations

import threading
from pathlib import Path

from graph.published import StoreUnavailableError
from graph.store import EmbeddedStore, open_embedded

__all__ = ["StoreHolder"]


class StoreHolder:
    """Hands out the current build's store; follows `current` when a new build is swapped in."""

    def __init__(self, store_dir: Path) -> None:
        self.store_dir = store_dir
        self._lock = threading.Lock()
        self._target: Path | None = None
        self._store: EmbeddedStore | None = None

    def get(self) -> EmbeddedStore:
        """The store of the current build; raises StoreUnavailableError with what to do when there is none."""
        link = self.store_dir / "current"
        try:
            target = link.resolve(strict=True)
        except (FileNotFoundError, RuntimeError, OSError) as error:
            raise StoreUnavailableError(f"no published graph in {self.store_dir}; run `smartcity-kg build`") from error
        if target != self._target or self._store is None:
            with self._lock:
                if target != self._target or self._store is None:
                    try:
                        self._store = open_embedded(self.store_dir)
                    except OSError as error:
                        raise StoreUnavailableError(f"the published store cannot be opened: {error}") from error
                    self._target = target
        return self._store
