"""The on-disk layout of published builds: `current` points at a complete build; anything else is never served."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from io import BytesIO
from pathlib import Path

from graph import __version__

__all__ = ["DUMP_FILES", "MARKER", "Manifest", "StoreUnavailableError", "current_build", "read_manifest",
           "store_checksums", "store_of", "verify_store"]

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
    version: str  # of the software that built it
    data_files: int
    release: str = ""  # the data's version (graph.releases); empty where releases are not recorded (remote stores)
    previous_release: str | None = None
    checksums: dict[str, str] = field(default_factory=dict)  # dump file name → SHA-256 (hex)
    # (file, SHA-256) of each data file of the store, checked whenever the build is opened: a store damaged on
    # disk can still open, and then make the engine allocate without bound. Empty for builds written before.
    store_checksums: tuple[tuple[str, str], ...] = ()

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

    @property
    def key(self) -> str:
        """The build as this release: what everything derived from a served build is cached and tagged by.

        The build id alone is not enough: data restored to an earlier state is the same build published again as a
        newer release, with other dates, a longer history and a longer catalogue.
        """
        return f"{self.build_id}@{self.release}"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)


def read_manifest(build: Path) -> Manifest:
    try:
        fields = json.loads((build / MARKER).read_text(encoding="utf-8"))
        fields["store_checksums"] = tuple((str(name), str(digest))
                                          for name, digest in fields.get("store_checksums", ()))
        return Manifest(**fields)
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


def _data_files(folder: Path) -> list[Path]:
    """The store's data files (RocksDB's tables, which never change once written), in a stable order."""
    return sorted(folder.glob("*.sst"))


def _digest(file: Path) -> str:
    with file.open("rb") as data:
        return hashlib.file_digest(data, "sha256").hexdigest()


def store_of(build: Path) -> Path:
    """The store folder a build folder belongs to (`{store}/builds/{build_id}`)."""
    return build.parent.parent


def store_checksums(folder: Path) -> tuple[tuple[str, str], ...]:
    """(file name, SHA-256) of the store's data files in `folder`."""
    return tuple((file.name, _digest(file)) for file in _data_files(folder))


def verify_store(folder: Path, expected: tuple[tuple[str, str], ...], store_dir: Path) -> None:
    """StoreUnavailableError with the repair command when a data file of the store in `folder` is missing or
    differs from what was published."""
    if not expected:
        return
    for name, digest in expected:
        file = folder / name
        if not file.is_file() or _digest(file) != digest:
            raise StoreUnavailableError(f"the published store is damaged ({name} is not the file that was "
                                        f"published) and cannot be opened; repair it with `smartcity-kg build "
                                        f"--store {store_dir}`")
