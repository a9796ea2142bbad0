"""The query editor for browsers: the competency questions as a gallery, the vocabulary it completes, and embeds."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlencode

import pyoxigraph as ox
from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from api.http.cache import Derived
from api.http.deps import get_per_build
from api.pages.ontology import read_ontology
from api.pages.render import page_response
from graph.prefixes import VOCABULARIES
from graph.resources import resource_dir
from graph.sparql_lexer import code_tokens, line_comments
from graph.store import ReadStore
from graph.vocab import OWL, RDF, RDFS

__all__ = [
    "VOCABULARY",
    "Example",
    "editor_href",
    "editor_page",
    "embed_page",
    "load_examples",
    "prefixed_names",
    "reader_text",
]

ENDPOINT = "/sparql"
SHARE_PATH = "/query"  # where the pages router serves the editor itself; a shared link opens it and runs the query
_ESCAPED = re.compile(r"\\(.)")  # a local name's `\.`, `\-` …: the character itself (PN_LOCAL_ESC)
_NUMBERED = re.compile(r"^\d+[a-z]?\.\s*")


@dataclass(frozen=True)
class Example:
    name: str  # file name without .rq, e.g. 01-alliance-members
    title: str  # the question in plain words, from the file's first comment line
    notes: str  # what a reader needs besides the question: parameters, what a row is
    query: str  # the query as a reader sees it: engine notes left out


def reader_text(text: str) -> str:
    """The query without its engine notes: a comment paragraph opened by `# Engine:` is for maintainers. Lines are
    comments as the lexer reads them: a line of a long string that starts with `#` is the query's text."""
    comments = {token.start for token in line_comments(text)}
    kept: list[str] = []
    skipping = False
    start = 0
    for line in text.splitlines(keepends=True):
        if start in comments and line.startswith("# Engine:"):
            skipping = True
        elif skipping and start not in comments:
            skipping = False
        if not skipping:
            kept.append(line)
        start += len(line)
    return "".join(kept)


def prefixed_names(query: str) -> Iterator[tuple[str, str]]:
    """(prefix, local name) of each prefixed name of the query's code: not of its strings, IRIs or comments."""
    for token in code_tokens(query):
        if token.kind == "pname":
            prefix, _, local = token.text.partition(":")
            if local:
                yield prefix, _ESCAPED.sub(r"\1", local)


def _example(name: str, text: str) -> Example:
    query = reader_text(text)
    comments = [token.text[1:].strip() for token in line_comments(query)]
    if not comments:
        return Example(name, name, "", query)
    return Example(name, _NUMBERED.sub("", comments[0]), " ".join(comments[1:]), query)


@cache
def load_examples() -> tuple[Example, ...]:
    """The competency questions of `queries/`, in file-name order."""
    return tuple(
        _example(path.stem, path.read_text(encoding="utf-8")) for path in sorted(resource_dir("queries").glob("*.rq"))
    )


def editor_href(query: str, view: str | None = None) -> str:
    """The editor's address that opens and runs `query` (in `view`)."""
    return f"{SHARE_PATH}?" + urlencode({"query": query, **({"view": view} if view and view != "table" else {})})


def _vocabulary(store: ReadStore) -> dict[str, object]:
    """What completion offers besides the prefixes (which every page carries): the classes and properties of the
    ontology and of the example queries, with their English labels."""
    prefixes = VOCABULARIES
    ontology = read_ontology(store)  # once per build, as the vocabulary is
    kinds: dict[str, str] = {}
    class_types = {str(OWL.Class), str(RDFS.Class)}
    for triple in ontology.triples:
        subject, predicate, obj = triple.subject, triple.predicate.value, triple.object
        if isinstance(subject, ox.NamedNode) and predicate == str(RDF.type):
            kinds[subject.value] = "class" if isinstance(obj, ox.NamedNode) and obj.value in class_types else "property"
        kinds.setdefault(predicate, "property")
        if isinstance(obj, ox.NamedNode) and predicate in (str(RDFS.subClassOf), str(RDFS.domain), str(RDFS.range)):
            kinds.setdefault(obj.value, "class")
    for example in load_examples():
        for prefix, local in prefixed_names(example.query):
            if prefix in prefixes:
                kinds.setdefault(prefixes[prefix] + local, "class" if local[0].isupper() else "property")
    namespaces = tuple(prefixes.values())
    terms = [
        {"iri": iri, "kind": kind, "label": ontology.label(iri, "en") or ""}
        for iri, kind in sorted(kinds.items())
        if iri.startswith(namespaces)
    ]
    return {"terms": terms}


VOCABULARY = Derived("editor_vocabulary", _vocabulary)


def _json_script(value: object) -> Markup:
    # Inside <script type="application/json">, "</" would end the element: escaped, the JSON reads the same.
    return Markup(json.dumps(value, ensure_ascii=False).replace("</", "<\\/"))


def editor_page(request: Request, store: ReadStore, query: str | None, view: str | None = None) -> HTMLResponse:
    """The editor with `query` in it (the first example when there is none); runs it when given."""
    examples = load_examples()
    text = query if query else (examples[0].query if examples else "SELECT * WHERE { ?s ?p ?o } LIMIT 10")
    selected = next((example.name for example in examples if example.query.strip() == text.strip()), "")
    return page_response(
        "editor.html",
        examples=examples,
        query=text,
        selected=selected,
        run_now=bool(query),
        endpoint=ENDPOINT,
        namespace=store.manifest.namespace,
        share_path=SHARE_PATH,
        vocabulary=_json_script(get_per_build(request).get(VOCABULARY, store)),
        editor_href=editor_href,
        view=view or "table",
    )


def embed_page(store: ReadStore, query: str, view: str) -> HTMLResponse:
    """One view of a query's results, for an iframe on another site."""
    return page_response(
        "embed.html",
        query=query,
        view=view,
        endpoint=ENDPOINT,
        namespace=store.manifest.namespace,
        editor=editor_href(query, view),
    )
