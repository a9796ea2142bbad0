"""A graph kept on an existing SPARQL 1.1 server: queried by the SPARQL Protocol, loaded by the Graph Store Protocol.

The published graphs are named (`{ns}graph/data`, `{ns}graph/ontology`); every query names them as its dataset,
so graphs being uploaded for the next build stay invisible until one update request moves them in place, and
what a server keeps in its own default graph (Virtuoso's system graphs) never shows.

Nothing a server answers is passed on unchecked: the status, the media type and the syntax of every answer are
verified, an answer is read only until its deadline and its size limit, and a server's own words (which may name
its internals) go to the log, never to a client.
"""

from graph.remote.endpoints import Credentials, RemoteEndpoints, settings_problem
from graph.remote.exchange import (
    AnswerTooLargeError,
    BadAnswerError,
    DeadlineError,
    QueryRefusedByServerError,
    request_deadline,
)
from graph.remote.publish import publish_remote
from graph.remote.store import Received, RemoteStore, bind_values, solutions

__all__ = [
    "AnswerTooLargeError",
    "BadAnswerError",
    "Credentials",
    "DeadlineError",
    "QueryRefusedByServerError",
    "Received",
    "RemoteEndpoints",
    "RemoteStore",
    "bind_values",
    "publish_remote",
    "request_deadline",
    "settings_problem",
    "solutions",
]
