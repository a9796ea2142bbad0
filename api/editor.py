"""The query editor for browsers: a form preloaded with the competency questions, run against /sparql by script."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from fastapi import Request
from fastapi.responses import HTMLResponse

from api._render import page_response
from graph.resources import resource_dir

__all__ = ["Example", "editor_page", "load_examples"]

ENDPOINT = "/sparql"
SHARE_PATH = "/query"  # where the pages router serves the editor itself; a shared link opens it and runs the query


@dataclass(frozen=True)
class Example:
    name: str  # file name without .rq, e.g. 01-alliance-members
    title: str  # the question, from the file's first comment line
    query: str


def _title(name: str, text: str) -> str:
    first = text.lstrip().splitlines()[0] if text.strip() else ""
    return first.lstrip("#").strip() if first.startswith("#") else name


@cache
def load_examples() -> tuple[Example, ...]:
    """The competency questions of `queries/`, in file-name order."""
    files = sorted(resource_dir("queries").glob("*.rq"))
    return tuple(Example(path.stem, _title(path.stem, text), text)
                 for path in files for text in [path.read_text(encoding="utf-8")])


def editor_page(request: Request, query: str | None) -> HTMLResponse:
    """The editor with `query` in its text area (the first example when there is none); runs it when given."""
    examples = load_examples()
    text = query if query else (examples[0].query if examples else "SELECT * WHERE { ?s ?p ?o } LIMIT 10")
    selected = next((example.name for example in examples if example.query.strip() == text.strip()), "")
    namespace: str = request.app.state.settings.namespace
    return page_response("editor.html", examples=examples, query=text, selected=selected, run_now=bool(query),
                         endpoint=ENDPOINT, namespace=namespace, share_path=SHARE_PATH)
