"""Releases over a real server: two builds with one changed statement, found in /changes, the feed and the entity's
page; checksums verified with sha256sum; the versioned catalogue conformant and its dataset IRI stable."""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from xml.etree import ElementTree as ET

import httpx
import pyoxigraph as ox
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, XSD

from api.cli import main
from graph import __version__, formats
from graph.pipeline import run_build
from graph.pipeline.publish import _write_dumps
from graph.published import Manifest, current_build
from graph.releases import CHECKSUMS, Release, dump_name, next_version, read_releases, release_dir, write_patch
from tests.conftest import ROOT, Server, start_server, stop_server
from tests.test_catalog import fetch, one, shape_violations

MINI = Path(__file__).parent / "fixtures" / "mini"
NS = "https://w3id.org/smartcity-kg/"
OLD_CLAIM, NEW_CLAIM = "ACME partners with the alliance.", "ACME works with the alliance as a partner."
CHANGED = f"{NS}id/membership/alpha-beta-acme-partner"  # the thing whose citation's claim is reworded
UNCHANGED = f"{NS}id/city/alpha"
ATOM = "{http://www.w3.org/2005/Atom}"
SPDX = "http://spdx.org/rdf/terms#"
DCAT_VERSION, DCAT_PREVIOUS = URIRef(f"{DCAT}version"), URIRef(f"{DCAT}previousVersion")


@dataclass
class TwoReleases:
    server: Server
    client: httpx.Client
    store: Path
    first: Manifest
    second: Manifest
    first_catalogue: Graph  # fetched from the server before the second build


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoReleases]:
    """The small fixture built and served, then one claim reworded and built again while the server runs."""
    folder = tmp_path_factory.mktemp("releases")
    data, store = folder / "data", folder / "store"
    shutil.copytree(MINI, data)
    first, _ = run_build(data, store, NS)
    server = start_server(store)
    try:
        with server.client() as client:
            first_catalogue = fetch(client, "/catalog")
            alliance = data / "alliance.yaml"
            text = alliance.read_text(encoding="utf-8")
            assert text.count(OLD_CLAIM) == 1
            alliance.write_text(text.replace(OLD_CLAIM, NEW_CLAIM), encoding="utf-8")
            second, _ = run_build(data, store, NS)
            yield TwoReleases(server, client, store, first, second, first_catalogue)
    finally:
        stop_server(server)


def test_next_version_counts_within_a_month_and_never_goes_back() -> None:
    first = next_version(None, "2026-12-03T10:00:00+00:00")
    assert first == ("2026.12.1", "2026-12-03T10:00:00+00:00")
    previous = Release(first[0], "b1", first[1], None, 10, 10, 0)
    assert next_version(previous, "2026-12-20T08:00:00+01:00") == ("2026.12.2", "2026-12-20T07:00:00+00:00")
    assert next_version(previous, "2027-01-01T00:00:00+00:00") == ("2027.1.1", "2027-01-01T00:00:00+00:00")
    # Data restored from an older state: the date moves past the previous release's, the counter goes on.
    assert next_version(previous, "2025-06-01T00:00:00+00:00") == ("2026.12.2", "2026-12-03T10:00:01+00:00")


def test_each_build_of_changed_data_is_the_next_release(releases: TwoReleases) -> None:
    first, second = releases.first, releases.second
    assert first.release and first.previous_release is None
    assert (second.release, second.modified) == next_version(read_releases(releases.store)[1], second.modified)
    assert second.previous_release == first.release and second.modified > first.modified
    health = releases.client.get("/health").json()
    assert (health["release"], health["previous_release"]) == (second.release, first.release)
    assert health["version"] == __version__
    assert health["store"] == "embedded"


def test_the_same_data_again_is_the_same_release(releases: TwoReleases, tmp_path: Path) -> None:
    store = tmp_path / "s"
    shutil.copytree(releases.store, store, symlinks=True)
    data = tmp_path / "data"
    shutil.copytree(MINI, data)
    (data / "alliance.yaml").write_text(
        (data / "alliance.yaml").read_text(encoding="utf-8").replace(OLD_CLAIM, NEW_CLAIM), encoding="utf-8"
    )
    again, _ = run_build(data, store, NS)
    assert again.release == releases.second.release and again.build_id == releases.second.build_id
    assert [release.version for release in read_releases(store)] == [releases.second.release, releases.first.release]


def test_restored_data_is_a_new_release_that_undoes_the_change(releases: TwoReleases, tmp_path: Path) -> None:
    store = tmp_path / "s"
    shutil.copytree(releases.store, store, symlinks=True)
    restored, _ = run_build(MINI, store, NS)  # the first release's data again
    assert restored.build_id == releases.first.build_id
    assert restored.previous_release == releases.second.release and restored.modified > releases.second.modified
    assert current_build(store)[1].release == restored.release  # the build folder now names the new release
    newest = read_releases(store)[0]
    assert newest.version == restored.release and [thing.iri for thing in newest.things] == [CHANGED]
    folder = release_dir(store) / newest.version
    assert OLD_CLAIM.encode() in gzip.decompress((folder / "added.nq.gz").read_bytes())
    assert NEW_CLAIM.encode() in gzip.decompress((folder / "removed.nq.gz").read_bytes())


def test_changes_lists_the_releases_newest_first_with_the_changed_thing(releases: TwoReleases) -> None:
    body = releases.client.get("/changes").json()
    assert body["current"] == releases.second.release
    newest, oldest = body["releases"]
    assert [newest["version"], oldest["version"]] == [releases.second.release, releases.first.release]
    assert (newest["added"], newest["removed"], newest["things_changed"]) == (1, 1, 1)
    page = f"{releases.server.url}/doc/membership/alpha-beta-acme-partner"  # absolute, as every other link
    assert newest["things"] == [{"id": CHANGED, "page": page, "served": True, "added": 1, "removed": 1}]
    assert newest["previous"] == releases.first.release and oldest["previous"] is None
    # The first release changes nothing: it adds everything, and says so rather than "0 things changed".
    assert oldest["added"] == releases.first.triples and oldest["things"] == [] and oldest["things_changed"] is None


def test_a_release_names_its_statements_and_its_patch_turns_the_previous_dump_into_its_own(
    releases: TwoReleases,
) -> None:
    client, version = releases.client, releases.second.release
    body = client.get(f"/changes/{version}").json()
    (thing,) = body["things"]
    assert thing["id"] == CHANGED
    assert [NEW_CLAIM in line for line in thing["added_statements"]] == [True]
    assert [OLD_CLAIM in line for line in thing["removed_statements"]] == [True]

    def quads(url: str) -> set[ox.Quad]:
        response = client.get(url)
        assert response.status_code == 200, url
        return set(ox.parse(gzip.decompress(response.content), format=ox.RdfFormat.N_QUADS))

    before = quads(f"/dumps/{releases.first.release}/{dump_name(releases.first.release, 'graph.nq.gz')}")
    after = quads("/dumps/graph.nq.gz")
    added, removed = quads(body["patch"]["added"]), quads(body["patch"]["removed"])
    assert (before - removed) | added == after
    assert client.get(f"/changes/{releases.first.release}/added.nq.gz").status_code == 404
    assert client.get(f"/changes/{version}/build.json").status_code == 404
    missing = client.get("/changes/1999.1.1")
    assert missing.status_code == 404 and "/changes" in missing.json()["error"]["message"]
    assert client.get(f"/changes/{version}", params={"limit": 0}).status_code == 422


def test_a_browser_gets_the_changes_as_a_page(releases: TwoReleases) -> None:
    browser = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    version = releases.second.release
    page = releases.client.get(f"/changes/{version}", headers=browser)
    assert page.headers["content-type"].startswith("text/html") and "Accept" in page.headers["vary"]
    assert f'<a href="{releases.server.url}/doc/membership/alpha-beta-acme-partner">' in page.text
    assert "<strong>1</strong> statement added" in page.text and "<strong>1</strong> thing changed" in page.text
    assert NEW_CLAIM in page.text and OLD_CLAIM in page.text and "+ &lt;" in page.text and "- &lt;" in page.text
    listing = releases.client.get("/changes", headers=browser).text
    assert f'<a href="/changes/{version}">{version}</a> (current)' in listing
    assert "all (first release)" in listing and ">0</td><td>" not in listing
    assert releases.client.get("/changes", headers={"Accept": "*/*"}).headers["content-type"] == "application/json"
    assert releases.client.get("/changes", headers={"Accept": "image/png"}).status_code == 406
    # ?format= chooses as on every other route, and an unknown one is refused rather than ignored.
    assert releases.client.get("/changes?format=html").headers["content-type"].startswith("text/html")
    as_json = releases.client.get(f"/changes/{version}?format=json", headers=browser)
    assert as_json.headers["content-type"] == "application/json"
    for path in ("/changes", f"/changes/{version}"):
        refused = releases.client.get(path, params={"format": "xyz"})
        assert refused.status_code == 400 and "unknown format 'xyz'" in refused.json()["error"]["message"]


def test_the_atom_feed_has_an_entry_per_release_naming_what_changed(releases: TwoReleases) -> None:
    response = releases.client.get("/changes.atom")
    assert formats.find(response.headers["content-type"], formats.FORMATS) is formats.ATOM  # the table's Atom
    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    # RFC 4287 §4.1.1-4.1.2: the feed and every entry have exactly one id, title and updated; an author is named.
    for element in (feed, *feed.findall(f"{ATOM}entry")):
        for child in ("id", "title", "updated"):
            assert len(element.findall(f"{ATOM}{child}")) == 1, (element.tag, child)
    assert feed.find(f"{ATOM}author/{ATOM}name") is not None
    entries = feed.findall(f"{ATOM}entry")
    versions = [entry.findtext(f"{ATOM}title") for entry in entries]
    assert versions == [f"Release {releases.second.release}", f"Release {releases.first.release}"]
    summary = entries[0].findtext(f"{ATOM}summary") or ""
    assert "membership/alpha-beta-acme-partner" in summary
    assert "1 statement added and 1 removed" in summary and "about 1 thing:" in summary
    assert feed.findtext(f"{ATOM}updated") == entries[0].findtext(f"{ATOM}updated") == releases.second.modified


def test_the_entity_page_says_in_which_release_it_last_changed(releases: TwoReleases) -> None:
    client = releases.client
    for thing, manifest in ((CHANGED, releases.second), (UNCHANGED, releases.first)):
        path = "/doc/" + thing.removeprefix(f"{NS}id/")
        page = client.get(path, headers={"Accept": "text/html"}).text
        assert f'Last changed in release <a href="/changes/{manifest.release}">{manifest.release}</a>' in page
        described = Graph().parse(data=client.get(f"{path}.ttl").content, format="turtle")
        assert list(described.objects(URIRef(thing), DCTERMS.modified)) == [
            Literal(manifest.modified, datatype=XSD.dateTime)
        ]


def test_sha256sums_verify_the_served_dumps(releases: TwoReleases, tmp_path: Path) -> None:
    """What a user does: fetch SHA256SUMS and the files it names, then `sha256sum -c`."""
    if shutil.which("sha256sum") is None:
        pytest.skip("sha256sum (coreutils) is not installed")
    for prefix in ("/dumps/", f"/dumps/{releases.second.release}/", f"/dumps/{releases.first.release}/"):
        folder = tmp_path / prefix.strip("/").replace("/", "-")
        folder.mkdir()
        sums = releases.client.get(prefix + CHECKSUMS)
        assert sums.status_code == 200 and sums.headers["content-type"].startswith("text/plain")
        (folder / CHECKSUMS).write_bytes(sums.content)
        names = [line.split("  ", 1)[1] for line in sums.text.splitlines()]
        assert len(names) == 4
        for name in names:
            (folder / name).write_bytes(releases.client.get(prefix + name).content)
        checked = subprocess.run(
            ["sha256sum", "--strict", "-c", CHECKSUMS], cwd=folder, capture_output=True, text=True, check=False
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert checked.stdout.count(": OK") == 4
        # A damaged download is caught.
        (folder / names[0]).write_bytes(b"damaged")
        assert (
            subprocess.run(["sha256sum", "-c", CHECKSUMS], cwd=folder, capture_output=True, check=False).returncode == 1
        )


def test_the_versioned_catalogue_passes_the_shapes_and_keeps_its_dataset_iri(
    releases: TwoReleases, shared_dir: Path
) -> None:
    catalogue = fetch(releases.client, "/catalog")
    violations = shape_violations(catalogue, shared_dir / "vendor")
    assert not violations, "\n".join(violations)
    (dataset,) = catalogue.subjects(RDF.type, DCAT.Dataset)
    (before,) = releases.first_catalogue.subjects(RDF.type, DCAT.Dataset)
    assert dataset == before
    # Catalogue, services and distributions keep their IRIs too: a portal updates its records in place.
    for kind in (DCAT.Catalog, DCAT.DataService, DCAT.Distribution):
        now, then = set(catalogue.subjects(RDF.type, kind)), set(releases.first_catalogue.subjects(RDF.type, kind))
        assert now == then and now, kind
    assert one(catalogue, dataset, DCAT_VERSION) == Literal(releases.second.release)
    assert one(releases.first_catalogue, before, DCAT_VERSION) == Literal(releases.first.release)
    assert one(catalogue, dataset, DCTERMS.modified) == Literal(releases.second.modified, datatype=XSD.dateTime)
    citation = str(one(catalogue, dataset, DCTERMS.bibliographicCitation))
    assert releases.second.release in citation
    # The previous release is linked, and its IRI resolves to a description of it.
    previous = one(catalogue, dataset, DCAT_PREVIOUS)
    assert str(previous).startswith(NS)  # a name, not the address a client used: never from Host
    described = fetch(releases.client, "/" + str(previous).removeprefix(NS).split("#")[0])
    assert one(described, previous, DCAT_VERSION) == Literal(releases.first.release)
    assert (previous, RDF.type, DCAT.Dataset) in described
    # Releases add no weight: one link back, whatever their number.
    size = len(releases.client.get("/catalog").content)
    assert size < 1_000_000 and abs(size - len(releases.first_catalogue.serialize(format="turtle"))) < 2_000


def test_every_distribution_carries_the_checksum_of_what_its_url_serves(releases: TwoReleases) -> None:
    catalogue = fetch(releases.client, "/catalog")
    distributions = list(catalogue.subjects(RDF.type, DCAT.Distribution))
    assert len(distributions) == 4
    for distribution in distributions:
        url = str(one(catalogue, distribution, DCAT.downloadURL))
        assert f"/dumps/{releases.second.release}/smartcity-kg-{releases.second.release}." in url
        body = releases.client.get(url).content
        checksum = one(catalogue, distribution, URIRef(f"{SPDX}checksum"))
        assert one(catalogue, checksum, URIRef(f"{SPDX}algorithm")) == URIRef(f"{SPDX}checksumAlgorithm_sha256")
        value = one(catalogue, checksum, URIRef(f"{SPDX}checksumValue"))
        assert str(value) == hashlib.sha256(body).hexdigest()
        assert int(str(one(catalogue, distribution, DCAT.byteSize))) == len(body)


def test_void_names_the_version_and_the_versioned_dumps(releases: TwoReleases) -> None:
    void = fetch(releases.client, "/.well-known/void")
    version = releases.second.release
    assert Literal(version) in set(void.objects(None, DCAT_VERSION))
    dumps = {str(url) for url in void.objects(None, URIRef("http://rdfs.org/ns/void#dataDump"))}
    assert {url.rsplit("/", 2)[1] for url in dumps} == {version}
    assert all(releases.client.head(url).status_code == 200 for url in dumps)


@pytest.mark.parametrize(
    "path",
    [
        "/catalog",
        "/catalog.jsonld",
        "/.well-known/void",
        "/dumps/graph.ttl",
        f"/dumps/{CHECKSUMS}",
        "/changes",
        "/changes.atom",
        "/doc/city/alpha",
        "/doc/city/alpha.ttl",
        "/vocab/role",
        "/ontology.ttl",
    ],
)
def test_what_harvesters_fetch_revalidates(releases: TwoReleases, path: str) -> None:
    _revalidates(releases.client, path, releases.second.modified)


def test_what_harvesters_fetch_of_a_release_revalidates(releases: TwoReleases) -> None:
    version = releases.second.release
    for path in (
        f"/catalog/{version}",
        f"/changes/{version}",
        f"/changes/{version}/added.nq.gz",
        f"/dumps/{version}/{CHECKSUMS}",
        f"/dumps/{version}/{dump_name(version, 'graph.ttl')}",
    ):
        _revalidates(releases.client, path, releases.second.modified)


def _revalidates(client: httpx.Client, path: str, modified: str) -> None:
    response = client.get(path)
    assert response.status_code == 200, path
    etag, last_modified = response.headers["etag"], response.headers["last-modified"]
    assert re.fullmatch(r'(W/)?"[0-9a-f]{24}"', etag), (path, etag)  # made by the one ETag helper, naming no internals
    assert parsedate_to_datetime(last_modified).isoformat() == modified
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304, path
    assert client.get(path, headers={"If-Modified-Since": last_modified}).status_code == 304, path
    assert client.get(path, headers={"If-None-Match": '"older"'}).status_code == 200, path


def test_old_releases_lose_their_dumps_but_keep_their_record(tmp_path: Path) -> None:
    data, store = tmp_path / "data", tmp_path / "s"
    shutil.copytree(MINI, data)
    alliance = data / "alliance.yaml"
    text = alliance.read_text(encoding="utf-8")
    versions = []
    for name in ("Alpha-Beta-Bund", "Bund Zwei", "Bund Drei"):
        alliance.write_text(text.replace("Alpha-Beta-Bund", name), encoding="utf-8")
        versions.append(run_build(data, store, NS, keep_releases=1)[0].release)
    recorded = {release.version: release for release in read_releases(store)}
    assert list(recorded) == versions[::-1]
    oldest = recorded[versions[0]]
    assert not oldest.kept and [r.kept for r in recorded.values()] == [True, True, False]
    folder = release_dir(store) / oldest.version
    assert sorted(path.name for path in folder.iterdir()) == [CHECKSUMS, "release.json"]
    server = start_server(store)
    try:
        with server.client() as client:
            gone = client.get(f"/dumps/{oldest.version}/{dump_name(oldest.version, 'graph.ttl')}")
            assert gone.status_code == 410 and versions[1] in gone.json()["error"]["message"]
            assert client.get(f"/dumps/{oldest.version}/{CHECKSUMS}").status_code == 200
            listed = client.get("/changes").json()["releases"]
            assert [entry["dumps"] is None for entry in listed] == [False, False, True]
            assert client.get(f"/changes/{versions[1]}").json()["previous"] == oldest.version
            # Dumps pruned by a build that started after the server read the history: still 410, never a 500.
            pruned = dump_name(versions[1], "graph.ttl")
            (release_dir(store) / versions[1] / pruned).unlink()
            assert client.get(f"/dumps/{versions[1]}/{pruned}").status_code == 410
    finally:
        stop_server(server)
    # The current build always serves, whatever was pruned.
    build, manifest = current_build(store)
    assert manifest.release == versions[-1] and (build / "dumps" / "graph.ttl").is_file()


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_keep_releases_below_one_is_a_usage_error(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["build", "--keep-releases", value])
    assert caught.value.code == 2 and "at least 1" in capsys.readouterr().err


def test_landing_page_has_a_box_to_cite_the_release(releases: TwoReleases) -> None:
    page = releases.client.get("/").text
    version = releases.second.release
    assert "Cite this release" in page and f"(Version {version}) [Data set]." in page
    assert f"@misc{{smartcity-kg-{version}," in page and f"version      = {{{version}}}" in page


def test_citation_cff_describes_this_software() -> None:
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "software"
    assert cff["version"] == __version__ and cff["license"] == "MIT"
    assert cff["title"] and cff["message"] and cff["authors"]


quads = st.lists(st.binary(max_size=3).map(lambda raw: f"<urn:x:{raw.hex()}> <urn:p> <urn:o> .".encode()), max_size=20)


# As the fuzz tests: no example database in the checkout, a repeatable example set under CI.
@settings(max_examples=60, deadline=None, database=None, derandomize=bool(os.environ.get("CI")))
@given(old=quads, new=quads)
def test_the_patch_is_the_difference_of_the_two_dumps(old: list[bytes], new: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        for name, content in (("old.nq.gz", old), ("new.nq.gz", new)):
            (work / name).write_bytes(gzip.compress(b"".join(line + b"\n" for line in sorted(set(content))), mtime=0))
        added, removed, _ = write_patch(work / "old.nq.gz", work / "new.nq.gz", work)
        assert (added, removed) == (len(set(new) - set(old)), len(set(old) - set(new)))
        assert gzip.decompress((work / "added.nq.gz").read_bytes()).splitlines() == sorted(set(new) - set(old))
        assert gzip.decompress((work / "removed.nq.gz").read_bytes()).splitlines() == sorted(set(old) - set(new))


def test_the_nquads_dump_is_written_in_byte_order_even_from_unsorted_input(tmp_path: Path) -> None:
    # Out of byte order, as lines sorted by another text of the same terms can come (the first two here).
    quads = [
        b'<urn:a> <urn:p> "tab\\t" <urn:g> .',
        b'<urn:a> <urn:p> "\\u0001" <urn:g> .',
        b"<urn:b> <urn:p> <urn:o> <urn:g> .",
    ]
    for number, lines in enumerate((quads, sorted(quads))):
        source = tmp_path / f"graph-{number}.nq"
        source.write_bytes(b"".join(line + b"\n" for line in lines))
        _write_dumps(source, NS, tmp_path / str(number))
        assert gzip.decompress((tmp_path / str(number) / "graph.nq.gz").read_bytes()).splitlines() == sorted(quads)


def test_an_unsorted_dump_is_refused_rather_than_misread(tmp_path: Path) -> None:
    (tmp_path / "old.nq.gz").write_bytes(gzip.compress(b"<b> .\n<a> .\n"))
    (tmp_path / "new.nq.gz").write_bytes(gzip.compress(b"<a> .\n"))
    with pytest.raises(RuntimeError, match="not sorted"):
        write_patch(tmp_path / "old.nq.gz", tmp_path / "new.nq.gz", tmp_path)


# Fetched before a restored build is published, and again after: every one must change.
_RESTORED_PATHS = (
    "/catalog",
    "/changes",
    "/changes.atom",
    "/.well-known/void",
    "/doc/city/alpha",
    "/doc/city/alpha.ttl",
    "/dumps/graph.ttl",
    "/api/v1/city/alpha",
)


def test_a_build_restored_while_serving_is_served_as_its_new_release(tmp_path: Path) -> None:
    """Build ids are hashes of the content: data restored to an earlier state is the first build again, published as
    a third release. A running service must serve that release, and tell harvesters its representations changed."""
    data, store = tmp_path / "data", tmp_path / "store"
    shutil.copytree(MINI, data)
    first, _ = run_build(data, store, NS)
    server = start_server(store)
    try:
        with server.client() as client:
            before = {path: client.get(path) for path in _RESTORED_PATHS}
            assert all(response.status_code == 200 for response in before.values()), before
            alliance = data / "alliance.yaml"
            text = alliance.read_text(encoding="utf-8")
            alliance.write_text(text.replace(OLD_CLAIM, NEW_CLAIM), encoding="utf-8")
            second, _ = run_build(data, store, NS)  # no request while it is served
            alliance.write_text(text, encoding="utf-8")
            engine = store / "builds" / first.build_id / "oxigraph"
            opened = engine.stat().st_ino
            third, _ = run_build(data, store, NS)
            # The same content: its store stays as it was (a server or a query worker may have it open).
            assert engine.stat().st_ino == opened
            asked = client.get(
                "/sparql",
                params={"query": f"ASK {{ <{CHANGED}> ?p ?o }}"},
                headers={"Accept": "application/sparql-results+json"},
            )
            assert asked.json()["boolean"] is True
            assert third.build_id == first.build_id and third.release not in (first.release, second.release)
            assert client.get("/health").json()["release"] == third.release
            listed = [entry["version"] for entry in client.get("/changes").json()["releases"]]
            assert listed == [third.release, second.release, first.release]
            assert client.get(f"/changes/{third.release}").status_code == 200
            catalogue = fetch(client, "/catalog")
            (dataset,) = catalogue.subjects(RDF.type, DCAT.Dataset)
            assert one(catalogue, dataset, DCAT_VERSION) == Literal(third.release)
            assert len(set(catalogue.objects(None, URIRef(f"{SPDX}checksum")))) == 4
            page = client.get("/doc/" + CHANGED.removeprefix(f"{NS}id/"), headers={"Accept": "text/html"}).text
            assert f'Last changed in release <a href="/changes/{third.release}">{third.release}</a>' in page
            for path, response in before.items():
                again = client.get(path, headers={"If-None-Match": response.headers["etag"]})
                assert again.status_code == 200 and again.headers["etag"] != response.headers["etag"], path
    finally:
        stop_server(server)


def test_a_release_recorded_by_a_build_stopped_before_the_switch_is_not_announced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, store = tmp_path / "data", tmp_path / "store"
    shutil.copytree(MINI, data)
    first, _ = run_build(data, store, NS)
    alliance = data / "alliance.yaml"
    alliance.write_text(alliance.read_text(encoding="utf-8").replace(OLD_CLAIM, NEW_CLAIM), encoding="utf-8")

    def killed(*_: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr("graph.pipeline.publish._point_current", killed)
        with pytest.raises(KeyboardInterrupt):
            run_build(data, store, NS)
    recorded = [release.version for release in read_releases(store)]
    assert len(recorded) == 2 and recorded[1] == first.release  # recorded, never switched to
    server = start_server(store)
    try:
        with server.client() as client:
            assert client.get("/health").json()["release"] == first.release
            assert [entry["version"] for entry in client.get("/changes").json()["releases"]] == [first.release]
            feed = ET.fromstring(client.get("/changes.atom").content)
            assert [entry.findtext(f"{ATOM}title") for entry in feed.findall(f"{ATOM}entry")] == [
                f"Release {first.release}"
            ]
            assert client.get(f"/changes/{recorded[0]}").status_code == 404
    finally:
        stop_server(server)
    # The next build serves it, and from then on it is listed.
    again, _ = run_build(data, store, NS)
    assert again.release == recorded[0]


@pytest.mark.parametrize("path", ["/catalog", "/changes", "/doc/city/alpha", "/dumps/graph.ttl", "/api/v1/city/alpha"])
def test_if_match_naming_another_representation_fails_with_412(releases: TwoReleases, path: str) -> None:
    client = releases.client
    plain = {"Accept-Encoding": "identity"}  # gzip would weaken the validator
    tag = client.get(path, headers=plain).headers["etag"]
    assert client.get(path, headers={**plain, "If-Match": '"another"'}).status_code == 412, path
    # If-Match compares strongly (RFC 9110 §13.1.1): a weak validator (/catalog's) never satisfies it.
    satisfied = 412 if path == "/catalog" else 200
    assert tag.startswith("W/") == (path == "/catalog"), path
    assert client.get(path, headers={**plain, "If-Match": f'"another", {tag}'}).status_code == satisfied, path
    assert client.get(path, headers={"If-Match": "*"}).status_code == 200, path


def test_names_never_come_from_the_host_header(releases: TwoReleases) -> None:
    """Without a configured base URL, the feed's ids and the catalogue's IRIs are the graph's own, whatever Host a
    client sends: they are identifiers a harvester keeps, not links."""
    version = releases.second.release
    for host in (None, "forged.example"):
        headers = {"Host": host} if host else {}
        feed = ET.fromstring(releases.client.get("/changes.atom", headers=headers).content)
        ids = [element.text or "" for element in feed.iter(f"{ATOM}id")]
        assert ids == [f"{NS}changes.atom", f"{NS}changes/{version}", f"{NS}changes/{releases.first.release}"]
        response = releases.client.get("/catalog", headers=headers)
        catalogue = Graph().parse(data=response.content, format="turtle")
        (dataset,) = catalogue.subjects(RDF.type, DCAT.Dataset)
        assert dataset == URIRef(f"{NS}catalog#dataset")
        assert f"{NS}catalog/{version}" in str(one(catalogue, dataset, DCTERMS.bibliographicCitation))
        for kind in (DCAT.Catalog, DCAT.Dataset, DCAT.DataService, DCAT.Distribution, URIRef(f"{SPDX}Checksum")):
            named = set(catalogue.subjects(RDF.type, kind))
            assert named and all(str(iri).startswith(NS) for iri in named), kind


def test_the_folder_a_citation_names_lists_its_files(releases: TwoReleases) -> None:
    client, version = releases.client, releases.second.release
    landing = client.get("/").text
    assert f'<a href="/dumps/{version}/">' in landing
    listing = client.get(f"/dumps/{version}/")
    assert listing.status_code == 200 and listing.headers["content-type"] == "application/json"
    files = listing.json()["files"]
    assert len(files) == 4
    for file in files:
        body = client.get(file["url"]).content
        assert (len(body), hashlib.sha256(body).hexdigest()) == (file["bytes"], file["sha256"])
    assert client.get(listing.json()["checksums"]).status_code == 200
    page = client.get(f"/dumps/{version}/", headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html") and files[0]["sha256"] in page.text
    moved = client.get(f"/dumps/{version}")
    assert moved.status_code == 308 and moved.headers["location"] == f"/dumps/{version}/"
    assert client.get("/dumps/1999.1.1/").status_code == 404
    _revalidates(client, f"/dumps/{version}/", releases.second.modified)


@pytest.mark.parametrize(
    "path", ["/changes/{}", "/catalog/{}", "/dumps/{}/", "/dumps/2026.1.1/{}", "/api/v1/city/{}", "/doc/city/{}"]
)
def test_an_error_echoes_a_bounded_part_of_a_long_request(releases: TwoReleases, path: str) -> None:
    response = releases.client.get(path.format("9" * 12_000))
    assert response.status_code == 404
    message = response.json()["error"]["message"]
    assert len(message) < 1_000
    page = releases.client.get(path.format("9" * 12_000), headers={"Accept": "text/html"})
    assert page.status_code in (404, 406) and len(page.content) < 20_000


@pytest.mark.parametrize(
    ("variable", "value", "command"),
    [
        ("SMARTCITY_KG_KEEP_RELEASES", "-5", "build"),
        ("SMARTCITY_KG_QUERY_TIMEOUT", "abc", "serve"),
        ("SMARTCITY_KG_PORT", "x" * 500, "serve"),
        ("SMARTCITY_KG_PORT", "99999", "serve"),
    ],
)
def test_a_bad_setting_in_the_environment_is_a_one_line_usage_error(
    variable: str, value: str, command: str, tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", command],
        cwd=tmp_path,
        env={**os.environ, variable: value},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and variable in done.stderr and "Traceback" not in done.stderr
    assert str(ROOT) not in done.stderr and len(done.stderr) < 300
    assert not (tmp_path / "store").exists()


def test_a_port_out_of_range_on_the_command_line_is_a_usage_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "serve", "--port", "99999"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "1 to 65535" in done.stderr and not (tmp_path / "store").exists()


def test_a_release_listing_changes_its_validators_when_its_dumps_are_pruned(tmp_path: Path) -> None:
    data, store = tmp_path / "data", tmp_path / "s"
    shutil.copytree(MINI, data)
    alliance = data / "alliance.yaml"
    text = alliance.read_text(encoding="utf-8")
    first = run_build(data, store, NS, keep_releases=1)[0].release
    server = start_server(store)
    try:
        with server.client() as client:
            kept = client.get(f"/dumps/{first}/")
            assert kept.json()["kept"] is True
            for name in ("Bund Zwei", "Bund Drei"):  # the release before the current one keeps its dumps too
                alliance.write_text(text.replace("Alpha-Beta-Bund", name), encoding="utf-8")
                run_build(data, store, NS, keep_releases=1)
            again = client.get(f"/dumps/{first}/", headers={"If-None-Match": kept.headers["etag"]})
            assert again.status_code == 200 and again.json()["kept"] is False
            assert again.headers["etag"] != kept.headers["etag"]
    finally:
        stop_server(server)


def test_a_data_date_in_the_future_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, store = tmp_path / "data", tmp_path / "store"
    shutil.copytree(MINI, data)
    future = data / "alliance.yaml"
    os.utime(future, (4_070_908_800, 4_070_908_800))  # 2099-01-01
    assert main(["build", "--data", str(data), "--store", str(store)]) == 1
    error = capsys.readouterr().err
    assert "alliance.yaml" in error and "2099-01-01" in error and "touch" in error
    assert not (store / "current").exists() and not read_releases(store)


def test_the_data_date_is_its_last_commit_also_for_a_relative_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    shutil.copytree(MINI, tmp_path / "data")
    committed = "2026-03-04T05:06:07+00:00"
    env = {
        **os.environ,
        "GIT_COMMITTER_DATE": committed,
        "GIT_AUTHOR_DATE": committed,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }
    for command in (["init", "-q"], ["add", "data"], ["commit", "-q", "-m", "data"]):
        subprocess.run(["git", *command], cwd=tmp_path, env=env, check=True, capture_output=True)
    for file in (tmp_path / "data").iterdir():
        os.utime(file, (1_700_000_000, 1_700_000_000))  # file times say otherwise: the commit decides
    monkeypatch.chdir(tmp_path)
    assert main(["build", "--data", "data", "--store", "store"]) == 0
    assert current_build(tmp_path / "store")[1].modified == committed


# `?format=` on every route of the releases, the dumps and the REST API: a format the route offers is sent, any other
# is a 400 naming what it offers; a file of one format takes its own format's names and refuses the others.
@pytest.mark.parametrize(
    ("path", "status", "media_type"),
    [
        ("/dumps/{v}/?format=bogus", 400, None),
        ("/dumps/{v}/?format=html", 200, "text/html"),
        ("/dumps/{v}/?format=json", 200, "application/json"),
        ("/dumps/graph.ttl?format=nt", 400, None),
        ("/dumps/graph.ttl?format=turtle", 200, "text/turtle"),
        ("/dumps/graph.nt.gz?format=nt", 200, "application/gzip"),
        (f"/dumps/{CHECKSUMS}?format=json", 400, None),
        ("/dumps/{v}/{ttl}?format=jsonld", 400, None),
        ("/dumps/{v}/{ttl}?format=ttl", 200, "text/turtle"),
        (f"/dumps/{{v}}/{CHECKSUMS}?format=html", 400, None),
        ("/changes/{v}/added.nq.gz?format=ttl", 400, None),
        ("/changes.atom?format=json", 400, None),
        ("/changes.atom?format=atom", 200, "application/atom+xml"),
        ("/changes?format=atom", 200, "application/atom+xml"),
        ("/changes?format=nt", 400, None),
        ("/api/v1?format=nt", 400, None),
        ("/api/v1?format=json", 200, "application/json"),
        ("/api/v1/search?q=alpha&format=jsonld", 400, None),
        ("/api/v1/search?q=alpha&format=json", 200, "application/json"),
        ("/api/v1/city?format=json", 200, "application/json"),
        ("/api/v1/city?format=jsonld", 400, None),
        ("/api/v1/city/alpha?format=jsonld", 200, "application/ld+json"),
        ("/api/v1/lookup?id=city/alpha&format=jsonld", 200, "application/ld+json"),
        ("/api/v1/lookup?id=city/alpha&format=ttl", 400, None),
    ],
)
def test_format_is_sent_or_refused_never_ignored(
    releases: TwoReleases, path: str, status: int, media_type: str | None
) -> None:
    version = releases.second.release
    url = path.format(v=version, ttl=dump_name(version, "graph.ttl"))
    response = releases.client.get(url)
    assert response.status_code == status, (url, response.text[:300])
    if media_type is not None:
        assert response.headers["content-type"].split(";")[0] == media_type, url
    else:
        message = response.json()["error"]["message"]
        assert ("format" in message or "not offered" in message) and (
            "use one of" in message or "one form only" in message
        ), message


@pytest.mark.parametrize("accept", [None, "application/json", "application/ld+json", "text/turtle", "text/html, */*"])
@pytest.mark.parametrize("query", ["", "&format=json", "&format=jsonld"])
def test_a_lookup_answers_as_the_item_it_names(releases: TwoReleases, accept: str | None, query: str) -> None:
    headers = {"Accept": accept} if accept else {}
    found = releases.client.get(f"/api/v1/lookup?id=city/alpha{query}", headers=headers)
    itself = releases.client.get(f"/api/v1/city/alpha?{query.lstrip('&')}", headers=headers)
    assert (found.status_code, found.headers.get("content-type"), found.headers.get("vary")) == (
        itself.status_code,
        itself.headers.get("content-type"),
        itself.headers.get("vary"),
    )
    assert found.content == itself.content
    if itself.status_code == 200:
        # The URL that sends these bytes whatever the Accept: the item's own, naming any format but its default.
        location = found.headers["content-location"]
        json_ld = found.headers["content-type"].startswith("application/ld+json")
        assert location == ("/api/v1/city/alpha?format=jsonld" if json_ld else "/api/v1/city/alpha")
        assert releases.client.get(location).content == found.content
        assert found.headers["etag"] == itself.headers["etag"]
        revalidated = releases.client.get(
            f"/api/v1/lookup?id=city/alpha{query}", headers={**headers, "If-None-Match": found.headers["etag"]}
        )
        assert revalidated.status_code == 304


def test_the_changes_are_offered_as_the_atom_feed_too(releases: TwoReleases) -> None:
    feed = releases.client.get("/changes.atom")
    negotiated = releases.client.get("/changes", headers={"Accept": "application/atom+xml"})
    assert negotiated.status_code == 200 and negotiated.content == feed.content
    assert negotiated.headers["content-type"] == feed.headers["content-type"] == "application/atom+xml"
    assert negotiated.headers["content-location"] == "/changes.atom"
    assert releases.client.get("/changes").headers["content-type"] == "application/json"


def test_an_etag_names_exactly_one_sequence_of_bytes(releases: TwoReleases) -> None:
    """A strong ETag promises the same bytes: files of a release tagged alike must be identical."""
    version = releases.second.release
    paths = [
        f"/dumps/{CHECKSUMS}",
        f"/dumps/{version}/{CHECKSUMS}",
        "/dumps/graph.ttl",
        f"/dumps/{version}/{dump_name(version, 'graph.ttl')}",
        f"/changes/{version}/added.nq.gz",
        f"/changes/{version}/removed.nq.gz",
    ]
    by_tag: dict[str, set[bytes]] = {}
    for path in paths:
        response = releases.client.get(path)
        assert response.status_code == 200, path
        by_tag.setdefault(response.headers["etag"], set()).add(response.content)
    assert all(len(bodies) == 1 for bodies in by_tag.values())
    # The current dump and its versioned URL are the same bytes, so they keep one tag.
    assert len(by_tag) == len(paths) - 1


def test_a_thing_a_release_removed_is_listed_without_a_page(tmp_path: Path) -> None:
    """A release that drops a membership lists it as changed, without a link to the page it no longer has (which
    would answer 404), and says so on the HTML page; every link it does give answers 200."""
    data, store = tmp_path / "data", tmp_path / "store"
    shutil.copytree(MINI, data)
    run_build(data, store, NS)
    alliance = data / "alliance.yaml"
    text = alliance.read_text(encoding="utf-8")
    dropped = (
        "      - member: city:beta\n        role: member\n        citations:\n"
        "          - {source: report-a, at: paragraph 1, claim: Betadorf is a member.}\n"
    )
    assert text.count(dropped) == 1
    alliance.write_text(text.replace(dropped, ""), encoding="utf-8")
    second, _ = run_build(data, store, NS)
    gone = f"{NS}id/membership/alpha-beta-beta-member"
    server = start_server(store)
    try:
        with server.client() as client:
            listed = client.get(f"/changes/{second.release}").json()["things"]
            newest = client.get("/changes").json()["releases"][0]["things"]
            assert {thing["id"] for thing in listed} == {thing["id"] for thing in newest}
            by_id = {thing["id"]: thing for thing in listed}
            assert by_id[gone]["page"] is None and by_id[gone]["served"] is False
            assert client.get("/doc/membership/alpha-beta-beta-member").status_code == 404
            kept = [thing for thing in listed if thing["id"] != gone]
            assert kept and all(thing["served"] and thing["page"] for thing in kept)
            for thing in kept:
                assert client.get(thing["page"], headers={"Accept": "text/html"}).status_code == 200
            html = client.get(f"/changes/{second.release}", headers={"Accept": "text/html"}).text
            assert "/doc/membership/alpha-beta-beta-member" not in html
            assert f'<td>{gone} <span class="gone">(no longer in the data)</span>' in html
            assert html.count("no longer in the data") == 1
    finally:
        stop_server(server)
