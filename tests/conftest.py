"""Shared fixtures: the curated data built into a real store, and the real service on a loopback port."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import httpx
import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.term import Node

from graph._convert import serialize_rdf
from graph.pipeline import run_build
from graph.settings import Settings
from graph.store import EmbeddedStore, open_embedded

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
SHARED = ROOT.parent / "shared"
NAMESPACE = Settings().namespace


class Format(NamedTuple):
    suffix: str
    media_type: str
    parser: str  # rdflib's name of the format


# The RDF formats the linked-data routes offer: suffix, media type, and how rdflib parses the answer.
RDF_FORMATS = [
    Format("ttl", "text/turtle", "turtle"),
    Format("jsonld", "application/ld+json", "json-ld"),
    Format("nt", "application/n-triples", "nt"),
    Format("rdf", "application/rdf+xml", "xml"),
]


def rdflib_nquads(graphs: dict[str, Iterable[tuple[Node, Node, Node]]]) -> bytes:
    """The quads of named graphs as the dumps hold them, made without the build's own writer: rdflib's N-Triples
    lines of each graph, with its name, sorted as text, each once, and written again by Oxigraph."""
    lines: set[str] = set()
    for name, triples in graphs.items():
        graph = Graph()
        for triple in triples:
            graph.add(triple)
        text = graph.serialize(format="nt")
        lines.update(f"{line.removesuffix(' .')} <{name}> ." for line in text.splitlines() if line.strip())
    quads = ox.parse("\n".join(sorted(lines)).encode(), format=ox.RdfFormat.N_QUADS)
    return serialize_rdf(quads, ox.RdfFormat.N_QUADS)


def free_port() -> int:
    """A free loopback port: any, or one of SMARTCITY_KG_TEST_PORTS (`18100-18199`) where the machine is shared."""
    low, _, high = os.environ.get("SMARTCITY_KG_TEST_PORTS", "0-0").partition("-")
    candidates = list(range(int(low), int(high or low) + 1))
    random.shuffle(candidates)  # servers started a moment ago may not be listening yet
    for candidate in candidates:
        with socket.socket() as sock:
            # As the servers bind: a port whose last connections are still in TIME_WAIT is free to them, and a
            # range of twenty ports would otherwise run out within a minute of tests.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            port: int = sock.getsockname()[1]
            return port
    raise RuntimeError(f"no free port in {low}-{high}")


@pytest.fixture(scope="session")
def published_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real curated data, built and published once per test run."""
    store = tmp_path_factory.mktemp("store")
    run_build(DATA, store, NAMESPACE)
    return store


def negotiated(
    client: httpx.Client, base: str, fmt: Format, by_suffix: bool, *, offered: list[Format], browser: str
) -> httpx.Response:
    """`base` in `fmt`, asked for by its suffix (from a browser) or by Accept, with the headers every linked-data
    answer owes: its media type, Content-Location naming the format, Vary, and a Link to each format offered."""
    if by_suffix:
        response = client.get(f"{base}.{fmt.suffix}", headers={"Accept": browser})
    else:
        response = client.get(base, headers={"Accept": fmt.media_type})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == fmt.media_type
    assert response.headers["content-location"] == f"{base}.{fmt.suffix}"
    assert "Accept" in response.headers["vary"]
    for other in offered:
        assert f'<{base}.{other.suffix}>; rel="alternate"; type="{other.media_type}"' in response.headers["link"]
    return response


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    store: Path

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)  # type: ignore[arg-type]


def start_server(store: Path, env: dict[str, str] | None = None, timeout: float = 30) -> Server:
    """`smartcity-kg serve` in its own process, waited for until /health answers."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--store", str(store), "--port", str(port)],
        # One server process unless a test asks for more: the answer cache, shared evaluations and the clients'
        # query-time shares belong to a process, and tests of them must know which process answers.
        cwd=ROOT,
        env={"SMARTCITY_KG_SERVER_PROCESSES": "1", **os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.stderr.read().decode() if process.stderr else ''}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code in (200, 503):
                return Server(url, process, store)
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start in time")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
    if server.process.stderr is not None:
        server.process.stderr.close()


@pytest.fixture(scope="session")
def live_server(published_store: Path) -> Iterator[Server]:
    """The real service over a real socket, serving the real curated data."""
    server = start_server(published_store)
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def client(live_server: Server) -> Iterator[httpx.Client]:
    """A keep-alive HTTP client of the live server."""
    with live_server.client() as client:
        yield client


@pytest.fixture(scope="module")
def store(published_store: Path) -> EmbeddedStore:
    """The published curated store, opened read-only in the test process."""
    return open_embedded(published_store)


@pytest.fixture
def shared_dir() -> Path:
    """`../shared` beside the checkout (official shapes, W3C tests); tests needing it skip when it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is not present (vendored reference files live there)")
    return SHARED
