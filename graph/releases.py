"""Releases: each published build gets a version, checksummed dumps and the statements changed since the last one.

A release is a folder `releases/{version}/` beside the builds. It keeps, for good, `release.json` (version, date,
counts, the things changed), `SHA256SUMS` and the patch against the previous release (`added.nq.gz`,
`removed.nq.gz`); its dumps (hard links to the build's files, named with the version) stay for the configured
number of past releases. The patch is computed by walking the two releases' N-Quads dumps side by side, line by line
(both are sorted as bytes), so neither graph is ever held in memory.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from graph.iris import owner
from graph.published import DUMP_FILES

__all__ = [
    "ADDED",
    "CHECKSUMS",
    "KEEP_RELEASES",
    "REMOVED",
    "Release",
    "ThingChange",
    "checksum_lines",
    "dump_name",
    "next_version",
    "prune_releases",
    "read_releases",
    "release_dir",
    "sha256_file",
    "thing_of",
    "write_patch",
    "write_release",
]

RELEASES = "releases"
RELEASE_FILE = "release.json"
CHECKSUMS = "SHA256SUMS"
ADDED, REMOVED = "added.nq.gz", "removed.nq.gz"
KEEP_RELEASES = 5
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ThingChange:
    """How many statements about one thing (its IRI without a fragment) a release added and removed."""

    iri: str
    added: int
    removed: int


@dataclass(frozen=True)
class Release:
    """What `release.json` records. `things` is empty for the first release, which adds everything."""

    version: str
    build_id: str
    date: str  # when the data last changed, as of this release (ISO 8601, UTC); later than the previous release's
    previous: str | None
    triples: int
    added: int
    removed: int
    things: tuple[ThingChange, ...] = ()
    files: dict[str, str] = field(default_factory=dict)  # versioned dump name → SHA-256 (hex)
    sizes: dict[str, int] = field(default_factory=dict)  # versioned dump name → bytes
    kept: bool = True  # whether the dumps are still downloadable (false once pruned)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Release:
        raw = json.loads(text)
        raw["things"] = tuple(ThingChange(**thing) for thing in raw.get("things", ()))
        return cls(**raw)


def release_dir(store_dir: Path) -> Path:
    return store_dir / RELEASES


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def dump_name(version: str, name: str) -> str:
    """The name a build's dump has in its release: `graph.nt.gz` of 2026.12.1 is `smartcity-kg-2026.12.1.nt.gz`."""
    return f"smartcity-kg-{version}.{name.removeprefix('graph.')}"


def read_releases(store_dir: Path) -> list[Release]:
    """Every recorded release, newest first (the folders of unfinished ones start with a dot and are skipped)."""
    folder = release_dir(store_dir)
    if not folder.is_dir():
        return []
    releases = [
        Release.from_json((entry / RELEASE_FILE).read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if not entry.name.startswith(".") and (entry / RELEASE_FILE).is_file()
    ]
    return sorted(releases, key=lambda release: _version_key(release.version), reverse=True)


def next_version(previous: Release | None, modified: str) -> tuple[str, str]:
    """The version and date of the release after `previous` for data last changed at `modified`.

    Both come from the data and the previous release only, never from the clock: the date is the data's newest
    change, moved to a second after the previous release's date when it is not later (data restored from an older
    state), so dates, and with them Last-Modified, only ever go forward. The version is the date's year and month
    and a counter that starts at 1 in each month: 2026.12.1, 2026.12.2, 2027.1.1.
    """
    date = datetime.fromisoformat(modified).astimezone(UTC)
    counter = 1
    if previous is not None:
        before = datetime.fromisoformat(previous.date).astimezone(UTC)
        date = max(date, before + timedelta(seconds=1))
        year, month, number = _version_key(previous.version)
        if (year, month) == (date.year, date.month):
            counter = number + 1
    return f"{date.year}.{date.month}.{counter}", date.isoformat(timespec="seconds")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def checksum_lines(checksums: dict[str, str]) -> str:
    """`sha256sum` output for these files: hash, two spaces (text mode, as coreutils writes by default), name."""
    return "".join(f"{digest}  {name}\n" for name, digest in sorted(checksums.items()))


def thing_of(line: bytes) -> str:
    """The thing an N-Quads statement is about: its subject, without a fragment (`{thing}#citation-1` is part of
    `{thing}`)."""
    subject = line[: line.index(b" ")].decode()
    return owner(subject[1:-1]) if subject.startswith("<") else subject


def _lines(path: Path) -> Iterator[bytes]:
    with gzip.open(path, "rb") as file:
        for line in file:
            yield line.rstrip(b"\n")


def _sorted(lines: Iterable[bytes]) -> Iterator[bytes]:
    """`lines`, checked to be in byte order: a merge of unsorted input would report lines as changed that are not."""
    last = b""
    for line in lines:
        if line < last:
            raise RuntimeError("a release's N-Quads dump is not sorted; its changes cannot be computed")
        last = line
        yield line


def _diff(old: Iterable[bytes], new: Iterable[bytes]) -> Iterator[tuple[bool, bytes]]:
    """(True, line) for each line only in `new`, (False, line) for each only in `old`; both sorted as bytes.

    A merge of the two sorted streams: memory stays the same whatever their length.
    """
    olds, news = _sorted(old), _sorted(new)
    a, b = next(olds, None), next(news, None)
    while a is not None and b is not None:
        if a < b:
            yield False, a
            a = next(olds, None)
        elif b < a:
            yield True, b
            b = next(news, None)
        else:  # in both: unchanged
            a, b = next(olds, None), next(news, None)
    while a is not None:
        yield False, a
        a = next(olds, None)
    while b is not None:
        yield True, b
        b = next(news, None)


def write_patch(old: Path, new: Path, folder: Path) -> tuple[int, int, tuple[ThingChange, ...]]:
    """Write the added and removed statements of `new` against `old`; their counts, and the counts per thing."""
    counts: dict[str, list[int]] = {}
    added = removed = 0
    with (
        gzip.GzipFile(folder / ADDED, "wb", 9, mtime=0) as plus,
        gzip.GzipFile(folder / REMOVED, "wb", 9, mtime=0) as minus,
    ):
        for is_added, line in _diff(_lines(old), _lines(new)):
            (plus if is_added else minus).write(line + b"\n")
            count = counts.setdefault(thing_of(line), [0, 0])
            count[0 if is_added else 1] += 1
            added += is_added
            removed += not is_added
    return added, removed, tuple(ThingChange(iri, a, r) for iri, (a, r) in sorted(counts.items()))


def write_release(
    store_dir: Path,
    build: Path,
    *,
    build_id: str,
    version: str,
    date: str,
    triples: int,
    previous: Release | None,
    checksums: dict[str, str],
) -> Release:
    """Record the build in `build` as release `version`: its dumps under their versioned names, SHA256SUMS, and
    the patch against `previous`. Written aside and renamed into place, so a release is recorded whole or not at
    all."""
    folder = release_dir(store_dir)
    folder.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(folder)
    work = folder / f".tmp-{version}-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        files, sizes = {}, {}
        for name in DUMP_FILES.values():
            versioned = dump_name(version, name)
            _link(build / "dumps" / name, work / versioned)
            files[versioned], sizes[versioned] = checksums[name], (work / versioned).stat().st_size
        (work / CHECKSUMS).write_text(checksum_lines(files), encoding="utf-8")
        added, removed, things = triples, 0, tuple[ThingChange, ...]()
        if previous is not None:
            old = folder / previous.version / dump_name(previous.version, DUMP_FILES["nq.gz"])
            if not old.is_file():
                raise RuntimeError(
                    f"the N-Quads dump of the previous release {previous.version} is missing ({old}): "
                    "the changes cannot be computed"
                )
            added, removed, things = write_patch(old, build / "dumps" / DUMP_FILES["nq.gz"], work)
        release = Release(
            version,
            build_id,
            date,
            previous.version if previous else None,
            triples,
            added,
            removed,
            things,
            files,
            sizes,
        )
        (work / RELEASE_FILE).write_text(release.to_json(), encoding="utf-8")
        final = folder / version
        shutil.rmtree(final, ignore_errors=True)
        work.rename(final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return release


def _link(source: Path, target: Path) -> None:
    # A hard link: the release shares the build's file, which outlives the build folder once that is removed.
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def prune_releases(store_dir: Path, keep: int) -> None:
    """Remove the dumps of releases older than the newest `keep` past ones. The current release is never touched,
    and the record of every release (release.json, SHA256SUMS, the patch) stays for good."""
    for release in read_releases(store_dir)[keep + 1 :]:
        if not release.kept:
            continue
        folder = release_dir(store_dir) / release.version
        # Marked first: a prune killed half-way leaves a release saying its dumps are gone, never one promising
        # files it no longer has.
        marked = folder / f".{RELEASE_FILE}-{os.getpid()}"
        marked.write_text(replace(release, kept=False).to_json(), encoding="utf-8")
        marked.replace(folder / RELEASE_FILE)
        for name in release.files:
            (folder / name).unlink(missing_ok=True)


def _remove_abandoned(folder: Path) -> None:
    """Folders of releases whose build was killed before finishing (their process is gone)."""
    for work in folder.glob(".tmp-*"):
        pid = work.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or not Path(f"/proc/{pid}").exists():
            shutil.rmtree(work, ignore_errors=True)
