"""The one error type of the service: what went wrong, as an HTTP status, a message for the client and headers.

Every error a request can meet is a `ServiceError` (or a subclass naming a kind the code catches, such as
`StoreUnavailableError`), raised wherever it is found, in `graph` or in `api`; `api.http.errors` is the one place
that writes it as a response. It lives here, in `graph`, because the pipeline's shared parts (the query guard, the
store) find errors too, and `graph` never imports `api`.

Errors of the pipeline and the command line (`graph.pipeline.load.LoadError`, `graph.pipeline.InvalidGraphError`,
the YAML reader's `ShapeError`) are not problems: they are reports with a file, a line and a field for whoever
curates the data, printed by the command line, and never become HTTP responses.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["ServiceError"]


class ServiceError(Exception):
    """An error a client is answered with: `status`, `public` (what the client is told; `str()` is the message for
    the log and the command line, which may say more), `headers` for the response, `extra` members for its body."""

    status: int = 500

    def __init__(
        self,
        status: int | None,
        message: str,
        *,
        public: str | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
        self.public = message if public is None else public
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def afresh(self) -> ServiceError:
        """A copy to raise again: an error remembered for a repeated request must not carry the frames of the
        request it was first raised in, nor be raised by two threads at once."""
        fresh = self.__class__.__new__(self.__class__)
        Exception.__init__(fresh, *self.args)
        fresh.__dict__.update(self.__dict__)
        return fresh
