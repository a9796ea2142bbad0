"""SPARQL text read as the grammar's tokens, so that strings, IRIs, comments and names are never taken for code."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

__all__ = ["OPENING", "TOKENS", "Token", "code_tokens"]

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


def code_tokens(query: str) -> Iterator[Token]:
    """The query's tokens but white space and comments."""
    for match in TOKENS.finditer(query):
        kind = match.lastgroup
        if kind is not None and kind not in ("space", "comment"):
            yield Token(kind, match[kind], match.start())
