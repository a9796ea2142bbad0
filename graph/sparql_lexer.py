"""SPARQL text read as the grammar's tokens, so that strings, IRIs, comments and names are never taken for code."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import NamedTuple

__all__ = ["OPENING", "TOKENS", "Token", "code_tokens", "line_comments", "replaced", "tokens", "with_variables"]

OPENING = "({["
# Every quantifier is possessive and no alternative starts over inside a run another one has scanned, so reading a
# text costs time linear in its length whatever it holds (`(?:[\w.-]*[\w-])?:` read `a.a.a…` in quadratic time).
_ECHAR = r"""\\[tbnrf"'\\]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"""
_NAME_RUN = r"[^\W\d_](?:[\w-]|\.++(?=[\w-]))*+"  # PN_PREFIX: name characters and dots, not ending in a dot
TOKENS = re.compile(
    rf"""
    (?P<space>\s++)
  | (?P<comment>\#[^\n\r]*+)
  | (?P<iri><(?:[^<>"{{}}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{{4}}|\\U[0-9A-Fa-f]{{8}})*+>)
  | (?P<string>'''(?:[^'\\]|{_ECHAR}|'(?!''))*+'''|\"\"\"(?:[^"\\]|{_ECHAR}|"(?!""))*+\"\"\"
               |'(?:[^'\\\n\r]|{_ECHAR})*+'|"(?:[^"\\\n\r]|{_ECHAR})*+")
  | (?P<var>[?$][\w\u00B7\u0300-\u036F\u203F-\u2040]++)
  | (?P<bnode>_:\w(?:[\w-]|\.++(?=[\w-]))*+)
  | (?P<pname>(?:{_NAME_RUN})?:(?:[\w:-]|%[0-9A-Fa-f]{{2}}|\\[_~.!$&'()*+,;=/?\#@%-]|\.++(?=[\w:%\\-]))*+)
  | (?P<langtag>@[A-Za-z]++(?:-[A-Za-z0-9]++)*+)
  | (?P<word>{_NAME_RUN})
  | (?P<number>\d++\.\d*+[eE][+-]?\d++|\d++(?:\.\d++)?(?:[eE][+-]?\d++)?|\.\d++(?:[eE][+-]?\d++)?)
  | (?P<bracket>[(){{}}\[\]])
  | (?P<other>\\.|.)
""",
    re.VERBOSE | re.DOTALL,
)


class Token(NamedTuple):
    kind: str  # the name of the TOKENS group it matched: word, iri, string, var, bracket …
    text: str
    start: int  # its offset in the query


def tokens(query: str) -> Iterator[Token]:
    """Every token of the query, white space and comments included: together they spell the query."""
    for match in TOKENS.finditer(query):
        kind = match.lastgroup or "other"  # every alternative is a named group
        yield Token(kind, match[kind], match.start())


def code_tokens(query: str) -> Iterator[Token]:
    """The query's tokens but white space and comments."""
    return (token for token in tokens(query) if token.kind not in ("space", "comment"))


def line_comments(query: str) -> Iterator[Token]:
    """The comments that open a line (a `#` inside a string or an IRI opens none)."""
    return (
        token
        for token in tokens(query)
        if token.kind == "comment" and (token.start == 0 or query[token.start - 1] in "\n\r")
    )


def replaced(query: str, replacements: Iterable[tuple[Token, str]]) -> str:
    """`query` with each of these tokens of it (in the order they stand) written as the text paired with it."""
    pieces: list[str] = []
    end = 0
    for token, text in replacements:
        pieces += (query[end : token.start], text)
        end = token.start + len(token.text)
    return "".join(pieces) + query[end:]


def with_variables(query: str, values: Mapping[str, str]) -> str:
    """`query` with each variable of `values` (`?name` or `$name`, the same variable) written as its text: a term,
    another variable. The same letters in a string, an IRI, a comment or a longer name stay as they are."""
    return replaced(
        query,
        (
            (token, values[token.text[1:]])
            for token in code_tokens(query)
            if token.kind == "var" and token.text[1:] in values
        ),
    )
