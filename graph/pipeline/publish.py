"""Step 4 of the pipeline: write the store and dumps beside the published ones, verify, then swap atomically."""

from __future__ import annotations

import fcntl
import gzip
import heapq
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from itertools import islice
from pathlib import Path

import pyoxigraph as ox

from graph._convert import sorted_unique
from graph.formats import JSON_LD, TURTLE
from graph.prefixes import prefixes as prefix_map
from graph.published import (
    DUMP_FILES,
    MARKER,
    Manifest,
    StoreUnavailableError,
    read_manifest,
    store_checksums,
    verify_store,
)
from graph.releases import KEEP_RELEASES, next_version, prune_releases, read_releases, sha256_file, write_release

__all__ = ["publish_store"]

Step = Callable[[str], None]
_QUADS_AT_ONCE = 250_000


def publish_store(
    nquads: bytes | Path,
    store_dir: Path,
    *,
    namespace: str,
    modified: str,
    data_files: int,
    keep_releases: int = KEEP_RELEASES,
    step: Step = lambda _: None,
) -> Manifest:
    """Publish `nquads` (already validated, one quad a line, in stable order; or the file holding them) as the new
    current build. The file is read as a stream: the memory needed does not grow with the graph.

    Everything is written into a fresh folder first; `current` is re-pointed only after the new store has been
    reopened and counted and the release recorded, so a build killed at any moment leaves the previous one serving.
    Data that differs from the latest release's becomes the next release (graph.releases); the same data again
    stays the release it is.
    """
    builds = store_dir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    manifest = Manifest.for_nquads(nquads, namespace, modified, data_files)
    # One build at a time: the version is numbered, the folder written, the release recorded and `current` switched
    # under one lock, so two builds never share a folder nor give one version to two data sets.
    with _publishing(store_dir):
        _remove_abandoned(builds)
        releases = read_releases(store_dir)
        latest = releases[0] if releases else None
        if latest is not None and latest.build_id == manifest.build_id:
            version, modified, previous = latest.version, latest.date, latest.previous
        else:
            version, modified = next_version(latest, modified)
            previous = latest.version if latest else None
        manifest = replace(manifest, modified=modified, release=version, previous_release=previous)
        final = builds / manifest.build_id
        known = read_manifest(final) if (final / MARKER).exists() else None
        if known is not None and not _intact(final, known, store_dir):
            known = None  # damaged on disk: written anew (the repair the damaged-store message names)
        if known is not None and known.release != version and known.checksums:
            # The same content published before as another release (data restored): its store and dumps are there
            # byte for byte, and may be open in a server or a query worker, so they stay; only the record of which
            # release it is changes, atomically.
            manifest = replace(manifest, checksums=known.checksums, store_checksums=known.store_checksums)
            marker = final / f".{MARKER}-{os.getpid()}"
            marker.write_text(manifest.to_json(), encoding="utf-8")
            marker.replace(final / MARKER)
        elif known is None or known.release != version:
            _write_build(nquads, builds, manifest, namespace, step)
        manifest = read_manifest(final)
        if latest is None or latest.version != version:
            step("comparing with the previous release")
            write_release(
                store_dir,
                final,
                build_id=manifest.build_id,
                version=version,
                date=modified,
                triples=manifest.triples,
                previous=latest,
                checksums=manifest.checksums,
            )
        step("switching to the new build")
        _point_current(store_dir, final)
        _remove_old(builds, keep=final)
        prune_releases(store_dir, keep_releases)
    return manifest


def _intact(build: Path, manifest: Manifest, store_dir: Path) -> bool:
    """Whether the store of `build` holds exactly the files that were published."""
    try:
        verify_store(build / "oxigraph", manifest.store_checksums, store_dir)
    except StoreUnavailableError:
        return False
    return True


@contextmanager
def _publishing(store_dir: Path) -> Iterator[None]:
    """Hold the store folder's publishing lock (released by the system if the process dies)."""
    with (store_dir / ".publish.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write_build(nquads: bytes | Path, builds: Path, manifest: Manifest, namespace: str, step: Step) -> None:
    """Write the build into a folder of its own, then move it to its final name. A folder already holding that name
    is never the published build (whose content is another release's): an unfinished one, or one written before
    dump checksums were recorded."""
    work = builds / f".tmp-{manifest.build_id}-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        if isinstance(nquads, bytes):
            (work / "graph.nq").write_bytes(nquads)
            nquads = work / "graph.nq"
        step("writing dumps")
        _write_dumps(nquads, namespace, work / "dumps")
        manifest = replace(
            manifest, checksums={name: sha256_file(work / "dumps" / name) for name in DUMP_FILES.values()}
        )
        step("loading the store")
        _load_store(nquads, work / "oxigraph", manifest.triples)
        (work / "graph.nq").unlink(missing_ok=True)
        manifest = replace(manifest, store_checksums=store_checksums(work / "oxigraph"))
        (work / MARKER).write_text(manifest.to_json(), encoding="utf-8")
    except BaseException:
        # A full disk or a failed check: the half-written build goes, the published one was never touched.
        shutil.rmtree(work, ignore_errors=True)
        raise
    final = builds / manifest.build_id
    shutil.rmtree(final, ignore_errors=True)
    work.rename(final)


def _write_dumps(nquads: Path, namespace: str, folder: Path) -> None:
    folder.mkdir()
    # Both archives hold their lines in byte order, so two releases compare line by line (graph.releases).
    ordered = nquads
    if not _in_byte_order(nquads):
        ordered = folder / "graph.ordered.nq"
        with nquads.open("rb") as lines, ordered.open("wb") as out:
            out.writelines(sorted_unique(lines, folder))
    ntriples = folder / "graph.nt"
    _merge_triples(ordered, ntriples)
    prefixes = prefix_map(namespace)
    # zlib lets go of the interpreter while it compresses, so both archives are packed beside the serialising.
    with ThreadPoolExecutor(2) as pool:
        packing = [
            pool.submit(_gzip, folder / DUMP_FILES[name], source)
            for name, source in (("nt.gz", ntriples), ("nq.gz", ordered))
        ]
        for fmt in (TURTLE, JSON_LD):
            triples = ox.parse(path=str(ntriples), format=ox.RdfFormat.N_TRIPLES)
            ox.serialize(triples, output=str(folder / DUMP_FILES[fmt.suffix]), format=fmt.rdf_format, prefixes=prefixes)
        for future in packing:
            future.result()
    ntriples.unlink()
    if ordered != nquads:
        ordered.unlink()


def _merge_triples(ordered: Path, ntriples: Path) -> None:
    """The named graphs merged: each triple once, as sorted N-Triples lines, streamed from file to file.

    Oxigraph writes a quad as its triple, a space, the graph IRI and ` .`. The quads are in byte order, so the
    lines of each graph are, and so are their triples: no triple's text is the start of another's followed by a
    space (a term ends where its text ends), so what follows it, ` <graph> .` or ` .`, never changes the order.
    Merging the graphs' streams therefore sorts the triples without sorting them again.
    """
    with ordered.open("rb") as quads:
        endings = {line[line.rindex(b" <") :] for line in quads}
    with ExitStack() as files, ntriples.open("wb") as out:
        graphs = [_triples_in(files.enter_context(ordered.open("rb")), ending) for ending in sorted(endings)]
        last = None
        for line in heapq.merge(*graphs):
            if line != last:  # a triple in two graphs
                out.write(line)
                last = line


def _triples_in(quads: Iterable[bytes], ending: bytes) -> Iterator[bytes]:
    """The triples of the quads of one graph (the lines with that `ending`), as N-Triples lines."""
    cut = -len(ending)
    return (line[:cut] + b" .\n" for line in quads if line.endswith(ending))


def _in_byte_order(nquads: Path) -> bool:
    """Whether the lines are sorted as bytes. They are, unless an escape sorts differently as Oxigraph writes it than
    in the text they were sorted by; checked a line at a time as a stream, so that the usual case copies nothing."""
    previous = b""
    with nquads.open("rb") as lines:
        for line in lines:
            if line < previous:
                return False
            previous = line
    return True


def _gzip(file: Path, source: Path) -> None:
    # mtime=0 and no file name inside the gzip header: the same data gives the same bytes.
    with file.open("wb") as raw, gzip.GzipFile("", "wb", 9, raw, mtime=0) as packed, source.open("rb") as content:
        shutil.copyfileobj(content, packed, 1 << 20)


def _load_store(nquads: Path, folder: Path, expected: int) -> None:
    store = ox.Store(str(folder))
    # In batches: the bulk loader holds a whole call's quads (up to a million per thread) in memory at once.
    quads = ox.parse(path=str(nquads), format=ox.RdfFormat.N_QUADS)
    while batch := list(islice(quads, _QUADS_AT_ONCE)):
        store.bulk_extend(batch)
    store.flush()
    store.optimize()
    del store
    reopened = ox.Store.read_only(str(folder))
    count = len(reopened)
    if count != expected:
        raise RuntimeError(f"the new store holds {count} quads, {expected} were written: not published")


def _point_current(store_dir: Path, build: Path) -> None:
    link = store_dir / "current"
    temporary = store_dir / f".current-{os.getpid()}"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(build.relative_to(store_dir))
    temporary.replace(link)  # atomic on POSIX: readers see the old build or the new, never neither


def _remove_abandoned(builds: Path) -> None:
    """Folders of builds that were killed before finishing (their process is gone)."""
    for folder in builds.glob(".tmp-*"):
        pid = folder.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or not Path(f"/proc/{pid}").exists():
            shutil.rmtree(folder, ignore_errors=True)


def _remove_old(builds: Path, keep: Path) -> None:
    """Keep the current build and the one before it (a server may still be reading it)."""
    others = sorted(
        (b for b in builds.iterdir() if not b.name.startswith(".") and b != keep),
        key=lambda b: b.stat().st_mtime,
        reverse=True,
    )
    for old in others[1:]:
        shutil.rmtree(old, ignore_errors=True)
