"""How the HTTP server runs the service: uvicorn's options and what the server processes read from their
environment. The supervisor of `smartcity-kg serve` imports only this, not the app: it binds the socket and watches
the server processes, and would otherwise hold a copy of everything they load (about 20 MB)."""

from __future__ import annotations

from typing import Any

from graph.settings import Settings

__all__ = ["METRICS_DIR", "SERVE_SETTINGS", "max_url_bytes", "server_options"]

# `smartcity-kg serve` hands its settings to every server process it starts in this environment variable (JSON).
SERVE_SETTINGS = "SMARTCITY_KG_SERVE_SETTINGS"
# With several server processes, each writes its figures into this folder (named by the environment variable)
# and /metrics, whichever process answers it, adds up every process's: a scrape sees the whole service.
METRICS_DIR = "SMARTCITY_KG_METRICS_DIR"
HTTPTOOLS_MAX_URL = 65535  # httptools cannot parse a longer URL (16-bit offsets)


def max_url_bytes(max_query_bytes: int) -> int:
    """The longest URL read: room for a query of the largest size, percent-encoded, and other parameters, as far
    as the HTTP parser can go; a longer query is sent in a POST body."""
    return min(3 * max_query_bytes + 8192, HTTPTOOLS_MAX_URL)


def server_options(settings: Settings) -> dict[str, Any]:
    """What `uvicorn.run` (or uvicorn.Config) needs, with one server process or several: the protocol that applies
    the HTTP limits (named, so that only the server processes import it; each applies the limits of its settings,
    see `api.http.limits.apply_limits`), and the parser's own bound on an incomplete request."""
    return {
        "http": "api.http.limits:BoundedHttpProtocol",
        "timeout_keep_alive": 5,
        "h11_max_incomplete_event_size": max_url_bytes(settings.max_query_bytes) + settings.max_header_bytes,
    }
