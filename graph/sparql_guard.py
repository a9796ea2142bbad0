"""Refusals before evaluation: what a query may not do here, found by tokenising it the way the SPARQL grammar does.

The engine is never asked to parse what is refused here: oversize text, brackets nested deep enough to exhaust
its stack, `SERVICE` (the engine would fetch any URL: server-side request forgery) wherever the engine could read
it (see _refuse_service), SPARQL Update, and datasets naming graphs the store does not have. Strings, IRIs,
comments and prefixed names are tokens of their own, so `"SERVICE"` in a literal, `ex:LOAD` or
`# no INSERT here` are never mistaken for keywords. Reading costs time linear in the text's length.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin

import pyoxigraph as ox

from graph.errors import ServiceError
from graph.sparql_lexer import OPENING, TOKENS, Token

__all__ = [
    "Analysis",
    "QueryRefusedError",
    "analyse_query",
    "check_dataset",
    "check_size",
    "check_standard",
    "check_syntax",
]

UPDATE_KEYWORDS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH", "USING"}
)
QUERY_FORMS = frozenset({"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"})
# Functions whose value changes from one evaluation to the next: such a query's answer is never reused.
NONDETERMINISTIC = frozenset({"RAND", "NOW", "UUID", "STRUUID", "BNODE"})
# A lookup runs in the server's own process: its cost must be bounded by its work, not only by its form. Each
# described thing costs a range scan, and the text itself is parsed there.
MAX_LOOKUP_TERMS = 8
# Each BASE resolves against the one before, so a text of thousands would cost time quadratic in its length; a
# query needs one.
MAX_BASES = 16
MAX_LOOKUP_BYTES = 4096

_PN_LOCAL_ESCAPE = re.compile(r"\\(.)")
_UCHAR = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_SERVICE = re.compile("service", re.IGNORECASE)
# The start of a variable's name, a local name, a blank node label or a language tag that the engine reads as part
# of that name whatever follows: only these plain characters, so no other reading of the text can split them.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_:-]*+")
# What, inside `<…>` read as an IRI, would change the reading of what follows if the engine read that `<` as the
# operator "less than" instead: the start of a comment or a string, a bracket.
_SHIFTING = frozenset("#'()[]")
# The tokens after which, in an expression, `<` can only begin a term (the operator `<` is binary, so it needs an
# operand before it): an opening bracket, a separator, another operator. After anything else (a term, `)`, `]`,
# the `}` closing EXISTS { … }, the `>>` closing a quoted triple, a keyword) the engine may read `<` as "less
# than": an allow-list, so that no operand end the grammar has or gains is missed.
_TERM_STARTS = frozenset({"(", ",", "=", "!", "&", "|", "+", "-", "*", "/", "^"})


class QueryRefusedError(ServiceError):
    """The request is refused before evaluation; `status` is the HTTP status, the message says why."""


@dataclass(frozen=True)
class Analysis:
    """What evaluation needs to know of a query that passed the guard."""

    form: str | None  # SELECT, ASK, CONSTRUCT or DESCRIBE; None when the text has none (the parser will say why)
    from_graphs: tuple[str, ...]  # FROM <g>, resolved against BASE and PREFIX
    from_named_graphs: tuple[str, ...]  # FROM NAMED <g>
    deterministic: bool  # the same store always gives the same answer
    lookup: bool = False  # one triple pattern from a constant subject: its cost is bounded (see _is_lookup)


def _where(query: str, offset: int) -> str:
    line = query.count("\n", 0, offset) + 1
    column = offset - (query.rfind("\n", 0, offset) + 1) + 1
    return f"line {line}, column {column}"


def check_size(size: int, limit: int, status: int = 413) -> None:
    """Refuse a query text of `size` bytes over `limit` (413 in a body, 414 in a URL)."""
    if size > limit:
        raise QueryRefusedError(
            status,
            f"the query is {size} bytes long; this endpoint accepts at most {limit} bytes (setting max_query_bytes)",
        )


def analyse_query(query: str, max_nesting: int, base: str = "") -> Analysis:
    """The guard's verdict on a query text: an Analysis, or QueryRefusedError saying what is not allowed and where.

    `base` is the IRI relative IRIs resolve against when the query has no BASE of its own. A pure function of its
    arguments: the service remembers verdicts in each app's cache of readings (api/sparql/readings.py).
    """
    return _analyse(query, max_nesting, base)


def _analyse(query: str, max_nesting: int, base: str) -> Analysis:
    tokens, blanked = _read(query, max_nesting)
    _refuse_service(query, blanked)
    form: str | None = None
    deterministic = True
    prefixes: dict[str, str] = {}
    datasets: dict[bool, list[str]] = {False: [], True: []}  # FROM NAMED? → graphs
    bases = 0
    for index, token in enumerate(tokens):
        if token.kind != "word":
            continue
        word = token.text.upper()
        _refuse_keyword(query, token, word)
        following = tokens[index + 1 : index + 3]
        if word in QUERY_FORMS:
            form = form or word
        elif word in NONDETERMINISTIC:
            deterministic = False
        elif word == "BASE" and following and following[0].kind == "iri":
            bases += 1
            if bases > MAX_BASES:
                raise QueryRefusedError(
                    400, f"the query declares more than {MAX_BASES} BASE IRIs; one is all a query needs"
                )
            base = _iri(following[0].text, base)
        elif word == "PREFIX" and len(following) == 2 and following[0].kind == "pname":
            prefixes[following[0].text[:-1]] = _iri(following[1].text, base) if following[1].kind == "iri" else ""
        elif word == "FROM":
            named = bool(following) and following[0].kind == "word" and following[0].text.upper() == "NAMED"
            graph = _graph_name(following[1:] if named else following[:1], base, prefixes)
            if graph is not None:
                datasets[named].append(graph)
    return Analysis(
        form,
        tuple(datasets[False]),
        tuple(datasets[True]),
        deterministic,
        len(query) <= MAX_LOOKUP_BYTES and _is_lookup(tokens) and not (datasets[False] or datasets[True]),
    )


_TERMS = frozenset({"iri", "pname"})
_VALUES = frozenset({"iri", "pname", "var", "string", "number"})


def _is_lookup(tokens: list[Token]) -> bool:
    """Whether the query asks only about one thing's own triples: `DESCRIBE` of constants, or a SELECT, ASK or
    CONSTRUCT whose WHERE clause is a single triple pattern with a constant subject (no path, filter or
    function), ordered by variables at most, with LIMIT/OFFSET. The engine answers such a query from one range
    of its subject index, so its cost is bounded by that subject's triples: it cannot run away. Anything else
    is not a lookup, however cheap it may be."""
    kinds = [token.kind for token in tokens]
    words = [token.text.upper() if token.kind == "word" else token.text for token in tokens]
    at = 0
    while at < len(tokens) and words[at] in ("BASE", "PREFIX"):  # the prologue
        at += 3 if words[at] == "PREFIX" else 2
    if at >= len(tokens):
        return False
    form = words[at]
    at += 1
    if form == "DESCRIBE":
        return at < len(tokens) <= at + MAX_LOOKUP_TERMS and all(kind in _TERMS for kind in kinds[at:])
    if form == "SELECT":
        at += words[at : at + 1] in (["DISTINCT"], ["REDUCED"])
        if words[at : at + 1] == ["*"]:
            at += 1
        else:
            start = at
            while at < len(tokens) and kinds[at] == "var":
                at += 1
            if at == start:
                return False
    elif form == "CONSTRUCT":
        at = _template(tokens, at)
        if at < 0:
            return False
    elif form != "ASK":
        return False
    at += words[at : at + 1] == ["WHERE"]
    at = _one_pattern(tokens, at)
    return at >= 0 and _modifiers(tokens, words, at)


def _template(tokens: list[Token], at: int) -> int:
    """The index after a CONSTRUCT template of plain terms (`{ ?s <p> ?o ; <q> "x" . }`), or -1."""
    if at >= len(tokens) or tokens[at].text != "{":
        return -1
    at += 1
    while at < len(tokens) and tokens[at].text != "}":
        token = tokens[at]
        if not (token.kind in _VALUES or token.text in (".", ";", ",", "a")):
            return -1
        at += 1
    return at + 1 if at < len(tokens) else -1


def _one_pattern(tokens: list[Token], at: int) -> int:
    """The index after `{ <subject> predicate object [.] }` with a constant subject, or -1."""
    texts = [token.text for token in tokens[at : at + 4]]
    kinds = [token.kind for token in tokens[at : at + 4]]
    if len(texts) < 4 or texts[0] != "{" or kinds[1] not in _TERMS:
        return -1
    if not (kinds[2] in _TERMS or kinds[2] == "var" or texts[2] == "a"):
        return -1
    at += 3
    if kinds[3] == "string":
        at += 1
        following = [token.text for token in tokens[at : at + 2]]
        if tokens[at : at + 1] and tokens[at].kind == "langtag":
            at += 1
        elif following == ["^", "^"] and tokens[at + 2 : at + 3] and tokens[at + 2].kind in _TERMS:
            at += 3
    elif kinds[3] in _VALUES or texts[3] in ("true", "false"):
        at += 1
    else:
        return -1
    if tokens[at : at + 1] and tokens[at].text == ".":
        at += 1
    return at + 1 if tokens[at : at + 1] and tokens[at].text == "}" else -1


def _modifiers(tokens: list[Token], words: list[str], at: int) -> bool:
    """Whether what follows the WHERE clause is only ORDER BY variables, LIMIT and OFFSET (`words`: the tokens'
    texts, keywords in upper case)."""
    if words[at : at + 2] == ["ORDER", "BY"]:
        at += 2
        start = at
        while at < len(tokens):
            if tokens[at].kind == "var":
                at += 1
            elif (
                words[at] in ("ASC", "DESC")
                and words[at + 1 : at + 2] == ["("]
                and tokens[at + 2 : at + 3]
                and tokens[at + 2].kind == "var"
                and words[at + 3 : at + 4] == [")"]
            ):
                at += 4
            else:
                break
        if at == start:
            return False
    while words[at : at + 1] in (["LIMIT"], ["OFFSET"]) and tokens[at + 1 : at + 2] and tokens[at + 1].kind == "number":
        at += 2
    return at == len(tokens)


def _refuse_service(query: str, blanked: str) -> None:
    """Refuse `query` if the engine could read the keyword SERVICE anywhere in it, however it is spelled
    (`blanked`: the query as `_read` blanks it).

    The engine reads keywords without requiring a break after them (`SERVICEex:x` is SERVICE and `ex:x`,
    `trueSERVICE` is `true` and SERVICE), so this reading does not look for a word: it blanks out only what the
    engine can read as nothing but a string, a comment, an IRI or the name of a variable, prefixed name, blank
    node or language tag, and refuses the letters `service` in any case anywhere in what is left. The text with
    its `\\u` escapes decoded is read the same way too, so that no engine reading escapes earlier can differ.
    Some harmless texts are refused with them (a prefix named `myservice:`); nothing the engine could take for
    SERVICE passes.
    """
    readings = [blanked]
    if _UCHAR.search(query):
        decoded = _UCHAR.sub(lambda m: chr(min(int(m.group(1) or m.group(2), 16), 0x10FFFF)), query)
        readings.append(_read(decoded, len(decoded) + 1)[1])
    for index, text in enumerate(readings):
        found = _SERVICE.search(text)
        if found is not None:
            where = f"at {_where(query, found.start())}" if index == 0 else "written with \\u escapes"
            raise QueryRefusedError(
                400,
                f"SERVICE ({where}) is not allowed: this endpoint never sends requests "
                "to other servers, so federated queries are refused",
            )


def _read(text: str, max_nesting: int) -> tuple[list[Token], str]:
    """`text` read once for both checks of the guard: its tokens but white space and comments, and the text with
    every string, comment, IRI and name blanked out (see _refuse_service).

    QueryRefusedError as soon as brackets nest more than `max_nesting` deep, so that a text refused for its nesting
    is read no further than where it goes too deep; else, after the whole text is read (a nesting too deep further
    on is refused first), where `<…>` could be read either as an IRI or as the operator `<` followed by more of the
    query, and the two readings would differ in what follows."""
    tokens: list[Token] = []
    pieces: list[str] = []
    brackets: list[str] = []  # the open brackets: "expression" for a `(` where `<` can be the operator
    values = False  # a VALUES clause was read: its `{ … }` holds data, not expressions
    last_text, last_end = "", -1  # the previous token that is neither white space nor comment
    two_readings: QueryRefusedError | None = None
    for match in TOKENS.finditer(text):
        kind, token, start = match.lastgroup or "other", match[0], match.start()
        if kind in ("space", "comment"):
            pieces.append(token if kind == "space" else " " * len(token))
            continue
        tokens.append(Token(kind, token, start))
        piece = token
        if kind == "string":
            piece = " " * len(token)
        elif kind == "iri":
            term_before = last_text in _TERM_STARTS or (
                last_text in ("<", ">") and last_end != start and text[last_end - 2 : last_end] not in ("<<", ">>")
            )
            if (last_text == "<" and last_end == start) or (brackets[-1:] == ["expression"] and not term_before):
                # `<<`, or `?a<b>…`, `EXISTS{}<b>…` in an expression
                two_readings = two_readings or _two_readings(text, token, start)
            else:
                piece = " " * len(token)
        elif kind in ("var", "bnode", "pname", "langtag"):
            name = token.index(":") + 1 if kind in ("bnode", "pname") else 1
            plain = _PLAIN_NAME.match(token, name)
            if plain is not None:
                piece = token[:name] + " " * (plain.end() - name) + token[plain.end() :]
        elif kind == "bracket":
            values = _bracket(brackets, token, values)
            if len(brackets) > max_nesting:  # every bracket open is on `brackets`
                raise QueryRefusedError(
                    400,
                    f"brackets nest more than {max_nesting} deep at "
                    f"{_where(text, start)}; this endpoint accepts at most "
                    f"{max_nesting} levels (setting max_nesting)",
                )
        elif kind == "word" and token.upper() == "VALUES":
            values = True
        pieces.append(piece)
        last_text, last_end = token, match.end()
    if two_readings is not None:
        raise two_readings
    return tokens, "".join(pieces)


def _bracket(brackets: list[str], token: str, values: bool) -> bool:
    """Open or close a bracket on `brackets`; whether a VALUES block is still to be opened."""
    if token not in OPENING:
        if brackets:
            brackets.pop()
        return values
    inner = brackets[-1] if brackets else ""
    if token == "{":
        brackets.append("data" if values else "group")
        return False
    brackets.append("data" if inner == "data" else "expression" if token == "(" else "group")
    return values


def _two_readings(text: str, token: str, start: int) -> QueryRefusedError | None:
    """The refusal of an IRI token whose `<` could also be the operator, when that reading would change what
    follows; None when it would not."""
    if not _SHIFTING.intersection(token):
        return None
    return QueryRefusedError(
        400,
        f"`<` at {_where(text, start)} could be read as the start of an IRI or as the "
        "operator `<`, and the rest of the query differently with each; write a space "
        "after `<` where it means 'less than', or a prefixed name for the IRI",
    )


def _refuse_keyword(query: str, token: Token, word: str) -> None:
    if word in UPDATE_KEYWORDS:
        raise QueryRefusedError(
            400,
            f"this endpoint is read-only: {word} (at {_where(query, token.start)}) "
            "belongs to SPARQL Update; only SELECT, ASK, CONSTRUCT and DESCRIBE "
            "queries are answered",
        )


def _iri(token: str, base: str) -> str:
    """The absolute IRI an IRIREF token stands for (escapes decoded, resolved against BASE)."""
    text = _UCHAR.sub(lambda m: chr(min(int(m.group(1) or m.group(2), 16), 0x10FFFF)), token[1:-1])
    try:
        return urljoin(base, text) if base else text
    except ValueError:  # `http://[x/`: not an IRI at all (the engine refuses it too)
        raise QueryRefusedError(400, f"{token} is not a valid IRI") from None


def _graph_name(target: Sequence[Token], base: str, prefixes: dict[str, str]) -> str | None:
    if not target:
        return None
    token = target[0]
    if token.kind == "iri":
        return _iri(token.text, base)
    if token.kind == "pname":
        prefix, _, local = token.text.partition(":")
        if prefix in prefixes:
            return prefixes[prefix] + _PN_LOCAL_ESCAPE.sub(r"\1", local)
        return token.text  # an undeclared prefix: the parser will refuse the query
    return None


def check_dataset(from_graphs: Iterable[str], from_named_graphs: Iterable[str], available: frozenset[str]) -> None:
    """Refuse a dataset naming a graph the store does not hold: nothing is ever fetched from elsewhere."""
    for clause, graphs in (
        ("FROM / default-graph-uri", from_graphs),
        ("FROM NAMED / named-graph-uri", from_named_graphs),
    ):
        for graph in graphs:
            if graph not in available:
                known = ", ".join(f"<{name}>" for name in sorted(available)) or "none"
                raise QueryRefusedError(
                    400,
                    f"{clause} names <{graph}>, which is not a graph of this store; "
                    f"nothing is fetched from elsewhere. The store's graphs: {known}",
                )


# The engine's message for a function it does not implement (the query worker, a bare interpreter that imports only
# the standard library and pyoxigraph, reads the same message; a test holds the two patterns together).
UNKNOWN_FUNCTION = re.compile(r"The custom function <(.+)> is not supported")

# The engine's message when it is asked to substitute a variable the query does not project: it checks the
# substitutions after planning the query (where an unknown function is refused) and before evaluating any of it.
_NOT_PROJECTED = re.compile(r"The SPARQL query does not contains? variable \?(\w+) in its SELECT projection")


def check_standard(query: str, base: str = "") -> None:
    """Refuse what is not standard SPARQL 1.1 as the embedded engine reads it, before a query goes to a remote
    server: a server's extensions run there with its powers (Virtuoso's `bif:http_get` fetches any URL, its
    `DEFINE input:default-graph-uri` opens its system graphs, `bif:exec` and `sql:` functions reach its SQL).

    The engine's own parser and planner decide (`_plan`): a query it cannot parse is refused with its message, and
    so is a call of a function it does not implement (SPARQL's own functions and the XSD casts are all it knows),
    which the embedded store evaluates as unbound but a remote server could run.
    """
    for token in _read(query, len(query) + 1)[0]:  # analyse_query, which runs first, bounded the nesting
        word = token.text.upper() if token.kind == "word" else ""
        if word == "DEFINE":
            raise QueryRefusedError(
                400,
                f"DEFINE (at {_where(query, token.start)}) is not SPARQL 1.1: this "
                "endpoint answers standard queries only, without a server's pragmas",
            )
        if word in QUERY_FORMS:  # pragmas stand in the prologue, before the query's form
            break
    complaint = _plan(query, base)
    if complaint is None:
        return
    function = UNKNOWN_FUNCTION.fullmatch(complaint)
    if function is None:
        raise QueryRefusedError(400, f"cannot evaluate: {complaint}")
    raise QueryRefusedError(
        400,
        f"the function <{function[1]}> is neither a function of SPARQL 1.1 nor an "
        "XSD cast: this endpoint answers standard queries only, without a server's "
        "extensions",
    )


def check_syntax(query: str, base: str = "") -> None:
    """Refuse a text the engine cannot parse, with the message `/sparql` answers it with; never evaluated."""
    _plan(query, base)


def _plan(query: str, base: str) -> str | None:
    """Have the engine parse and plan `query`, never evaluate it: a syntax error is refused with the engine's
    message; what the planner objects to (a function it does not implement) is returned, None when nothing.

    Even on an empty store, an ORDER BY or an aggregate over VALUES blocks or UNIONs multiplies rows as soon as the
    query runs (two blocks of 2,000 values took 4 s; three would not fit in memory). So the engine is asked to
    substitute a variable the query never names: it refuses that after planning, before evaluating anything.
    (tests/test_sparql_guard.py holds the engine to that order.)
    """
    probe = "smartcity_kg_probe"
    while probe in query:  # a name the query holds nowhere, so it cannot be one of its variables
        probe += "_"
    try:
        ox.Store().query(query, base_iri=base or None, substitutions={ox.Variable(probe): ox.Literal(0)})
    except SyntaxError as error:
        raise QueryRefusedError(400, f"syntax error: {error}") from None
    except RuntimeError as error:
        not_projected = _NOT_PROJECTED.fullmatch(str(error))
        return None if not_projected is not None and not_projected[1] == probe else str(error)
    # The engine started the query: it has changed the order of its checks. Refuse rather than let a check run a
    # client's query in the server process.
    raise QueryRefusedError(500, "the query could not be checked without running it: please report this")
