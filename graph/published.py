"""The on-disk layout of published builds: `current` points at a complete build; anything else is never served."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from io import BytesIO
from pathlib import Path

from graph import __version__
from graph.errors import ServiceError
from graph.iris import Minter

__all__ = [
    "DAMAGED",
    "DUMP_FILES",
    "MARKER",
    "NOT_PUBLISHED",
    "Manifest",
    "StoreUnavailableError",
    "current_build",
    "read_manifest",
    "store_checksums",
    "store_of",
    "verify_store",
]

MARKER = "build.json"
DUMP_FILES = {"ttl": "graph.ttl", "nt.gz": "graph.nt.gz", "nq.gz": "graph.nq.gz", "jsonld": "graph.jsonld"}


# What clients are told (StoreUnavailableError.public): what to do, without the server's paths.
NOT_PUBLISHED = "no graph has been published here yet: run `smartcity-kg build`"
UNREADABLE = "the published build is unfinished or unreadable; repair it with `smartcity-kg build`"
DAMAGED = "the published store is damaged and cannot be opened; repair it with `smartcity-kg build`"


class StoreUnavailableError(ServiceError):
    """No complete published build where one was expected; the message says what to do (503, ask again later).

    `public` is what a client of the service is told: the same advice without the server's file paths or the
    storage engine's own words, which go to the log (the message itself is for the operator, and the CLI).
    """

    status = 503

    def __init__(self, message: str, public: str | None = None) -> None:
        super().__init__(None, message, public=public, headers={"Retry-After": "10"})


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
    # (file, SHA-256) of every file of the store the engine reads, checked whenever the build is opened: a store
    # damaged on disk can still open, and then make the engine allocate without bound (or open empty). The list is
    # required: a build whose list is missing or empty is refused, as the files never match it.
    store_checksums: tuple[tuple[str, str], ...] = ()

    @property
    def minter(self) -> Minter:
        """The IRIs of this build's namespace: minted, read back, and mapped to the paths that serve them."""
        return Minter(self.namespace)

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
        fields["store_checksums"] = tuple(
            (str(name), str(digest)) for name, digest in fields.get("store_checksums", ())
        )
        return Manifest(**fields)
    except FileNotFoundError as error:
        raise StoreUnavailableError(
            f"{build} has no completion marker ({MARKER}): it was never finished", UNREADABLE
        ) from error
    except (ValueError, TypeError) as error:
        raise StoreUnavailableError(f"{build}/{MARKER} is unreadable: {error}", UNREADABLE) from error


def current_build(store_dir: Path) -> tuple[Path, Manifest]:
    """The complete build that `store_dir/current` points at, or StoreUnavailableError saying what to do."""
    link = store_dir / "current"
    if not link.exists():
        raise StoreUnavailableError(
            f"no published graph in {store_dir}: run `smartcity-kg build --store {store_dir}`", NOT_PUBLISHED
        )
    build = link.resolve()
    return build, read_manifest(build)


# RocksDB's own lock and its diagnostic log: written by the engine, never read for data.
_NOT_DATA = re.compile(r"LOCK|LOG(\.old\.\d+)?")


def _data_files(folder: Path) -> list[Path]:
    """Every file of the store the engine reads, in a stable order: its tables (`*.sst`) and also the write-ahead
    log (`*.log`), `MANIFEST-*`, `CURRENT`, `OPTIONS-*` and `IDENTITY`. A truncated MANIFEST opens as an empty
    store, and a store opened for writing after publishing changes its log and MANIFEST: both are damage."""
    return sorted(file for file in folder.iterdir() if file.is_file() and not _NOT_DATA.fullmatch(file.name))


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
    """StoreUnavailableError with the repair command when the files of the store in `folder` are not those that
    were published: one missing, changed or added, or no record of them at all (`expected` empty)."""
    recorded = dict(expected)
    present = {file.name: file for file in _data_files(folder)} if folder.is_dir() else {}
    changed = sorted(set(recorded) ^ set(present)) or [
        name for name, digest in sorted(recorded.items()) if _digest(present[name]) != digest
    ]
    if changed or not recorded:
        what = f"{changed[0]} is not the file that was published" if changed else "its files were not recorded"
        raise StoreUnavailableError(
            f"the published store is damaged ({what}) and cannot be opened; repair it with "
            f"`smartcity-kg build --store {store_dir}`",
            DAMAGED,
        )
