"""The on-disk layout of published builds: `current` points at a complete build; anything else is never served."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from io import BytesIO
from pathlib import Path

from graph import __version__

__all__ = ["DUMP_FILES", "MARKER", "Manifest", "StoreUnavailableError", "current_build", "read_manifest"]

MARKER = "build.json"
DUMP_FILES = {"ttl": "graph.ttl", "nt.gz": "graph.nt.gz", "nq.gz": "graph.nq.gz", "jsonld": "graph.jsonld"}


class StoreUnavailableError(Exception):
    """No complete published build where one was expected; the message says what to do."""


@dataclass(frozen=True)
class Manifest:
    """Written last into a build folder: its presence marks the build complete."""

    build_id: str
    triples: int
    modified: str
    namespace: str
    version: str
    data_files: int

    @classmethod
    def for_nquads(cls, nquads: bytes | Path, namespace: str, modified: str, data_files: int) -> Manifest:
        """The manifest of a build (its N-Quads, or the file holding them): its id is a hash of its content, so the
        same data is the same build."""
        digest, lines = hashlib.sha256(), 0
        with BytesIO(nquads) if isinstance(nquads, bytes) else nquads.open("rb") as content:
            for chunk in iter(lambda: content.read(1 << 20), b""):
                digest.update(chunk)
                lines += chunk.count(b"\n")
        return cls(digest.hexdigest()[:16], lines, modified, namespace, __version__, data_files)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)


def read_manifest(build: Path) -> Manifest:
    try:
        return Manifest(**json.loads((build / MARKER).read_text(encoding="utf-8")))
    except FileNotFoundError as error:
        raise StoreUnavailableError(f"{build} has no completion marker ({MARKER}): it was never finished") from error
    except (ValueError, TypeError) as error:
        raise StoreUnavailableError(f"{build}/{MARKER} is unreadable: {error}") from error


def current_build(store_dir: Path) -> tuple[Path, Manifest]:
    """The complete build that `store_dir/current` points at, or StoreUnavailableError saying what to do."""
    link = store_dir / "current"
    if not link.exists():
        raise StoreUnavailableError(f"no published graph in {store_dir}: run `smartcity-kg build --store {store_dir}`")
    build = link.resolve()
    return build, read_manifest(build)
