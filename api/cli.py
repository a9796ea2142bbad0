"""The `smartcity-kg` console script: the pipeline's commands plus `serve`."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path

from pydantic import SecretStr
from rich.markup import escape

from graph.cli import build_parser, cmd_build, err, load_settings, port_number, remote_options, run
from graph.published import StoreUnavailableError, current_build
from graph.settings import WORKERS_PER_PROCESS, Settings

__all__ = ["main", "workers_per_process"]


def workers_per_process(settings: Settings) -> int:
    """The query workers of each server process (each opens the published store read-only and keeps workers of its
    own): its share of `query_workers` when that is set, else WORKERS_PER_PROCESS, however many processes run."""
    if "query_workers" in settings.model_fields_set:
        return -(-settings.query_workers // settings.server_processes)
    return WORKERS_PER_PROCESS


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    if settings.sparql_endpoint is None:
        try:
            current_build(settings.store)
        except StoreUnavailableError:
            err.print(f"No published graph in {escape(str(settings.store))} yet: building it first.")
            status = cmd_build(args, settings)
            if status != 0:
                return status
    # The web stack is imported only here, so the pipeline's commands start without it.
    import uvicorn  # noqa: PLC0415

    from api.http.server import METRICS_DIR, SERVE_SETTINGS, server_options  # noqa: PLC0415

    processes = settings.server_processes
    workers = workers_per_process(settings)
    os.environ[SERVE_SETTINGS] = _handed_over(settings.model_copy(update={"query_workers": workers}))
    err.print(
        f"Serving on http://{settings.host}:{settings.port}/ (SPARQL at /sparql, API docs at /docs) with "
        f"{processes} server process{'es' if processes > 1 else ''}, {workers} query worker"
        f"{'s' if workers > 1 else ''} each."
    )
    # With several processes, every process's figures in one /metrics, whichever process answers it.
    sharing = tempfile.TemporaryDirectory(prefix="smartcity-kg-metrics-") if processes > 1 else nullcontext(None)
    with sharing as shared:
        if shared is not None:
            os.environ[METRICS_DIR] = shared
        # An import string and a factory: uvicorn starts `processes` processes that share the listening socket,
        # each making its own app (httptools and uvloop are used when installed, as uvicorn[standard] installs).
        uvicorn.run(
            "api.app:serve_app",
            factory=True,
            workers=processes,
            host=settings.host,
            port=settings.port,
            log_level="warning",
            access_log=False,
            proxy_headers=True,
            timeout_graceful_shutdown=5,
            **server_options(settings),
        )
    return 0


def _handed_over(settings: Settings) -> str:
    """The settings as JSON for the server processes this command starts. Pydantic writes a secret as asterisks;
    here its value is kept, since only these processes read their environment and they need the password."""
    fields = settings.model_dump(mode="json")
    for name, value in settings:
        if isinstance(value, SecretStr):
            fields[name] = value.get_secret_value()
    return json.dumps(fields)


def main(argv: Sequence[str] | None = None) -> int:
    settings = load_settings()
    parser, add = build_parser(settings)
    serve = add(
        "serve",
        "Serve SPARQL, linked data, the REST API, the catalogue and the pages over HTTP. "
        "Builds the store first when there is none.",
        cmd_serve,
    )
    serve.add_argument("--host", help=f"address to listen on (default: {settings.host})")
    serve.add_argument("--port", type=port_number, help=f"port to listen on (default: {settings.port})")
    serve.add_argument("--store", type=Path, help=f"published store folder (default: {settings.store})")
    serve.add_argument("--data", type=Path, help="curated data to build from when there is no store")
    serve.add_argument("--sparql-endpoint", help="use a remote SPARQL 1.1 endpoint instead of the embedded store")
    remote_options(serve)
    serve.add_argument(
        "--server-processes",
        type=int,
        metavar="N",
        help=f"server processes sharing the listening socket (default: {settings.server_processes}, one per core)",
    )
    # The limits and caches have no option of their own: operators set them where they set the rest of a service.
    serve.epilog = (
        "Limits and caches are read from the environment as SMARTCITY_KG_<SETTING>, for example "
        "SMARTCITY_KG_QUERY_TIMEOUT=30, SMARTCITY_KG_QUERY_WORKERS=4, SMARTCITY_KG_WORKER_IDLE_SECONDS=60 or "
        "SMARTCITY_KG_RESULT_CACHE_MB=64; docs/security.md lists every one with its default and what happens "
        "when it is reached."
    )
    return run(parser, settings, argv)


if __name__ == "__main__":
    sys.exit(main())
