"""The pipeline, step by step: load_records → build_triples → validate_triples → publish_store.

Its steps are the modules of this package (load, records, build, validate, publish …); what the service shares with
it (settings, the store interface, IRIs, prefixes, formats, the query guard) stays in `graph`, and never imports
this package (`tests/test_layout.py`)."""

from __future__ import annotations

import gc
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rdflib import Graph

from graph._convert import nt_text, write_nquads_text
from graph.iris import Minter
from graph.pipeline.build import stream_triples
from graph.pipeline.load import load_records
from graph.pipeline.publish import publish_store
from graph.pipeline.validate import Report, Validation
from graph.published import Manifest
from graph.releases import KEEP_RELEASES
from graph.remote import RemoteEndpoints, publish_remote
from graph.resources import resource_dir

__all__ = [
    "Built",
    "FutureDataError",
    "InvalidGraphError",
    "build_and_check",
    "data_dir",
    "load_ontology",
    "run_build",
    "without_cycle_collection",
]

Step = Callable[[str], None]


class InvalidGraphError(Exception):
    """The graph breaks the shapes; nothing was published."""

    def __init__(self, report: Report) -> None:
        self.report = report
        super().__init__(f"{len(report.violations)} SHACL violation(s)")


@dataclass(frozen=True)
class Built:
    files: list[Path]  # the data files read
    triples: int  # in the data graph, each counted once
    nquads: Path  # the data and the ontology as sorted N-Quads, each quad once (graph._convert.write_nquads)
    report: Report


def data_dir(configured: Path | None) -> Path:
    """The folder given, else ./data when there is one, else the curated data bundled with the package."""
    if configured is not None:
        return configured
    local = Path("data")
    return local if local.is_dir() else resource_dir("data")


def load_ontology() -> Graph:
    ontology = Graph()
    for file in sorted(resource_dir("ontology").glob("*.ttl")):
        ontology.parse(file, format="turtle")
    return ontology


def build_and_check(data: Path, namespace: str, folder: Path, step: Step = lambda _: None) -> Built:
    """Load, build and validate, writing the sorted quads into `folder`; raises LoadError or InvalidGraphError.

    The triples stream from the records into the sorting runs and the validation store in one pass, never all held
    at once; the records are held until the checks are done, since findings that give literals are described from
    the triples streamed from them once more.
    """
    with without_cycle_collection():
        step("loading the curated data")
        records = load_records(data)
    mint = Minter(namespace)
    data_graph, nquads = str(mint.graph("data")), folder / "graph.nq"
    with Validation(namespace) as validation:
        with without_cycle_collection():
            step("building the graph and sorting the quads")
            texts = validation.passing(stream_triples(records, namespace))
            ontology = map(nt_text, load_ontology())
            counts = write_nquads_text({data_graph: texts, str(mint.graph("ontology")): ontology}, nquads)
        step("checking the graph with the SHACL shapes")
        report = validation.report(lambda: stream_triples(records, namespace))
    if not report.conforms:
        raise InvalidGraphError(report)
    return Built(records.files, counts[data_graph], nquads, report)


@contextmanager
def without_cycle_collection() -> Iterator[None]:
    """Loading and building make millions of objects and no garbage cycles: scanning them over and over as they
    grow took longer than the work itself (a third of loading a million triples)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def run_build(
    data: Path,
    store: Path | RemoteEndpoints,
    namespace: str,
    step: Step = lambda _: None,
    *,
    keep_releases: int = KEEP_RELEASES,
    advise: Step = lambda _: None,
) -> tuple[Manifest, Report]:
    """Build, check and publish into a store folder, or onto a remote SPARQL server (`advise` is told what the
    operator must still do on that server)."""
    with _quads_folder(store) as folder:
        built = build_and_check(data, namespace, folder, step)
        modified, files = data_modified(built.files), len(built.files)
        if isinstance(store, RemoteEndpoints):
            step("loading the remote store")
            manifest = Manifest.for_nquads(built.nquads, namespace, modified, files)
            for advice in publish_remote(built.nquads.read_bytes(), manifest, store, namespace):
                advise(advice)
            return manifest, built.report
        return publish_store(
            built.nquads,
            store,
            namespace=namespace,
            modified=modified,
            data_files=files,
            keep_releases=keep_releases,
            step=step,
        ), built.report


@contextmanager
def _quads_folder(store: Path | RemoteEndpoints) -> Iterator[Path]:
    """A temporary folder for the sorted quads: in the store folder (the same disk as the build), else in the temp
    folder. A store folder made for it goes again, empty, when the build fails: bad data leaves nothing behind."""
    local = store if isinstance(store, Path) else None
    made = [] if local is None else [folder for folder in (local, *local.parents) if not folder.exists()]
    if local is not None:
        local.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory(prefix=".quads-", dir=local) as folder:
            yield Path(folder)
    except BaseException:
        with suppress(OSError):  # only where nothing else was written into them
            for empty in made:
                empty.rmdir()
        raise


def data_modified(files: list[Path]) -> str:
    """When the data last changed: its newest commit where it is under git, else the newest file time.

    Never the clock at build time, so that the same data describes itself the same way. The clock only checks the
    date: one in the future would date this release after its time, and every later one after it (FutureDataError).
    """
    # Absolute: git runs in the data's folder, and paths relative to this process's folder would name nothing there.
    files = [file.resolve() for file in files]
    if files:
        folder = files[0].parent
        try:
            out = subprocess.run(
                ["git", "log", "-1", "--format=%H %cI", "--", *map(str, files)],
                cwd=folder,
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
            commit, _, date = out.stdout.strip().partition(" ")
            if out.returncode == 0 and date and not _dirty(files, folder):
                return _not_ahead(
                    datetime.fromisoformat(date),
                    f"the last commit of the data in {folder} ({commit})",
                    "correct the commit's date (`git commit --amend --date=...` with "
                    "GIT_COMMITTER_DATE set) or the clock of the machine that made it",
                )
        except (OSError, subprocess.SubprocessError):
            pass
    if not files:
        return datetime.fromtimestamp(0, UTC).isoformat(timespec="seconds")
    newest = max(files, key=lambda file: file.stat().st_mtime)
    return _not_ahead(
        datetime.fromtimestamp(newest.stat().st_mtime, UTC),
        f"the file {newest}",
        f"set its time to when it was last changed (`touch {newest}` for now)",
    )


class FutureDataError(Exception):
    """The data is dated later than the build's clock; nothing was published."""


def _not_ahead(date: datetime, what: str, fix: str) -> str:
    now = datetime.now(UTC)
    if date > now:
        raise FutureDataError(
            f"{what} is dated {date.astimezone(UTC).isoformat(timespec='seconds')}, later than this machine's clock "
            f"({now.isoformat(timespec='seconds')}). A release takes its date from the data, and every later release "
            f"must be later still, so nothing was published: {fix}, then build again."
        )
    return date.astimezone(UTC).isoformat(timespec="seconds")


def _dirty(files: list[Path], folder: Path) -> bool:
    out = subprocess.run(
        ["git", "status", "--porcelain", "--", *map(str, files)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    return bool(out.stdout.strip())
