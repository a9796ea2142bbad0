"""Publishing is deterministic and atomic: same data, same bytes; a killed build leaves the old store serving."""

from __future__ import annotations

import errno
import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from api.cli import main
from api.sparql.request import choose_formats
from api.sparql.worker import Evaluator, Status
from graph.formats import FORMATS
from graph.pipeline import run_build
from graph.pipeline.publish import publish_store
from graph.published import StoreUnavailableError, current_build
from graph.store import open_embedded
from tests.conftest import start_server, stop_server
from tests.test_guard_differential import Canary

ROOT = Path(__file__).resolve().parent.parent
MINI = Path(__file__).parent / "fixtures" / "mini"
NS = "https://w3id.org/smartcity-kg/"


def _dumps(store: Path) -> dict[str, bytes]:
    build, _ = current_build(store)
    return {path.name: path.read_bytes() for path in sorted((build / "dumps").iterdir())}


def test_same_data_gives_byte_identical_dumps(tmp_path: Path) -> None:
    first, _ = run_build(MINI, tmp_path / "one", NS)
    second, _ = run_build(MINI, tmp_path / "two", NS)
    assert first.build_id == second.build_id
    assert _dumps(tmp_path / "one") == _dumps(tmp_path / "two")
    assert set(_dumps(tmp_path / "one")) == {"graph.ttl", "graph.nt.gz", "graph.nq.gz", "graph.jsonld"}


def test_dumps_hold_the_whole_graph_in_every_format(tmp_path: Path) -> None:
    manifest, _ = run_build(MINI, tmp_path / "s", NS)
    dumps = _dumps(tmp_path / "s")
    quads = list(ox.parse(gzip.decompress(dumps["graph.nq.gz"]), format=ox.RdfFormat.N_QUADS))
    assert len(quads) == manifest.triples
    triples = {q.triple for q in quads}
    for name, fmt in (("graph.ttl", "turtle"), ("graph.jsonld", "json-ld")):
        assert len(rdflib.Graph().parse(data=dumps[name], format=fmt)) == len(triples), name
    assert len(gzip.decompress(dumps["graph.nt.gz"]).splitlines()) == len(triples)


def test_rebuild_switches_atomically_and_keeps_one_previous_build(tmp_path: Path) -> None:
    store = tmp_path / "s"
    data = tmp_path / "data"
    shutil.copytree(MINI, data)
    first, _ = run_build(data, store, NS)
    text = (data / "alliance.yaml").read_text(encoding="utf-8")
    (data / "alliance.yaml").write_text(text.replace("Alpha-Beta-Bund", "Alpha-Beta-Verbund"), encoding="utf-8")
    second, _ = run_build(data, store, NS)
    assert second.build_id != first.build_id
    assert current_build(store)[1] == second
    (data / "alliance.yaml").write_text(text.replace("Alpha-Beta-Bund", "Bund Drei"), encoding="utf-8")
    third, _ = run_build(data, store, NS)
    assert sorted(p.name for p in (store / "builds").iterdir()) == sorted([second.build_id, third.build_id])


def test_a_build_without_completion_marker_is_never_served(tmp_path: Path) -> None:
    store = tmp_path / "s"
    run_build(MINI, store, NS)
    build, _ = current_build(store)
    (build / "build.json").unlink()
    with pytest.raises(StoreUnavailableError, match="completion marker"):
        open_embedded(store)


def _bulk(folder: Path, alliances: int) -> None:
    """Many more alliances over the small fixture, so that a build takes long enough to be interrupted."""
    shutil.copytree(MINI, folder)
    lines = ["alliances:"]
    for n in range(alliances):
        lines += [f"  - key: bulk-{n}", f"    name: {{de: Bund {n}}}", "    members:"]
        for member in ("city:alpha", "city:beta", "company:acme"):
            lines += [
                f"      - member: {member}",
                "        role: member",
                f'        since: "{2000 + n % 20}"',
                "        citations: [{source: report-a, at: paragraph 1, claim: Names the member and the year,"
                f' date: "{2000 + n % 20}"}}]',
            ]
        lines.append("    citations: [{source: report-a, at: headline, claim: Names the alliance.}]")
    (folder / "bulk.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.slow
def test_build_killed_at_any_moment_leaves_the_previous_store_serving(tmp_path: Path) -> None:
    store = tmp_path / "store"
    first, _ = run_build(MINI, store, NS)
    data = tmp_path / "bulk"
    _bulk(data, 400)
    command = [sys.executable, "-m", "api.cli", "build", "--data", str(data), "--store", str(store)]
    for delay in (0.3, 1.0, 2.0, 3.0, 4.5):
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if process.poll() is not None:
            break  # the build finished before this delay: later moments cannot be tested on this machine
        os.kill(process.pid, signal.SIGKILL)
        killed = process.wait() == -signal.SIGKILL
        # Whatever the moment, `current` names a complete build whose store holds what its manifest says: the
        # previous one, or (killed after the switch, or finished just before the signal) the new one.
        build, manifest = current_build(store)
        assert len(open_embedded(store)) == manifest.triples
        assert manifest == first or build.name == manifest.build_id
        if not killed or manifest != first:
            break
    process.wait()
    # The next build cleans up what the killed ones left and publishes normally.
    second, _ = run_build(data, store, NS)
    assert current_build(store)[1] == second
    assert not [p for p in (store / "builds").iterdir() if p.name.startswith(".tmp-")]


def test_query_and_export_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "s"
    manifest, _ = run_build(MINI, store, NS)
    query = (
        "SELECT ?label WHERE { ?m <http://www.w3.org/ns/org#organization> ?a ; "
        "<http://www.w3.org/ns/org#member>/<http://www.w3.org/2000/01/rdf-schema#label> ?label } ORDER BY ?label"
    )
    assert main(["query", "--store", str(store), "--format", "json", query]) == 0
    rows = json.loads(capsys.readouterr().out)["results"]["bindings"]
    assert [row["label"]["value"] for row in rows] == ["ACME", "Betadorf", "Stadt Alphastadt"]
    assert main(["query", "--store", str(store), "SELECT * WHERE {"]) == 1
    assert "bad query" in capsys.readouterr().err
    for fmt, parse_as in (("ttl", "turtle"), ("nt", "nt"), ("jsonld", "json-ld"), ("rdfxml", "xml")):
        out = tmp_path / f"graph.{fmt}"
        assert main(["export", "--store", str(store), "--format", fmt, "-o", str(out)]) == 0
        assert len(rdflib.Graph().parse(data=out.read_bytes(), format=parse_as)) > 0, fmt
    # The format table's aliases and media types, as on the service's ?format=.
    for alias, parse_as in (("turtle", "turtle"), ("json-ld", "json-ld"), ("rdf", "xml"), ("text/turtle", "turtle")):
        out = tmp_path / "graph.alias"
        assert main(["export", "--store", str(store), "--format", alias, "-o", str(out)]) == 0, alias
        assert len(rdflib.Graph().parse(data=out.read_bytes(), format=parse_as)) > 0, alias
    assert main(["query", "--store", str(store), "--format", "application/sparql-results+json", query]) == 0
    assert json.loads(capsys.readouterr().out)["results"]["bindings"]
    construct = "CONSTRUCT WHERE { ?s a ?o }"
    assert main(["query", "--store", str(store), "--format", "turtle", construct]) == 0
    assert len(rdflib.Graph().parse(data=capsys.readouterr().out, format="turtle")) > 0
    with pytest.raises(SystemExit) as caught:
        main(["export", "--store", str(store), "--format", "yaml"])
    assert caught.value.code == 2 and "unknown format 'yaml'" in capsys.readouterr().err
    for fmt, ox_format in (("nq", ox.RdfFormat.N_QUADS), ("trig", ox.RdfFormat.TRIG)):
        out = tmp_path / f"graph.{fmt}"
        assert main(["export", "--store", str(store), "--format", fmt, "-o", str(out)]) == 0
        quads = list(ox.parse(out.read_bytes(), format=ox_format))
        assert len(quads) == manifest.triples and {str(q.graph_name) for q in quads} == {
            f"<{NS}graph/data>",
            f"<{NS}graph/ontology>",
        }, fmt


# A format's name means on the command line what it means on /sparql's ?format=, per the query's form.
CLI_FORMATS = [
    ("SELECT ?s WHERE { ?s ?p ?o } LIMIT 1", "xml", ox.QueryResultsFormat.XML),
    ("SELECT ?s WHERE { ?s ?p ?o } LIMIT 1", "json", ox.QueryResultsFormat.JSON),
    ("SELECT ?s WHERE { ?s ?p ?o } LIMIT 1", "application/json", ox.QueryResultsFormat.JSON),
    ("ASK { ?s ?p ?o }", "application/xml", ox.QueryResultsFormat.XML),
    ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 1", "xml", ox.RdfFormat.RDF_XML),
    ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 1", "json", ox.RdfFormat.JSON_LD),
    ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 1", "application/json", ox.RdfFormat.JSON_LD),
    ("DESCRIBE ?s WHERE { ?s ?p ?o } LIMIT 1", "application/xml", ox.RdfFormat.RDF_XML),
]


@pytest.mark.parametrize(("query", "name", "expected"), CLI_FORMATS)
def test_query_command_reads_format_names_per_form_as_sparql_does(
    published_store: Path, query: str, name: str, expected: ox.QueryResultsFormat | ox.RdfFormat
) -> None:
    form = query.split(maxsplit=1)[0]
    results, graph = choose_formats(form, None, (name,))
    assert (results or graph) == next(f.name for f in FORMATS if f.engine == expected and f.kind != "document")
    command = [sys.executable, "-m", "api.cli", "query", "--store", str(published_store), "--format", name, query]
    done = subprocess.run(command, capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode()
    if isinstance(expected, ox.RdfFormat):
        assert list(ox.parse(done.stdout, format=expected))
    else:
        assert ox.parse_query_results(done.stdout, format=expected) is not None


def test_query_command_refuses_a_format_of_the_other_kind(published_store: Path) -> None:
    for query, name, offered in (
        ("CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1", "csv", "ttl"),
        ("SELECT * WHERE { ?s ?p ?o } LIMIT 1", "ttl", "csv"),
    ):
        command = [sys.executable, "-m", "api.cli", "query", "--store", str(published_store), "--format", name, query]
        done = subprocess.run(command, capture_output=True, timeout=120, check=False, text=True)
        assert done.returncode == 2 and not done.stdout, name
        assert f"--format {name} is not a format of a {query.split(maxsplit=1)[0]} query's result" in done.stderr
        assert offered in done.stderr


def test_query_without_a_store_says_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "--store", str(tmp_path / "none"), "ASK {}"]) == 1
    assert "smartcity-kg build" in capsys.readouterr().err


def test_usage_error_exits_2() -> None:
    with pytest.raises(SystemExit) as caught:
        main(["build", "--no-such-option"])
    assert caught.value.code == 2


def test_a_full_disk_fails_cleanly_and_keeps_the_published_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "s"
    first, _ = run_build(MINI, store, NS)
    data = tmp_path / "data"
    shutil.copytree(MINI, data)
    text = (data / "alliance.yaml").read_text(encoding="utf-8")
    (data / "alliance.yaml").write_text(text.replace("Alpha-Beta-Bund", "Bund"), encoding="utf-8")

    def no_space(*_: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(store / "builds"))

    monkeypatch.setattr("graph.pipeline.publish._load_store", no_space)  # the disk fills up while the store is written
    assert main(["build", "--data", str(data), "--store", str(store)]) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and "previous store is untouched" in err and "Traceback" not in err
    assert current_build(store)[1] == first
    assert sorted(p.name for p in (store / "builds").iterdir()) == [first.build_id]  # nothing half-written left


def _damage(store: Path) -> None:
    """Overwrite the current build's store files, as a failing disk would."""
    build, _ = current_build(store)
    for file in (build / "oxigraph").iterdir():
        if file.is_file():
            file.write_bytes(b"\x00garbage")


def _flip(store: Path) -> None:
    """Flip 40 bytes in the middle of each of the store's tables: the store still opens, and its data lies."""
    build, _ = current_build(store)
    for file in (build / "oxigraph").glob("*.sst"):
        data = bytearray(file.read_bytes())
        middle = len(data) // 2
        data[middle : middle + 40] = bytes(byte ^ 0xFF for byte in data[middle : middle + 40])
        file.write_bytes(bytes(data))


def test_a_store_damaged_but_openable_is_unavailable_with_the_repair_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "s"
    run_build(MINI, store, NS)
    _flip(store)
    with pytest.raises(StoreUnavailableError, match=f"repair it with `smartcity-kg build --store {store}`"):
        open_embedded(store)
    assert main(["query", "--store", str(store), "SELECT * { ?s ?p ?o }"]) == 1
    assert f"smartcity-kg build --store {store}" in " ".join(capsys.readouterr().err.split())
    server = start_server(store)
    try:
        with server.client() as client:
            for path in ("/", "/catalog", "/.well-known/void", "/health", "/sparql?query=ASK%7B%7D"):
                response = client.get(path)
                assert response.status_code == 503, path
                assert "repair it with `smartcity-kg build" in response.text and "Traceback" not in response.text
        assert server.process.poll() is None
    finally:
        stop_server(server)


def _truncate_manifest(store: Path) -> None:
    build, _ = current_build(store)
    for file in (build / "oxigraph").glob("MANIFEST-*"):
        file.write_bytes(file.read_bytes()[: len(file.read_bytes()) // 2])


def _write_after_publishing(store: Path) -> None:
    build, _ = current_build(store)
    writable = ox.Store(str(build / "oxigraph"))
    writable.add(ox.Quad(ox.NamedNode("http://x/s"), ox.NamedNode("http://x/p"), ox.Literal("added")))
    del writable


def _forget_checksums(store: Path, value: object) -> None:
    build, _ = current_build(store)
    fields = json.loads((build / "build.json").read_text(encoding="utf-8"))
    if value is None:
        del fields["store_checksums"]
    else:
        fields["store_checksums"] = value
    (build / "build.json").write_text(json.dumps(fields), encoding="utf-8")


@pytest.mark.parametrize(
    "damage",
    [
        _truncate_manifest,
        _write_after_publishing,
        lambda store: _forget_checksums(store, None),
        lambda store: _forget_checksums(store, []),
    ],
    ids=["truncated-manifest", "written-after-publishing", "checksums-removed", "checksums-emptied"],
)
def test_a_store_whose_files_are_not_those_published_is_refused(tmp_path: Path, damage: Callable[[Path], None]) -> None:
    store = tmp_path / "s"
    run_build(MINI, store, NS)
    assert len(open_embedded(store)) > 0
    damage(store)
    with pytest.raises(StoreUnavailableError, match=f"repair it with `smartcity-kg build --store {store}`"):
        open_embedded(store)
    run_build(MINI, store, NS)  # the repair the message names
    assert len(open_embedded(store)) > 0


def test_a_damaged_store_is_unavailable_with_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "s"
    run_build(MINI, store, NS)
    _damage(store)
    with pytest.raises(StoreUnavailableError, match="cannot be opened; repair it with `smartcity-kg build --store"):
        open_embedded(store)
    assert main(["query", "--store", str(store), "ASK {}"]) == 1
    assert "smartcity-kg build" in capsys.readouterr().err


def test_the_service_over_a_damaged_store_answers_503(tmp_path: Path) -> None:
    store = tmp_path / "s"
    run_build(MINI, store, NS)
    _damage(store)
    server = start_server(store)
    try:
        with server.client() as client:
            for path in ("/health", "/sparql?query=ASK%7B%7D", "/doc/city/alpha.ttl", "/api/v1/city/alpha"):
                response = client.get(path)
                assert response.status_code == 503, path
                assert "cannot be opened" in response.text and "Traceback" not in response.text
                # The repair command, but none of the server's paths: those are for the operator, in the log.
                assert "repair it with `smartcity-kg build`" in response.text, path
                assert str(tmp_path) not in response.text and "oxigraph" not in response.text, path
    finally:
        server.process.terminate()
        _, log = server.process.communicate(timeout=10)
    assert f"smartcity-kg build --store {store}" in log.decode(errors="replace")


def test_query_command_reads_a_file_with_a_byte_order_mark(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "s"
    run_build(MINI, store, NS)
    query = tmp_path / "q.rq"
    query.write_text("\ufeffASK { ?s ?p ?o }", encoding="utf-8")
    assert main(["query", "--store", str(store), "--file", str(query), "--format", "json"]) == 0
    assert '"boolean":true' in capsys.readouterr().out.replace(" ", "")


def test_query_command_is_capped_in_memory(tmp_path: Path) -> None:
    store = tmp_path / "s"
    run_build(MINI, store, NS)
    hog = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?c ?f ?i LIMIT 1"
    command = [sys.executable, "-m", "api.cli", "query", "--store", str(store), hog]
    began = time.monotonic()
    process = subprocess.Popen(
        command,
        env={**os.environ, "SMARTCITY_KG_QUERY_MEMORY_MB": "300"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    stderr = process.stderr.read()
    # The peak of this command and the processes it waited for, not of every child this test run has had.
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    process.stderr.close()
    assert process.returncode == 1  # not the engine's abort (134)
    assert time.monotonic() - began < 120
    # The cap bounds the engine's allocations (300 MB); resident memory also counts the mapped store files and the
    # libraries, which vary by machine. Uncapped, this query grows to tens of gigabytes.
    assert usage.ru_maxrss < 1536 * 1024  # kilobytes
    said = " ".join(stderr.decode().split())
    assert "needed more memory than the 300 MB a query may use" in said, said
    assert "memory allocation" not in said and "Traceback" not in said


def test_query_command_refuses_service_as_the_endpoint_does(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "s"
    run_build(MINI, store, NS)
    canary = Canary()
    try:
        for query in (
            f"SELECT * {{ SERVICE <{canary.url}> {{ ?s ?p ?o }} }}",
            f"PREFIX : <{canary.url}>\nSELECT * WHERE {{ FILTER(EXISTS{{}}<?a)SERVICE:x#>\n{{}} }}",
        ):
            assert main(["query", "--store", str(store), query]) == 1
            said = " ".join(capsys.readouterr().err.split())
            assert "refused:" in said and "Traceback" not in said, said
        assert canary.hits == 0
    finally:
        canary.close()


def test_a_query_queued_across_two_publishes_follows_the_current_build(tmp_path: Path) -> None:
    store = tmp_path / "s"
    run_build(MINI, store, NS)
    first, _ = current_build(store)
    for number in range(2):  # the build before the current one is kept: two publishes remove the first
        publish_store(
            f"<http://x/{number}> <http://x/p> <http://x/o> <http://x/g> .\n".encode(),
            store,
            namespace=NS,
            modified="2026-01-01T00:00:00+00:00",
            data_files=1,
        )
    assert not first.exists()
    job: tuple[object, ...] = (
        str(first),
        {},
        "SELECT ?s { ?s ?p ?o }",
        "http://x/",
        None,
        None,
        True,
        "csv",
        "",
        10,
        2**20,
    )
    status, payload, _, _ = Evaluator().run(job)
    assert (status, payload.split()) == (Status.OK, [b"s", b"http://x/1"])


def test_concurrent_builds_of_the_same_data_never_remove_the_published_one(tmp_path: Path) -> None:
    store = tmp_path / "s"
    nquads = b"".join(b"<http://x/%d> <http://x/p> <http://x/o> <http://x/g> .\n" % n for n in range(20_000))
    missing: list[str] = []
    building = True

    def watch() -> None:
        while building:
            link = store / "current"
            if link.is_symlink() and not (link.resolve() / "build.json").exists():
                missing.append(str(link.resolve()))
            time.sleep(0.001)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(2) as pool:
            builds = [
                pool.submit(
                    publish_store, nquads, store, namespace=NS, modified="2026-01-01T00:00:00+00:00", data_files=1
                )
                for _ in range(2)
            ]
            manifests = [build.result() for build in builds]
    finally:
        building = False
        watcher.join()
    assert manifests[0] == manifests[1]
    assert not missing
    assert len(open_embedded(store)) == 20_000


def test_query_table_shows_values_as_they_are(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "s"
    run_build(MINI, store, NS)
    assert main(["query", "--store", str(store), "--format", "table", 'SELECT ("[b]x[/b] [red]" AS ?v) {}']) == 0
    assert "[b]x[/b] [red]" in capsys.readouterr().out
