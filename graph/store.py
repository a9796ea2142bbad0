"""Read access to a published graph: one typed interface, with the embedded Oxigraph store behind it, and the
interface of a store that evaluates a client's query itself (`QueryServer`, a SPARQL server's)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import ClassVar, TypeVar

import pyoxigraph as ox

from graph._convert import serialize_rdf
from graph.formats import GRAPH, RESULTS, Format
from graph.published import DAMAGED, Manifest, StoreUnavailableError, current_build, store_of, verify_store
from graph.sparql_lexer import with_variables

__all__ = [
    "EmbeddedStore",
    "QueryOutcome",
    "QueryServer",
    "ReadStore",
    "Received",
    "open_embedded",
    "serialize_outcome",
    "with_constants",
]

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
QueryOutcome = ox.QueryBoolean | ox.QuerySolutions | ox.QueryTriples
Outcome = TypeVar("Outcome", ox.QuerySolutions, ox.QueryTriples, ox.QueryBoolean)
# What a server answered, parsed as it is read.
Received = ox.QuerySolutions | ox.QueryBoolean | Iterator[ox.Triple]
Read = TypeVar("Read")


class ReadStore(ABC):
    """What the command line and the service need of a store, whichever holds the graph: answers typed by the
    query's form (rows, triples, a truth value), and what it offers beyond queries."""

    name: ClassVar[str]  # how /health names where the graph is held
    # Only standard SPARQL 1.1 may be sent to it: a server runs its own extensions with its powers (see
    # graph.sparql_guard.check_standard); the embedded engine has none beyond the standard's functions.
    standard_only: ClassVar[bool] = False

    @property
    @abstractmethod
    def manifest(self) -> Manifest:
        """The published build's manifest."""

    @property
    @abstractmethod
    def build(self) -> str:
        """Names the build being served, for the answers kept of it: its folder on this machine (where a query
        worker opens it), its id on a remote server."""

    @property
    def path(self) -> Path | None:
        """The build's folder on this machine (its dumps, its store's release history); None for a graph held
        elsewhere."""
        return None

    @property
    def engine(self) -> ox.Store | None:
        """The Oxigraph store in this process, for protocol requests that need its options; None elsewhere."""
        return None

    def select(
        self,
        sparql: str,
        *,
        default_graph: Sequence[str] = (),
        named_graphs: Sequence[str] | None = None,
        substitutions: Mapping[str, Term] | None = None,
    ) -> ox.QuerySolutions:
        """The rows of a SELECT query; TypeError for a query of another form."""
        outcome = self._answer(sparql, ox.QuerySolutions, default_graph, named_graphs, substitutions)
        return _expect(outcome, ox.QuerySolutions)

    def construct(
        self,
        sparql: str,
        *,
        default_graph: Sequence[str] = (),
        named_graphs: Sequence[str] | None = None,
        substitutions: Mapping[str, Term] | None = None,
    ) -> ox.QueryTriples:
        """The triples of a CONSTRUCT or DESCRIBE query; TypeError for a query of another form."""
        outcome = self._answer(sparql, ox.QueryTriples, default_graph, named_graphs, substitutions)
        return _expect(outcome, ox.QueryTriples)

    def ask(
        self,
        sparql: str,
        *,
        default_graph: Sequence[str] = (),
        named_graphs: Sequence[str] | None = None,
        substitutions: Mapping[str, Term] | None = None,
    ) -> bool:
        """The answer of an ASK query; TypeError for a query of another form."""
        outcome = self._answer(sparql, ox.QueryBoolean, default_graph, named_graphs, substitutions)
        return bool(_expect(outcome, ox.QueryBoolean))

    @abstractmethod
    def _answer(
        self,
        sparql: str,
        form: type[QueryOutcome],
        default_graph: Sequence[str],
        named_graphs: Sequence[str] | None,
        substitutions: Mapping[str, Term] | None,
    ) -> QueryOutcome:
        """The outcome of `sparql`, a query expected to be of `form` (the default graph: the published graphs'
        union, unless `default_graph` names some)."""

    @abstractmethod
    def graph_names(self) -> frozenset[str]:
        """The graphs a query may name in its dataset."""

    @abstractmethod
    def verify(self) -> Manifest:
        """The manifest, with the graphs checked to hold what the build published: StoreUnavailableError if not."""

    @abstractmethod
    def quads(self) -> Iterator[ox.Quad]: ...

    @abstractmethod
    def __len__(self) -> int: ...


class QueryServer(ReadStore):
    """A store that evaluates a client's query itself, on a server with limits of its own, rather than leaving it to
    the service's worker processes (which open the build at `path` and are killed at the time limit): the service
    sends it each query with a deadline, all the queries of one request sharing the request's deadline
    (graph.remote.request_deadline), and reads the answer as it arrives."""

    @property
    @abstractmethod
    def graphs(self) -> list[str]:
        """The published graphs, the dataset of a query that names none (the embedded store's union)."""

    @abstractmethod
    def evaluate(
        self,
        sparql: str,
        *,
        graph: bool,
        default_graph: Sequence[str],
        named_graphs: Sequence[str],
        deadline: float,
        read: Callable[[Received], Read],
        max_bytes: int | None = None,
    ) -> Read:
        """`read` applied to the answer to `sparql` (triples when `graph`, else rows or a truth value) while it is
        received, by `deadline` (time.monotonic()); what `read` leaves is never read."""

    @abstractmethod
    def row_cap(self, deadline: float, rows: int = 100_000) -> int | None:
        """The most rows the server answers to one query, when it is `rows` or fewer."""

    @abstractmethod
    def known_row_cap(self, rows: int = 100_000) -> int | None:
        """`row_cap` as far as it has been measured (None also while it has not been)."""

    @abstractmethod
    def close(self) -> None:
        """Closes the connections to the server."""


def _expect(outcome: QueryOutcome, form: type[Outcome]) -> Outcome:
    if isinstance(outcome, form):
        return outcome
    raise TypeError(f"the query gives {_FORMS[type(outcome)]}, not {_FORMS[form]}")


_FORMS: dict[type[QueryOutcome], str] = {
    ox.QuerySolutions: "rows (SELECT)",
    ox.QueryTriples: "triples (CONSTRUCT, DESCRIBE)",
    ox.QueryBoolean: "a truth value (ASK)",
}


class EmbeddedStore(ReadStore):
    """The current published build, opened read-only. The default graph is the union of all graphs."""

    name = "embedded"

    def __init__(self, path: Path, manifest: Manifest, store_dir: Path | None = None) -> None:
        self._path = path
        self._manifest = manifest
        verify_store(path / "oxigraph", manifest.store_checksums, store_dir or store_of(path))
        try:
            self._store = ox.Store.read_only(str(path / "oxigraph"))
        except (OSError, RuntimeError) as error:  # Oxigraph reports a damaged store as a RuntimeError
            raise StoreUnavailableError(
                f"the published store cannot be opened ({error}); repair it with "
                f"`smartcity-kg build --store {store_dir or path.parent.parent}`",
                DAMAGED,
            ) from error

    @property
    def manifest(self) -> Manifest:
        return self._manifest

    @property
    def build(self) -> str:
        return str(self._path)

    @property
    def path(self) -> Path:
        return self._path

    @property
    def engine(self) -> ox.Store:
        return self._store

    def query(
        self,
        sparql: str,
        *,
        default_graph: Sequence[str] = (),
        named_graphs: Sequence[str] | None = None,
        substitutions: Mapping[str, Term] | None = None,
    ) -> QueryOutcome:
        """The outcome of a query of any form (the command line runs whatever it is given)."""
        subs: dict[ox.Variable, Term] = {ox.Variable(name): value for name, value in (substitutions or {}).items()}
        if default_graph:
            return self._store.query(
                sparql,
                default_graph=[ox.NamedNode(g) for g in default_graph],
                named_graphs=_named(named_graphs),
                substitutions=subs,
            )
        return self._store.query(
            sparql, use_default_graph_as_union=True, named_graphs=_named(named_graphs), substitutions=subs
        )

    def _answer(
        self,
        sparql: str,
        form: type[QueryOutcome],
        default_graph: Sequence[str],
        named_graphs: Sequence[str] | None,
        substitutions: Mapping[str, Term] | None,
    ) -> QueryOutcome:
        return self.query(sparql, default_graph=default_graph, named_graphs=named_graphs, substitutions=substitutions)

    def graph_names(self) -> frozenset[str]:
        rows = self.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }")
        return frozenset(row[0].value for row in rows if isinstance(row[0], ox.NamedNode))

    def verify(self) -> Manifest:
        return self._manifest  # its files were checked against their checksums when it was opened

    def quads(self) -> Iterator[ox.Quad]:
        return iter(self._store)

    def __len__(self) -> int:
        return len(self._store)


def with_constants(query: str, iris: Mapping[str, str]) -> str | None:
    """`query` with each `?name` of `iris` replaced by that IRI as Oxigraph writes the term; None when one is not
    an IRI at all (then it names nothing in the store).

    Oxigraph plans a query before substituted values are bound, so a query about one thing may start from every
    node of a class (50 ms instead of under 1 ms on a million triples); a constant lets the plan start from it.
    The term is validated and written by the engine itself (`NamedNode` refuses `>`, spaces, quotes ...), so no
    value can change the query's shape. The query is read by the SPARQL lexer, so only the variables are replaced,
    not the same letters in a string, an IRI or a comment.
    """
    try:
        terms = {name: str(ox.NamedNode(iri)) for name, iri in iris.items()}
    except ValueError:
        return None
    return with_variables(query, terms)


def _named(graphs: Sequence[str] | None) -> list[ox.NamedNode | ox.BlankNode] | None:
    return None if graphs is None else [ox.NamedNode(g) for g in graphs]


def open_embedded(store_dir: Path) -> EmbeddedStore:
    """The current complete build of `store_dir`; StoreUnavailableError when there is none."""
    build, manifest = current_build(store_dir)
    return EmbeddedStore(build, manifest, store_dir)


def serialize_outcome(outcome: QueryOutcome, fmt: Format, prefixes: dict[str, str] | None = None) -> bytes:
    """Serialise a query's outcome in `fmt`: a results format for SELECT/ASK, a graph format for CONSTRUCT/DESCRIBE;
    ValueError for a format of the other kind."""
    if isinstance(outcome, ox.QueryTriples):
        if fmt.kind != "graph":
            kinds = ", ".join(each.name for each in GRAPH)
            raise ValueError(f"a CONSTRUCT or DESCRIBE result is written as {kinds}, not {fmt.name}")
        return serialize_rdf(outcome, fmt.rdf_format, prefixes)
    if not isinstance(fmt.engine, ox.QueryResultsFormat):
        kinds = ", ".join(each.name for each in RESULTS)
        raise ValueError(f"a SELECT or ASK result is written as {kinds}, not {fmt.name}")
    payload = outcome.serialize(format=fmt.engine)
    assert payload is not None
    return payload
