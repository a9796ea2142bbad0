"""All configuration in one place: command-line defaults and `SMARTCITY_KG_*` environment variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from graph.releases import KEEP_RELEASES

__all__ = ["WORKERS_PER_PROCESS", "Settings"]


def _cache_kb(default: int, holds: str) -> Any:
    """The field of a lookup cache's size, in KiB of the text it holds."""
    return Field(default, ge=0, description=f"Text (KiB) of {holds} kept for the current build; 0 turns the cache off.")


# Each server process hands its queries to workers of its own: with one each, a long query holds up every other
# query of its process while another process's worker may idle (docs/performance.md, "Query workers per process"),
# and one runaway query holds all its process has.
WORKERS_PER_PROCESS = 2


class Settings(BaseSettings):
    """Every option of the command line and the service; each field reads `SMARTCITY_KG_<NAME>`."""

    model_config = SettingsConfigDict(env_prefix="SMARTCITY_KG_", extra="ignore")

    # Read where a graph is made (`build`), and for a remote SPARQL server, which records none; a store built here
    # is served in the namespace its manifest records, whatever this says.
    namespace: str = Field("https://w3id.org/smartcity-kg/", description="Base IRI of everything minted.")
    data: Path | None = Field(None, description="Folder of curated YAML; default: ./data, else the bundled data.")
    store: Path = Field(Path("store"), description="Folder holding the published store and dumps.")
    keep_releases: int = Field(
        KEEP_RELEASES,
        ge=1,
        description="Past releases whose dumps stay downloadable at "
        "/dumps/{version}/; older ones keep their record, checksums and changes.",
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    base_url: str | None = Field(
        None, description="Public URL of the service: every link it gives starts so (else the request's address)."
    )
    sparql_endpoint: str | None = Field(None, description="Remote SPARQL 1.1 query endpoint (remote backend).")
    graph_store: str | None = Field(None, description="Remote Graph Store Protocol endpoint, for loading.")
    update_endpoint: str | None = Field(None, description="Remote SPARQL 1.1 update endpoint, for loading.")
    remote_user: str | None = Field(
        None,
        description="User name for the remote SPARQL server (HTTP basic or digest, whichever the server asks for).",
    )
    # A SecretStr shows as ********** wherever the settings are printed, logged or reported in an error.
    remote_password: SecretStr | None = Field(None, description="Password for the remote SPARQL server.")
    remote_timeout_parameter: str | None = Field(
        None,
        description="Query parameter telling the remote server when "
        "to stop: timeout={ms} (Virtuoso), timeout={s} (Fuseki).",
    )
    query_timeout: float = Field(30.0, gt=0, description="Seconds a query may run before it is stopped.")
    max_rows: int = Field(10_000, gt=0, description="Most result rows a SELECT returns over HTTP.")
    max_query_bytes: int = Field(64_000, gt=0, description="Largest query text accepted.")
    max_header_bytes: int = Field(16_384, gt=0, description="Largest total size of a request's headers.")
    max_nesting: int = Field(64, gt=0, description="Deepest nesting of brackets accepted in a query.")
    # One per core: one event loop is one core, and the Python HTTP stack, not the engine, bounds cheap requests.
    server_processes: int = Field(
        default_factory=lambda: len(os.sched_getaffinity(0)),
        gt=0,
        description="Server processes answering on the listening socket (default: one per core available).",
    )
    # WORKERS_PER_PROCESS per core, as server_processes is one per core; `serve` gives each server process
    # WORKERS_PER_PROCESS when this is not set, however many processes --server-processes asks for.
    query_workers: int = Field(
        default_factory=lambda: WORKERS_PER_PROCESS * len(os.sched_getaffinity(0)),
        gt=0,
        description="Worker processes evaluating queries, shared out among the server processes (at least one "
        "each; default: two per server process).",
    )
    max_pending_queries: int = Field(16, ge=0, description="Queries allowed to wait for a worker.")
    contact_email: str = "smartcity-kg@example.org"
    publisher_name: str = "smartcity-kg"
    client_query_seconds: float = Field(
        60.0,
        gt=0,
        description="Seconds of query time one client (IP address) "
        "may use per minute; beyond it, queries are refused with 429.",
    )
    query_memory_mb: int = Field(
        2048,
        ge=256,
        description="Memory (MiB) one query worker may allocate while it evaluates; a query needing more is stopped.",
    )
    # Above what the engine's caches settle at once a worker has read most of a million-triple store (about
    # 110 MiB): a worker replaced for its cache would start cold, and cost more time than its memory is worth.
    worker_rest_mb: int = Field(
        160,
        ge=16,
        description="Memory (MiB) a query worker may keep between queries; one "
        "holding more after a query is replaced by a fresh one.",
    )
    # The engine's caches are worth their memory while queries keep coming; once none has come for a while, a
    # worker's caches (about 90 MiB at a million triples) are given back, and the next query starts cold.
    worker_idle_seconds: float = Field(
        60.0,
        ge=0,
        allow_inf_nan=False,
        description="Seconds after which a query worker that has evaluated queries and has been idle since is "
        "replaced by a fresh one, giving back its caches' memory; 0 keeps idle workers as they are.",
    )
    result_cache_mb: int = Field(
        64,
        ge=0,
        description="Memory (MiB) keeping answers to repeated queries on the current build; 0 turns the cache off.",
    )
    response_cache_mb: int = Field(
        32,
        ge=0,
        description="Memory (MiB) keeping rendered descriptions and REST items of the current build; 0 turns the "
        "cache off.",
    )
    # The caches below hold what lookups compute from the store, counted as the text they hold (IRIs and literals),
    # in KiB: their values are small, and a MiB would be too coarse to size them.
    # 8 MiB: about 600 descriptions of the curated data (14 kB of text on average; benchmarks/cache_sizes.py).
    description_cache_kb: int = _cache_kb(8192, "the descriptions of things (/id, /doc)")
    vocabulary_cache_kb: int = _cache_kb(1024, "vocabulary nodes' triples in descriptions")
    label_cache_kb: int = _cache_kb(512, "vocabulary labels in REST items")
    name_pool_cache_kb: int = _cache_kb(4096, "the reconciliation's name pools (one per selection of types)")
    reading_cache_kb: int = _cache_kb(4096, "the guard's verdicts on query texts and the formats chosen for them")
    short_links_per_minute: int = Field(
        20, gt=0, description="Short links one client (IP address) may create per minute; more are refused with 429."
    )
    client_concurrent_queries: int = Field(
        2,
        gt=0,
        description="Queries one client (IP address) may have running or "
        "waiting for a worker at once; more are refused with 429.",
    )
    max_answer_bytes: int = Field(
        16 * 2**20,
        ge=2**16,
        description="Largest answer to a query, in bytes; a longer "
        "one is cut at a row and marked X-SPARQL-Truncated (or refused where it cannot be).",
    )
    request_head_timeout: float = Field(
        10.0,
        gt=0,
        description="Seconds a client has to send a request's line and "
        "headers once it has connected or started the request.",
    )
    request_body_timeout: float = Field(
        30.0, gt=0, description="Seconds a client has to send a request's body after its headers."
    )
    send_timeout: float = Field(
        30.0,
        gt=0,
        description="Seconds an answer may wait for a client that does not read it before the connection is dropped.",
    )
