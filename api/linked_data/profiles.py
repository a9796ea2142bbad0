"""Profile pages of alliances, cities and companies, assembled from SPARQL panels: one `.rq` file per panel."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache

import pyoxigraph as ox
from markupsafe import Markup

from api.linked_data.naming import date_phrase
from api.pages.display import Fact, Link, format_date, is_date
from api.pages.editor import editor_href, reader_text
from graph.iris import Minter
from graph.resources import resource_dir
from graph.sparql_lexer import Token, code_tokens, line_comments, replaced
from graph.store import ReadStore
from graph.vocab import GEOSPARQL

__all__ = ["PROFILE_KINDS", "Panel", "PanelQuery", "load_panels", "profile_panels", "read_panel", "sparql_json"]

PROFILE_KINDS = ("alliance", "city", "company")
VIEWS = ("facts", "table", "map", "timeline")
_WKT = str(GEOSPARQL.wktLiteral)


@dataclass(frozen=True)
class PanelQuery:
    """A panel as its file states it: title, what it shows, how, and the query for the example thing."""

    key: str  # file name without .rq, e.g. alliance-members
    title: str
    about: str
    view: str
    text: str
    german: tuple[str, str] | None = None  # title and what it shows, for pages in German

    def words(self, lang: str) -> tuple[str, str]:
        return self.german if lang == "de" and self.german else (self.title, self.about)

    def for_thing(self, iri: str) -> str:
        # Every mention: a panel names its thing in each branch of a UNION (see the files' engine notes).
        return replaced(self.text, ((token, f"<{iri}>") for token in _example_things(self.text)))


def _example_things(text: str) -> list[Token]:
    """The IRIs of the clauses `VALUES ?thing { <…> }` by which a panel file names its example thing; a page puts
    its own thing there. Read by the lexer: such words in a comment or a string name nothing."""
    code = list(code_tokens(text))
    return [
        code[at + 3]
        for at in range(len(code) - 4)
        if code[at].kind == "word"
        and code[at].text.upper() == "VALUES"
        and code[at + 1].kind == "var"
        and code[at + 1].text[1:] == "thing"
        and (code[at + 2].text, code[at + 3].kind, code[at + 4].text) == ("{", "iri", "}")
    ]


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    about: str
    view: str
    query: str
    href: str  # the editor, opening and running the query
    columns: list[str]
    rows: list[list[Link | None]]
    facts: list[Fact]
    results: Markup | None  # the SPARQL JSON results, for the views drawn in the browser (map)
    points: int  # rows with a WKT point, for the map's empty state
    namespace: str  # the graph's, whose IRIs the map links to their pages here


def _header(text: str) -> list[str]:
    """The comment lines that open a panel file, each without its `#`, up to the first line that is none. Read by
    the lexer, as the editor reads its examples: a line of a string or an IRI that starts with `#` is no comment."""
    lines: list[str] = []
    at = 0
    for comment in line_comments(text):
        if comment.start != at:
            break
        lines.append(comment.text.removeprefix("#"))
        end = comment.start + len(comment.text)
        at = end + (2 if text.startswith("\r\n", end) else 1)
    return lines


def read_panel(path_stem: str, text: str) -> PanelQuery:
    """A panel file: its header '# Title', '# what it shows' lines, optionally '# de: Titel — was es zeigt'
    (continued on '#     ' lines), then '# view: NAME'; and its query."""
    lines = _header(text)
    views = [at for at, line in enumerate(lines) if line.startswith(" view: ")]
    view = lines[views[0]].removeprefix(" view: ").strip() if views else ""
    if view not in VIEWS or views[0] == 0 or not lines[0].strip() or not _example_things(text):
        raise ValueError(
            f"panel {path_stem}.rq needs '# Title', '# about ...' lines, '# view: {'|'.join(VIEWS)}' "
            "and a line 'VALUES ?thing { <...> }'"
        )
    body = lines[1 : views[0]]
    german_at = next((at for at, line in enumerate(body) if line.startswith(" de: ")), len(body))
    about, de = body[:german_at], body[german_at:]
    german = None
    if de:
        if not all(line.startswith("     ") for line in de[1:]):
            raise ValueError(f"panel {path_stem}.rq: the lines after '# de:' continue it, each opened by '#     '")
        title, _, german_about = " ".join(line.strip() for line in de).removeprefix("de:").strip().partition(" — ")
        german = (title, german_about)
    return PanelQuery(path_stem, lines[0].strip(), " ".join(line.strip() for line in about), view, text, german)


@cache
def load_panels(kind: str) -> tuple[PanelQuery, ...]:
    """The panels of a profile kind, in the order the page shows them."""
    order = {"summary": 0, "members": 1, "alliances": 1, "cities": 1, "map": 2, "partners": 3, "timeline": 4}
    files = sorted(
        resource_dir("queries").joinpath("panels").glob(f"{kind}-*.rq"),
        key=lambda path: (order.get(path.stem.removeprefix(f"{kind}-"), 5), path.stem),
    )
    return tuple(read_panel(path.stem, path.read_text(encoding="utf-8")) for path in files)


def _term_json(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> dict[str, str]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if term.language:
        return {"type": "literal", "value": term.value, "xml:lang": term.language}
    return {"type": "literal", "value": term.value, "datatype": term.datatype.value}


def sparql_json(variables: list[str], rows: list[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]]) -> Markup:
    """Results in the SPARQL 1.1 JSON format, safe inside <script type="application/json">."""
    document = {
        "head": {"vars": variables},
        "results": {"bindings": [{name: _term_json(term) for name, term in row.items()} for row in rows]},
    }
    return Markup(json.dumps(document, ensure_ascii=False).replace("</", "<\\/"))


def _cell(
    row: dict[str, ox.NamedNode | ox.BlankNode | ox.Literal], name: str, namespace: str, lang: str
) -> Link | None:
    term = row.get(name)
    if term is None:
        # A date known only as a bound has no stated value.
        return _dated_cell(row, name, lang) if f"{name}{_BOUND}" in row else None
    if isinstance(term, ox.NamedNode):
        label = row.get(f"{name}Label")
        text = label.value if label is not None else term.value.removeprefix(namespace)
        # Only the graph's own IRIs link to their pages.
        return Link(text, Minter(namespace).doc_path(term.value), title=term.value)
    if isinstance(term, ox.Literal) and (f"{name}{_BOUND}" in row or f"{name}{_SUPPORT}" in row):
        return _dated_cell(row, name, lang)
    if isinstance(term, ox.Literal):
        # Dates written out at the precision the source gives ("2016", "December 2016", "9 December 2016").
        return Link(format_date(term, lang)) if is_date(term) else Link(term.value, lang=term.language or None)
    return Link(f"_:{term.value}")


# A date column ?since comes with ?sinceBy (the bound when no passage states it) and ?sinceSupport (how many sources
# support either): one cell says which it is, with the words the other pages use.
_BOUND, _SUPPORT = "By", "Support"
_PHRASES = {"since": ("since_on", "since_by"), "until": ("until_on", "until_by")}


def _dated_cell(row: dict[str, ox.NamedNode | ox.BlankNode | ox.Literal], name: str, lang: str) -> Link | None:
    def literal(key: str) -> ox.Literal | None:
        term = row.get(key)
        return term if isinstance(term, ox.Literal) else None

    support = literal(name + _SUPPORT)
    parts = date_phrase(
        literal(name),
        literal(name + _BOUND),
        int(support.value) if support else None,
        lang,
        _PHRASES.get(name, ("on", "by")),
    )
    if parts is None:
        return None
    text, note = parts
    return Link(f"{text} ({note})" if note else text)


def _is_companion(name: str, variables: list[str]) -> bool:
    """A column shown as part of another: ?xLabel names ?x, ?xBy and ?xSupport qualify the date ?x."""
    return any(
        name.endswith(suffix) and name.removesuffix(suffix) in variables for suffix in ("Label", _BOUND, _SUPPORT)
    )


def _heading(name: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).lower()


def _run(store: ReadStore, query: str) -> tuple[list[str], list[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]]]:
    solutions = store.select(query)
    variables = [variable.value for variable in solutions.variables]
    rows = []
    for solution in solutions:
        row = {}
        for name in variables:
            term = solution[name]
            if isinstance(term, ox.NamedNode | ox.BlankNode | ox.Literal):
                row[name] = term
        rows.append(row)
    return variables, rows


def _facts(rows: list[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]], namespace: str, lang: str) -> list[Fact]:
    """Rows of (?fact ?value ?valueLabel ?date) as one line per fact; a fact's name starts with its sort number."""
    facts: dict[str, list[Link]] = {}
    for row in rows:
        name = re.sub(r"^\d+\s+", "", row["fact"].value) if "fact" in row else ""
        value = _cell(row, "value", namespace, lang)
        date = _cell(row, "date", namespace, lang)
        if value is None:
            continue
        if date is not None:
            # A label that already names the date ("Founding (2006)") gets only how the date is supported.
            shown, _, note = date.text.partition(" (")
            extra = f", {date.text}" if shown not in value.text else f" ({note}" if note else ""
            value = Link(value.text + extra, value.href, value.lang, value.title)
        if value not in facts.setdefault(name, []):
            facts[name].append(value)
    return [Fact(name, values) for name, values in facts.items()]


def profile_panels(store: ReadStore, kind: str, iri: str, lang: str = "en") -> list[Panel]:
    """The panels of the profile of `iri` (an alliance, city or company), each run against the graph."""
    if kind not in PROFILE_KINDS:
        return []
    namespace = store.manifest.namespace
    panels = []
    for panel in load_panels(kind):
        query = reader_text(panel.for_thing(iri))
        variables, rows = _run(store, query)
        shown = [name for name in variables if not _is_companion(name, variables)]
        points = sum(
            1
            for row in rows
            if any(isinstance(term, ox.Literal) and term.datatype.value == _WKT for term in row.values())
        )
        title, about = panel.words(lang)
        panels.append(
            Panel(
                key=panel.key,
                title=title,
                about=about,
                view=panel.view,
                query=query,
                href=editor_href(query, panel.view if panel.view in ("map", "timeline") else None),
                columns=[_heading(name) for name in shown],
                rows=[[_cell(row, name, namespace, lang) for name in shown] for row in rows],
                facts=_facts(rows, namespace, lang) if panel.view == "facts" else [],
                results=sparql_json(variables, rows) if panel.view == "map" and points else None,
                points=points,
                namespace=namespace,
            )
        )
    return panels
