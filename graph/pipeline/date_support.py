"""Whether each dated statement's citations support its date: a stated date, or a bound set by a publication date."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from pydantic import BaseModel

from graph.dates import parse_partial_date
from graph.pipeline._yamlpos import Path_
from graph.pipeline.records import (
    PUBLISHED,
    Agreement,
    Citation,
    Cited,
    DateSpec,
    Event,
    Founding,
    Membership,
    Pilot,
    Post,
    Source,
)

__all__ = ["StatementDate", "dated_statements", "support_problems", "supporting_sources", "within"]


@dataclass(frozen=True)
class StatementDate:
    """One date of one statement, where it stands in its record, with the citations of that statement."""

    path: Path_
    spec: DateSpec
    statement: Cited

    @property
    def label(self) -> str:
        """The statement in a curator's words, for messages."""
        statement = self.statement
        if isinstance(statement, Membership):
            return f"the membership of {statement.member} ({statement.role})"
        if isinstance(statement, Post):
            return f"the post in {statement.in_}"
        if isinstance(statement, Founding):
            return "the founding"
        if isinstance(statement, Event):
            return f"the {statement.kind} event" + (f" {statement.key}" if statement.key else "")
        if isinstance(statement, Agreement | Pilot):
            return f"the {type(statement).__name__.lower()} {statement.key}"
        return "the statement"


def dated_statements(record: BaseModel, path: Path_ = ()) -> Iterator[StatementDate]:
    """Every date of every cited statement inside `record` (memberships, posts, foundings, events, ...)."""
    for name, info in type(record).model_fields.items():
        value = getattr(record, name)
        inner = (*path, info.alias or name)
        if isinstance(value, DateSpec) and isinstance(record, Cited):
            yield StatementDate(inner, value, record)
        elif isinstance(value, BaseModel):
            yield from dated_statements(value, inner)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from dated_statements(item, (*inner, index))


def within(given: str, stated: str) -> bool:
    """Whether a passage's date lies within a statement's date: "2016-03-17" supports "2016", not the reverse."""
    inner, outer = parse_partial_date(given), parse_partial_date(stated)
    return outer.earliest <= inner.earliest and inner.latest <= outer.latest


def supporting_sources(spec: DateSpec, citations: list[Citation], sources: Mapping[str, Source]) -> list[str]:
    """The distinct sources whose cited passage supports the date: it gives that date or a more precise one within
    it, or, for a bound, the citation says `date: published` and its source was published exactly then."""
    found: list[str] = []
    for citation in citations:
        if spec.date is not None:
            stated = spec.date
            supports = any(within(given, stated) for given in citation.dates)
        else:
            source = sources.get(citation.source)
            supports = citation.date == PUBLISHED and source is not None and source.published == spec.by
        if supports and citation.source not in found:
            found.append(citation.source)
    return found


def support_problems(record: BaseModel, sources: Mapping[str, Source]) -> Iterator[tuple[Path_, str]]:
    """A dated statement none of whose citations supports its date, and a citation date that fits no date."""
    dated = list(dated_statements(record))
    for item in dated:
        # A citation of an unknown source is reported as such; what it would support is not guessed.
        known = all(citation.source in sources for citation in item.statement.citations)
        if known and not supporting_sources(item.spec, item.statement.citations, sources):
            yield item.path, _unsupported(item)
    by_statement: dict[int, tuple[Path_, Cited, list[DateSpec]]] = {}
    for item in dated:
        statement_path = item.path[:-1]
        entry = by_statement.setdefault(id(item.statement), (statement_path, item.statement, []))
        entry[2].append(item.spec)
    for statement_path, statement, specs in by_statement.values():
        yield from _stray_citation_dates(statement_path, statement, specs, sources)
    yield from _dates_on_undated(record, (), {id(item.statement) for item in dated})


def _unsupported(item: StatementDate) -> str:
    spec = item.spec
    # A founding is nothing but its date (required, no `dropped`): without a supported date the entry goes.
    last = (
        "otherwise remove the founding entry (a founding without a date says nothing; unknown stays unknown)"
        if isinstance(item.statement, Founding)
        else "otherwise remove the date (unknown stays unknown)"
    )
    if spec.date is not None:
        return (
            f"{item.label} is dated {spec.date!r}, but none of its citations gives that date. Add "
            f'`date: "{spec.date}"` to the citation whose passage states it; if a source only reports the '
            f"statement, write `{{by: <that source's published date>}}` with `date: published` on that citation; "
            f"{last}"
        )
    return (
        f"{item.label} is bounded by {spec.by!r} (`by:`), but none of its citations says `date: published` on a "
        f"source published {spec.by!r}. Put `date: published` on the citation of the source whose `published` "
        f"is {spec.by!r}, or change the bound to that source's `published`; {last}"
    )


def _stray_citation_dates(
    path: Path_, statement: Cited, specs: list[DateSpec], sources: Mapping[str, Source]
) -> Iterator[tuple[Path_, str]]:
    """A citation date must be one the statement has: otherwise the two disagree and one of them is wrong."""
    stated = {spec.date for spec in specs if spec.date is not None}
    bounds = {spec.by for spec in specs if spec.by is not None}
    for index, citation in enumerate(statement.citations):
        where = (*path, "citations", index, "date")
        if citation.source not in sources:
            continue
        if citation.date == PUBLISHED:
            published = sources[citation.source].published
            if published is None:
                yield (
                    where,
                    (
                        f"`date: published`, but source {citation.source!r} has no `published` date; "
                        f"remove it, or give the source its publication date if the source shows one"
                    ),
                )
            elif published not in bounds:
                yield (
                    where,
                    (
                        f"`date: published` ({citation.source} was published {published!r}), but the "
                        f'statement has no bound `{{by: "{published}"}}`; write that bound or remove this'
                    ),
                )
            continue
        for given in citation.dates:
            if not any(within(given, date) for date in stated):
                yield (
                    where,
                    (
                        f"this passage gives {given!r}, but the statement has no such date "
                        f"({', '.join(sorted(stated)) or 'none stated'}); correct one of the two"
                    ),
                )


def _dates_on_undated(value: object, path: Path_, dated: set[int]) -> Iterator[tuple[Path_, str]]:
    """Citation dates on a statement that has no date at all support nothing."""
    if isinstance(value, Cited) and id(value) not in dated:
        for index, citation in enumerate(value.citations):
            if citation.date is not None:
                yield (
                    (*path, "citations", index, "date"),
                    (
                        "the statement this citation supports has no date; remove `date:` here or give the statement "
                        "its date"
                    ),
                )
    # Only into models and lists: the scalars, most of the fields, are no statements.
    if isinstance(value, BaseModel):
        for name, info in type(value).model_fields.items():
            field_value = getattr(value, name)
            if isinstance(field_value, BaseModel | list):
                yield from _dates_on_undated(field_value, (*path, info.alias or name), dated)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, BaseModel | list):
                yield from _dates_on_undated(item, (*path, index), dated)
