"""Where the remote SPARQL server answers, and how this service signs in to it."""

from __future__ import annotations

import threading
from collections.abc import Generator
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import httpx

from graph.settings import Settings

__all__ = ["Credentials", "RemoteEndpoints", "safe_url", "settings_problem"]


@dataclass(frozen=True)
class Credentials:
    """A user and password for a server that takes writes (or reads) only with them; the password never shows."""

    user: str
    password: str = field(repr=False)

    def auth(self) -> httpx.Auth:
        return _ChallengeAuth(self)


@dataclass(frozen=True)
class RemoteEndpoints:
    query: str
    update: str | None = None
    graph_store: str | None = None
    credentials: Credentials | None = None
    # A query parameter telling the server to stop at the deadline: "timeout={ms}" (Virtuoso), "timeout={s}"
    # (Fuseki); `ms` and `s` are replaced by the time left.
    timeout_parameter: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> RemoteEndpoints:
        assert settings.sparql_endpoint is not None
        problem = settings_problem(settings)
        if problem is not None:
            raise ValueError(problem)
        credentials = None
        if settings.remote_user is not None:
            password = settings.remote_password.get_secret_value() if settings.remote_password else ""
            credentials = Credentials(settings.remote_user, password)
        return cls(
            settings.sparql_endpoint,
            settings.update_endpoint,
            settings.graph_store,
            credentials,
            settings.remote_timeout_parameter,
        )


def settings_problem(settings: Settings) -> str | None:
    """What makes the remote server's settings unusable (said at start, rather than at the first request), or None."""
    if settings.remote_password is not None and not settings.remote_user:
        return (
            "a password for the remote SPARQL server is set (SMARTCITY_KG_REMOTE_PASSWORD or --remote-password) "
            "but no user: set SMARTCITY_KG_REMOTE_USER or --remote-user as well"
        )
    for option, url in (
        ("--sparql-endpoint", settings.sparql_endpoint),
        ("--graph-store", settings.graph_store),
        ("--update-endpoint", settings.update_endpoint),
    ):
        if url is not None:
            parts = urlsplit(url)
            if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
                return f"{option} must be an http:// or https:// URL with a host, not {safe_url(url)!r}"
    return None


class _ChallengeAuth(httpx.Auth):
    """Answers a server's challenge in its own scheme: Digest when it asks for digest, Basic for basic. Credentials
    go only to an endpoint that asked for them (learnt per URL, then sent from the start to that URL alone)."""

    requires_request_body = True

    def __init__(self, credentials: Credentials) -> None:
        self._credentials = credentials
        self._schemes: dict[str, httpx.Auth] = {}  # endpoint URL (without its query) → the scheme it asked for
        self._lock = threading.Lock()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        endpoint = str(request.url.copy_with(query=None))
        with self._lock:
            known = self._schemes.get(endpoint)
        if known is not None:
            yield from known.auth_flow(request)
            return
        response = yield request
        if response.status_code != 401:
            return
        scheme = response.headers.get("www-authenticate", "").split(" ", 1)[0].lower()
        if scheme not in ("digest", "basic"):
            return
        user, password = self._credentials.user, self._credentials.password
        chosen = httpx.DigestAuth(user, password) if scheme == "digest" else httpx.BasicAuth(user, password)
        with self._lock:
            self._schemes[endpoint] = chosen
        yield from chosen.auth_flow(request)


def safe_url(url: str) -> str:
    """`url` without any user or password in it, for the log."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.hostname or "")) if "@" in parts.netloc else url
