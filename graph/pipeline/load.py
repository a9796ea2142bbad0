"""Step 1 of the pipeline: read data/*.yaml into typed records; report every problem with file, line and field."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from graph.pipeline._yamlpos import Located, Path_, ShapeError, read_yaml
from graph.pipeline.date_support import support_problems
from graph.pipeline.keys import derived_keys
from graph.pipeline.records import (
    Agreement,
    Alliance,
    City,
    Concept,
    Conflict,
    DateSpec,
    Organization,
    Person,
    Pilot,
    Post,
    Retired,
    Source,
)

__all__ = ["LoadError", "Problem", "Records", "load_records"]


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in the data, where a curator can find it."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f" {self.field}:" if self.field else ""
        return f"{self.file}:{self.line}:{where} {self.message}"


class LoadError(Exception):
    """The data has problems; all of them are listed, not only the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__(f"{len(self.problems)} problem(s) in the data")


@dataclass
class Records:
    """Every curated record, merged across files and keyed; `origin` says where each one was written."""

    sources: dict[str, Source] = field(default_factory=dict)
    cities: dict[str, City] = field(default_factory=dict)
    organizations: dict[str, Organization] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    alliances: dict[str, Alliance] = field(default_factory=dict)
    agreements: dict[str, Agreement] = field(default_factory=dict)
    pilots: dict[str, Pilot] = field(default_factory=dict)
    conflicts: dict[str, Conflict] = field(default_factory=dict)
    concepts: dict[tuple[str, str], Concept] = field(default_factory=dict)
    retired: dict[str, Retired] = field(default_factory=dict)
    # Keys of records that failed their own checks: references to them are not reported a second time.
    broken: set[tuple[str, str]] = field(default_factory=set)
    origin: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def defines(self, section: str, key: object) -> bool:
        """Whether `key` is defined in `section` (or was, in a record with problems of its own)."""
        return key in getattr(self, section) or (section, str(key)) in self.broken

    def has_thing(self, kind: str, key: str) -> bool:
        """Whether `id/{kind}/{key}` is a curated thing with its own record."""
        if kind in ("company", "organization", "city", "alliance", "person"):
            return self.has_ref(f"{kind}:{key}")
        if kind == "municipality":
            return key in self.cities
        tables: dict[str, dict[str, Any]] = {
            "agreement": self.agreements,
            "pilot": self.pilots,
            "source": self.sources,
            "conflict": self.conflicts,
        }
        return key in tables.get(kind, {})

    def has_ref(self, ref: str) -> bool:
        """Whether a `kind:key` reference names a curated thing of that kind."""
        kind, key = ref.split(":", 1)
        if kind in ("company", "organization"):
            org = self.organizations.get(key)
            if org is None:
                return ("organizations", key) in self.broken
            return (org.kind == "company") == (kind == "company")
        return self.defines({"city": "cities", "alliance": "alliances", "person": "people"}[kind], key)


def load_records(data_dir: Path) -> Records:
    """Read every `*.yaml` below `data_dir`; raise LoadError listing all problems found."""
    if not data_dir.is_dir():
        raise LoadError([Problem(str(data_dir), 0, "", "no such data folder")])
    records = Records()
    problems: list[Problem] = []
    files = sorted(p for p in data_dir.rglob("*.yaml") if p.is_file())
    if not files:
        problems.append(Problem(str(data_dir), 0, "", "no *.yaml files in the data folder"))
    # Each file's lines are let go once it is merged: they took more memory than the records themselves. The
    # checks across files that need all records come after; a file with problems is read again for their lines.
    checked: list[tuple[Path, list[Entry]]] = []
    minted: dict[tuple[str, str], tuple[str, int]] = {}
    for file in files:
        name = str(file)
        records.files.append(file)
        parsed = _parse_file(file, problems, records.broken)
        if parsed is None:
            continue
        located, entries = parsed
        _merge(records, name, located, entries, problems)
        problems.extend(_check_derived_keys(name, located, entries, minted))
        checked.append((file, entries))
        del located, parsed
    for file, entries in checked:
        found = list(_check_entries(records, entries))
        if found:
            located = _lines_of(file)
            problems.extend(
                Problem(str(file), located.line_of(path), _dotted(path), message) for path, message in found
            )
    if problems:
        raise LoadError(problems)
    return records


Entry = tuple[str, int, BaseModel]  # section, index in the file's section, record


def _lines_of(file: Path) -> Located:
    """The file read again for the lines of its problems; a file changed unreadably since gives line 1."""
    try:
        return read_yaml(file)
    except (ShapeError, yaml.YAMLError, OSError, UnicodeDecodeError):
        return Located({}, {})


def _parse_file(
    file: Path, problems: list[Problem], broken: set[tuple[str, str]]
) -> tuple[Located, list[Entry]] | None:
    name = str(file)
    try:
        located = read_yaml(file)
    except ShapeError as error:
        problems.append(Problem(name, error.line, "", str(error)))
        return None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 0
        problems.append(Problem(name, line, "", f"not valid YAML: {error.problem or error}"))
        return None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        problems.append(Problem(name, 0, "", f"not readable as YAML: {error}"))
        return None
    if not isinstance(located.value, dict):
        problems.append(Problem(name, 1, "", "a data file must be a mapping of sections (sources:, alliances:, ...)"))
        return None
    # Records are checked one by one so that a mistake in one hides nothing about the others.
    entries: list[Entry] = []
    for section, items in located.value.items():
        model = _MODELS.get(section)
        if model is None:
            problems.append(
                Problem(name, located.line_of((section,)), section, f"unknown section (one of: {', '.join(_MODELS)})")
            )
            continue
        if not isinstance(items, list):
            problems.append(Problem(name, located.line_of((section,)), section, "a section is a list of records"))
            continue
        for index, item in enumerate(items):
            try:
                entries.append((section, index, model.model_validate(item)))
            except ValidationError as error:
                if isinstance(item, dict) and isinstance(item.get("key"), str):
                    broken.add((section, item["key"]))
                for detail in error.errors():
                    path = (section, index, *detail["loc"])
                    problems.append(Problem(name, located.line_of(path), _dotted(path), _message(detail)))
    return located, entries


_MODELS: dict[str, type[BaseModel]] = {
    "sources": Source,
    "cities": City,
    "organizations": Organization,
    "people": Person,
    "alliances": Alliance,
    "agreements": Agreement,
    "pilots": Pilot,
    "conflicts": Conflict,
    "concepts": Concept,
    "retired": Retired,
}


def _message(item: Any) -> str:
    kind = item["type"]
    if kind == "extra_forbidden":
        return "unknown field (check the spelling against data/README.md)"
    if kind == "missing":
        return "required field is missing"
    if kind == "string_pattern_mismatch":
        return f"{item['input']!r} does not have the expected form ({item['ctx']['pattern']})"
    message = str(item["msg"])
    return message.removeprefix("Value error, ")


def _dotted(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _merge(records: Records, name: str, located: Located, entries: list[Entry], problems: list[Problem]) -> None:
    for section, index, record in entries:
        key = _record_key(record)
        line = located.line_of((section, index))
        if (section, key) in records.origin:
            first_file, first_line = records.origin[(section, key)]
            problems.append(
                Problem(
                    name,
                    line,
                    f"{section}[{index}].key",
                    f"duplicate key {key!r}: already defined at {first_file}:{first_line}",
                )
            )
            continue
        records.origin[(section, key)] = (name, line)
        if isinstance(record, Concept):
            records.concepts[(record.scheme, record.key)] = record
        elif isinstance(record, Retired):
            records.retired[key] = record
        else:
            getattr(records, section)[key] = record


def _check_entries(records: Records, entries: list[Entry]) -> Iterator[tuple[Path_, str]]:
    """Every reference must name a curated thing; every period must not end before it starts; every date must be
    supported by a citation."""
    for section, index, record in entries:
        for path, problem in _check_record(records, record):
            yield (section, index, *path), problem


def _record_key(record: BaseModel) -> str:
    if isinstance(record, Concept | Retired):
        return f"{record.scheme if isinstance(record, Concept) else record.type}/{record.key}"
    return str(getattr(record, "key"))  # noqa: B009


def _check_derived_keys(
    name: str, located: Located, entries: list[Entry], minted: dict[tuple[str, str], tuple[str, int]]
) -> Iterator[Problem]:
    """Two statements that would get the same IRI would silently merge: ask the curator for a `key`."""
    for section, index, record in entries:
        if not isinstance(record, Alliance | Person):
            continue
        for kind, key, inner in derived_keys(record):
            path = (section, index, *inner)
            line = located.line_of(path)
            if (kind, key) in minted:
                first_file, first_line = minted[(kind, key)]
                yield Problem(
                    name,
                    line,
                    _dotted(path),
                    f"this {kind} would get the same IRI ({kind}/{key}) as the one at {first_file}:"
                    f"{first_line}; give one of them its own `key:`",
                )
            else:
                minted[(kind, key)] = (name, line)


def _check_record(records: Records, record: BaseModel) -> Iterator[tuple[Path_, str]]:
    for path, value, owner in _walk(record, (), record):
        problem = _reference_problem(records, path, value, owner) or _key_problem(records, path, value, owner)
        if problem is not None:
            yield path, problem
    yield from _check_periods(record, ())
    yield from support_problems(record, records.sources)


def _reference_problem(records: Records, path: Path_, value: Any, owner: BaseModel) -> str | None:
    """A source, a `kind:key` reference or a concept that names nothing curated."""
    if isinstance(owner, Retired):  # its `type` is a kind of thing, not a concept
        return None
    last = path[-1] if path else ""
    parent = path[-2] if len(path) > 1 else ""
    if last == "source" or (parent == "sources" and isinstance(owner, Conflict)):
        if not records.defines("sources", value):
            return f"unknown source {value!r} (define it in a `sources` list)"
        return None
    if isinstance(value, str) and (last in _REF_FIELDS or parent in _REF_LISTS):
        return None if records.has_ref(value) else f"{value!r} names no curated {value.split(':', 1)[0]}"
    if last in _CONCEPT_FIELDS or parent in _CONCEPT_LISTS:
        scheme = _scheme_of(owner, last if isinstance(last, str) else str(parent))
        if (scheme, value) not in records.concepts:
            return f"unknown {scheme} {value!r} (add it to a `concepts` list with scheme: {scheme})"
    return None


def _key_problem(records: Records, path: Path_, value: Any, owner: BaseModel) -> str | None:
    """A plain key (person, alliance, parent, broader concept, retired thing) that does not fit."""
    last = path[-1] if path else ""
    # Only the field at hand is looked up (every leaf of every record passes here): the other fields of a retired
    # record (its reason) are no `kind:key`.
    if isinstance(last, str) and last in _KEY_FIELDS:
        table, what = _KEY_FIELDS[last]
        fits, problem = records.defines(table, value), f"unknown {what} {value!r}"
    elif isinstance(owner, Concept) and last == "broader":
        fits = (owner.scheme, value) in records.concepts
        problem = f"unknown broader concept {value!r} in scheme {owner.scheme}"
    elif isinstance(owner, Retired) and last == "key":
        fits = not records.has_thing(owner.type, str(value))
        problem = f"{owner.type}/{value} is retired but still defined; remove one of the two"
    elif isinstance(owner, Retired) and last == "replaced_by":
        fits = records.has_thing(*str(value).split(":", 1))
        problem = f"{value!r} names nothing that exists (give the kind:key of the replacement)"
    else:
        return None
    return None if fits else problem


# The fields holding a plain key: the table it names, and what is unknown when it names nothing there.
_KEY_FIELDS = {
    "person": ("people", "person"),
    "alliance": ("alliances", "alliance"),
    "parent": ("organizations", "organisation"),
}


_REF_FIELDS = {"member", "in", "on_behalf_of", "about", "lead"}
_REF_LISTS = {"parties", "partners"}
_CONCEPT_FIELDS = {"kind", "role", "type", "status", "theme", "land", "programme"}
_CONCEPT_LISTS = {"themes"}


def _scheme_of(owner: BaseModel, name: str) -> str:
    if name == "kind":
        return {
            Source: "source-kind",
            Organization: "organization-kind",
            Alliance: "alliance-kind",
        }.get(type(owner), "event-kind")
    if name == "role" and isinstance(owner, Post):
        return "post-role"
    return {"type": "agreement-type", "themes": "theme"}.get(name, name)


def _walk(value: Any, path: Path_, owner: BaseModel) -> Iterator[tuple[Path_, Any, BaseModel]]:
    """Yield (path, value, innermost record) of every leaf, following aliases so paths match the YAML."""
    if isinstance(value, BaseModel):
        if isinstance(value, Concept):  # its `key` and `scheme` define, they do not refer
            if value.broader is not None:
                yield (*path, "broader"), value.broader, value
            return
        for name, info in type(value).model_fields.items():
            yield from _walk(getattr(value, name), (*path, info.alias or name), value)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*path, index), owner)
    elif value is not None:
        yield path, value, owner


def _check_periods(value: Any, path: Path_) -> Iterator[tuple[Path_, str]]:
    if isinstance(value, BaseModel):
        names = type(value).model_fields
        for start, end in (("since", "until"), ("start", "end")):
            if start not in names:  # asked of a model without the field, pydantic raises and catches an error
                continue
            first, last = getattr(value, start), getattr(value, end, None)
            # Only a stated start has a known earliest day; a bound ("by 2016") leaves the start open, so an end
            # before it proves nothing. An end's latest day is known whether it is stated or bounded.
            if (
                isinstance(first, DateSpec)
                and isinstance(last, DateSpec)
                and first.stated
                and first.partial.earliest > last.partial.latest
            ):
                yield (*path, end), f"ends ({last.text}) before it starts ({first.text})"
        # Only into models and lists: the scalars, most of the fields, hold no period.
        for name, info in names.items():
            field_value = getattr(value, name)
            if isinstance(field_value, BaseModel | list):
                yield from _check_periods(field_value, (*path, info.alias or name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, BaseModel | list):
                yield from _check_periods(item, (*path, index))
