"""The `smartcity-kg` console script: the pipeline's commands plus `serve`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.markup import escape

from graph.cli import build_parser, cmd_build, err, load_settings, remote_options, run
from graph.published import StoreUnavailableError, current_build
from graph.settings import Settings

__all__ = ["main"]


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

    from api.app import create_app  # noqa: PLC0415
    from api.limits import server_options  # noqa: PLC0415
    from api.observability import enable_access_log  # noqa: PLC0415

    enable_access_log()  # one JSON line per request on standard output, with its request id
    err.print(f"Serving on http://{settings.host}:{settings.port}/ (SPARQL at /sparql, API docs at /docs).")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning",
                access_log=False, proxy_headers=True, timeout_graceful_shutdown=5, **server_options(settings))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    settings = load_settings()
    parser, add = build_parser(settings)
    serve = add("serve", "Serve SPARQL, linked data, the REST API, the catalogue and the pages over HTTP. "
                "Builds the store first when there is none.", cmd_serve)
    serve.add_argument("--host", help=f"address to listen on (default: {settings.host})")
    serve.add_argument("--port", type=int, help=f"port to listen on (default: {settings.port})")
    serve.add_argument("--store", type=Path, help=f"published store folder (default: {settings.store})")
    serve.add_argument("--data", type=Path, help="curated data to build from when there is no store")
    serve.add_argument("--sparql-endpoint", help="use a remote SPARQL 1.1 endpoint instead of the embedded store")
    remote_options(serve)
    return run(parser, settings, argv)


if __name__ == "__main__":
    sys.exit(main())
