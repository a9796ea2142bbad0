"""Requests of the Reconciliation Service API (0.2 and the 1.0 draft) read and checked, each fault a clear 400."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from api.http.errors import echo
from api.http.forms import read_fields, read_text
from api.http.limits import read_body
from api.reconcile.extend import MAX_VALUES as MAX_VALUES_PER_CELL
from api.reconcile.identifiers import TYPES
from api.reconcile.matching import LANDS, Query
from graph.errors import ServiceError

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_BATCH",
    "MAX_BODY_BYTES",
    "MAX_IDS",
    "MAX_LIMIT",
    "MAX_PROPERTIES",
    "MAX_RESULTS",
    "MAX_WORK",
    "QUERY_PROPERTIES",
    "QUERY_PROPERTY_TYPES",
    "ExtendRequest",
    "body_bytes",
    "extend_request",
    "form_fields",
    "parse_json",
    "queries_02",
    "queries_10",
]

# Bounds on one request: OpenRefine sends batches of ten; a hundred leaves room without letting one request
# occupy the server for long. Each is reported by name when exceeded.
MAX_BATCH = 100
MAX_LIMIT = 100
DEFAULT_LIMIT = 10
MAX_QUERY_CHARS = 500
MAX_PROPERTIES = 20
MAX_VALUES = 50
MAX_IDS = 100
MAX_BODY_BYTES = 1_000_000
# Bounds on the work of one batch, whatever its shape: each name (a query's text or a 1.0-draft alternative) and
# each property value is compared with many things, so their sum is bounded (a thousand take well under a second);
# and so is the sum of the queries' limits, which sizes the answer. Batches of ten stay far inside both.
MAX_WORK = 1_000
MAX_RESULTS = 1_000
# The properties a query may carry, to sharpen the match.
QUERY_PROPERTIES = {
    "ags": ("AGS", "Amtlicher Gemeindeschlüssel, 8 digits (cities)"),
    "wikidata": ("Wikidata id", "Q-id or Wikidata entity IRI"),
    "country": ("Country", "country by ISO 3166 code or name: of a place, or of the seat of a company or organisation"),
    "land": ("Land", f"federal state, by name or abbreviation ({', '.join(sorted(k.upper() for k in LANDS))})"),
    "homepage": ("Homepage", "website of a company or organisation"),
}
# The types each query property describes: what property suggest offers for a type.
QUERY_PROPERTY_TYPES = {
    "ags": ("city", "municipality"),
    "wikidata": ("city", "municipality", "company", "organization", "alliance"),
    "country": ("city", "municipality", "company", "organization"),
    "land": ("city", "municipality"),
    "homepage": ("company", "organization", "alliance"),
}
_TYPE_LIST = ", ".join(TYPES)


def _bad(message: str) -> ServiceError:
    return ServiceError(400, message)


async def body_bytes(request: Request) -> bytes:
    """The request body, refused with 413 once it grows past MAX_BODY_BYTES (read no further)."""
    body = await read_body(request, MAX_BODY_BYTES)
    if body is None:
        raise ServiceError(413, f"the request body is larger than the {MAX_BODY_BYTES} bytes accepted")
    return body


def _pairs(raw: bytes, where: str) -> list[tuple[str, str]]:
    """The fields of a URL query or form body, in order; percent-encoded bytes that are not UTF-8 are refused, not
    replaced (a replaced character would be matched as if the user had typed it)."""
    fields = read_fields(raw, where, max_fields=16)
    return [(name, value) for name, values in fields.items() for value in values]


async def form_fields(request: Request) -> dict[str, str]:
    """The request's parameters: the URL's, and for a POST those of its form (or JSON object) body. A parameter
    given twice, and a request that carries both `queries` and `extend`, are refused: which one was meant is not
    for the service to guess."""
    pairs = _pairs(request.scope["query_string"], "query string")
    if request.method == "POST":
        body = await body_bytes(request)
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind == "application/json":
            document = parse_json(read_text(body, "request body"), "the request body")
            if not isinstance(document, dict):
                raise _bad("a JSON request body must be an object with the fields `queries` or `extend`")
            pairs += [(name, text if isinstance(text, str) else json.dumps(text)) for name, text in document.items()]
        elif kind.startswith("multipart/"):
            raise ServiceError(415, "send the form as application/x-www-form-urlencoded (or JSON), not multipart")
        else:
            pairs += _pairs(body, "form body")
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields and name in ("queries", "extend"):
            raise _bad(f"`{name}` is given twice; send it once")
        fields[name] = value
    if "queries" in fields and "extend" in fields:
        raise _bad("the request carries both `queries` and `extend`; send one of them per request")
    return fields


class _DuplicateKeyError(ValueError):
    """A JSON object that names a key twice."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are unique: the standard parser would keep the last of two "q0" queries silently."""
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise _DuplicateKeyError(key)
        document[key] = value
    return document


def parse_json(text: str, what: str) -> Any:
    """`text` as JSON; what no answer could carry (nesting past the parser's depth, numbers of thousands of digits,
    lone surrogates that no UTF-8 answer can hold) is refused with 400 like any other malformed document."""
    try:
        document = json.loads(text, object_pairs_hook=_unique_keys)
    except _DuplicateKeyError as error:
        key = echo(error.args[0])
        raise _bad(f"{what} holds the key {key} twice; each key (query id, field) is given once") from error
    except json.JSONDecodeError as error:
        raise _bad(f"{what} is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}") from error
    except RecursionError as error:
        raise _bad(f"{what} is nested too deeply") from error
    except ValueError as error:  # an integer past the interpreter's digit limit
        raise _bad(f"{what} holds a number too long to read") from error
    try:
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as error:
        raise _bad(f"{what} holds a lone surrogate (\\ud800-\\udfff), which is not text") from error
    except RecursionError as error:
        raise _bad(f"{what} is nested too deeply") from error
    return document


def _types(value: Any, where: str) -> tuple[str, ...]:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or not all(isinstance(name, str) for name in names):
        raise _bad(f"{where}: `type` must be a type id or a list of them ({_TYPE_LIST})")
    unknown = [name for name in names if name not in TYPES]
    if unknown:
        raise _bad(f"{where}: unknown type {echo(unknown[0])}; the types are: {_TYPE_LIST}")
    return tuple(dict.fromkeys(names))


def _limit(value: Any, where: str) -> int:
    if value is None:
        return DEFAULT_LIMIT
    whole = isinstance(value, int) or (isinstance(value, float) and math.isfinite(value) and value.is_integer())
    if isinstance(value, bool) or not whole or not 1 <= value <= MAX_LIMIT:
        raise _bad(f"{where}: `limit` must be a whole number from 1 to {MAX_LIMIT}, not {echo(value)}")
    return int(value)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _bad(f"{where}: `query` must be a string")
    if len(value) > MAX_QUERY_CHARS:
        raise _bad(f"{where}: `query` has {len(value)} characters, more than the {MAX_QUERY_CHARS} accepted")
    return value


def _values(pid: Any, raw: Any, where: str) -> tuple[str, tuple[str, ...]]:
    if not isinstance(pid, str) or pid not in QUERY_PROPERTIES:
        raise _bad(f"{where}: unknown property {echo(pid)}; the properties are: {', '.join(QUERY_PROPERTIES)}")
    items = raw if isinstance(raw, list) else [raw]
    if not items or len(items) > MAX_VALUES:
        raise _bad(f"{where}: property {pid!r} needs 1 to {MAX_VALUES} values")
    values = []
    for raw_item in items:
        item = raw_item["id"] if isinstance(raw_item, dict) and isinstance(raw_item.get("id"), str) else raw_item
        if not isinstance(item, str | int | float):
            raise _bad(f"{where}: a value of {pid!r} must be a string, a number, a boolean or an object with an `id`")
        if isinstance(item, int) and not isinstance(item, bool) and abs(item) >= 10**MAX_QUERY_CHARS:
            raise _bad(f"{where}: a value of {pid!r} has more than {MAX_QUERY_CHARS} characters")
        # A boolean is allowed by the schemas; none of the query properties reads one, so it is neutral evidence.
        text = str(item).lower() if isinstance(item, bool) else str(item)
        if pid == "ags" and isinstance(item, int) and not isinstance(item, bool):
            text = f"{item:08d}"  # a spreadsheet that read the key as a number dropped its leading zero
        if len(text) > MAX_QUERY_CHARS:
            raise _bad(f"{where}: a value of {pid!r} has {len(text)} characters, more than {MAX_QUERY_CHARS}")
        values.append(text)
    return pid, tuple(values)


def queries_02(text: str) -> dict[str, Query]:
    """A 0.2 query batch: a JSON object of queries, keyed by the client's ids."""
    batch = parse_json(text, "`queries`")
    if not isinstance(batch, dict):
        raise _bad('`queries` must be a JSON object mapping query ids to queries, e.g. {"q0": {"query": ...}}')
    if len(batch) > MAX_BATCH:
        raise _bad(f"the batch has {len(batch)} queries, more than the {MAX_BATCH} accepted; send it in parts")
    queries = {}
    for key, raw in batch.items():
        where = f"query {key[:40]!r}"
        if not isinstance(raw, dict):
            raise _bad(f"{where} must be an object")
        unknown = set(raw) - {"query", "type", "limit", "properties", "type_strict"}
        if unknown:
            raise _bad(f"{where}: unknown field {echo(sorted(unknown)[0])}")
        properties = raw.get("properties", [])
        if not isinstance(properties, list) or len(properties) > MAX_PROPERTIES:
            raise _bad(f"{where}: `properties` must be a list of at most {MAX_PROPERTIES} {{pid, v}} objects")
        parsed = []
        for item in properties:
            if not isinstance(item, dict) or "pid" not in item or "v" not in item:
                raise _bad(f"{where}: each property is an object with `pid` and `v`")
            parsed.append(_values(item["pid"], item["v"], where))
        if "query" not in raw and not parsed:
            raise _bad(f"{where} needs a `query` text or at least one property")
        if raw.get("type_strict", "any") not in ("any", "should", "all"):
            raise _bad(f"{where}: `type_strict` is one of any, should, all")
        types = _types(raw["type"], where) if raw.get("type") is not None else ()
        queries[key] = Query(_text(raw.get("query", ""), where), types, _limit(raw.get("limit"), where), tuple(parsed))
    _bounded(queries.values())
    return queries


def queries_10(document: Any) -> list[tuple[Query, tuple[str, ...]]]:
    """A 1.0-draft query batch: {"queries": [...]}, each with conditions; with the properties each requires."""
    if not isinstance(document, dict) or not isinstance(document.get("queries"), list):
        raise _bad("the body must be a JSON object with a list `queries`")
    batch = document["queries"]
    if len(batch) > MAX_BATCH:
        raise _bad(f"the batch has {len(batch)} queries, more than the {MAX_BATCH} accepted; send it in parts")
    parsed = []
    for number, raw in enumerate(batch):
        where = f"query {number}"
        if not isinstance(raw, dict) or not isinstance(raw.get("conditions"), list) or not raw["conditions"]:
            raise _bad(f"{where} must be an object with a non-empty list `conditions`")
        unknown = set(raw) - {"type", "limit", "conditions", "lang", "dir"}
        if unknown:
            raise _bad(f"{where}: unknown field {echo(sorted(unknown)[0])}")
        if len(raw["conditions"]) > MAX_PROPERTIES:
            raise _bad(f"{where}: at most {MAX_PROPERTIES} conditions")
        names, properties, required = [], [], []
        for condition in raw["conditions"]:
            names_, prop = _condition(condition, where)
            names += names_
            if prop is not None:
                properties.append(prop)
                if condition.get("required") is True:
                    required.append(prop[0])
        types = _types(raw["type"], where) if raw.get("type") is not None else ()
        # Several names (or ids) in conditions are alternatives: a candidate needs to match any one of them.
        texts = [_text(name, where) for name in dict.fromkeys(names)] or [""]
        query = Query(texts[0], types, _limit(raw.get("limit"), where), tuple(properties), tuple(texts[1:]))
        parsed.append((query, tuple(required)))
    _bounded(query for query, _ in parsed)
    return parsed


def _bounded(queries: Iterable[Query]) -> None:
    """Refuse a batch whose names and property values, or whose results, exceed what one request may ask for."""
    work = results = 0
    for query in queries:
        work += 1 + len(query.alternatives) + sum(len(values) for _, values in query.properties)
        results += query.limit
    if work > MAX_WORK or results > MAX_RESULTS:
        raise _bad(
            f"the batch compares {work} names and property values and asks for {results} candidates; one request "
            f"may compare at most {MAX_WORK} and ask for at most {MAX_RESULTS}: send it in smaller parts"
        )


def _condition(condition: Any, where: str) -> tuple[list[str], tuple[str, tuple[str, ...]] | None]:
    if (
        not isinstance(condition, dict)
        or condition.get("matchType") not in ("name", "id", "property")
        or "propertyValue" not in condition
    ):
        raise _bad(f"{where}: each condition has a `matchType` (name, id or property) and a `propertyValue`")
    if condition.get("matchQuantifier", "any") != "any":
        raise _bad(f"{where}: only the matchQuantifier `any` is supported")
    value = condition["propertyValue"]
    if condition["matchType"] == "property":
        return [], _values(condition.get("propertyId"), value, where)
    texts = value if isinstance(value, list) else [value]
    if not texts or len(texts) > MAX_VALUES or not all(isinstance(text, str) for text in texts):
        raise _bad(f"{where}: a name or id condition's value is text or a list of 1 to {MAX_VALUES} texts")
    return [str(text) for text in texts], None


@dataclass(frozen=True)
class ExtendRequest:
    ids: tuple[str, ...]
    properties: tuple[tuple[str, int], ...]  # (property id, most values per cell; 0 for all)


def extend_request(document: Any) -> ExtendRequest:
    """A data extension query: {"ids": [...], "properties": [{"id": ..., "settings": {"limit": n}}]}."""
    if (
        not isinstance(document, dict)
        or not isinstance(document.get("ids"), list)
        or not isinstance(document.get("properties"), list)
    ):
        raise _bad("`extend` must be a JSON object with lists `ids` and `properties`")
    ids, properties = document["ids"], document["properties"]
    if len(ids) > MAX_IDS or len(properties) > MAX_PROPERTIES * 2:
        raise _bad(
            f"`extend` asks for {len(ids)} ids and {len(properties)} properties; at most {MAX_IDS} ids and "
            f"{MAX_PROPERTIES * 2} properties are accepted in one request"
        )
    if not all(isinstance(ident, str) for ident in ids):
        raise _bad('`extend`: each id is a string, such as "city/dortmund"')
    parsed = []
    for prop in properties:
        if not isinstance(prop, dict) or not isinstance(prop.get("id"), str):
            raise _bad("`extend`: each property is an object with an `id`")
        settings = prop.get("settings") or {}
        if not isinstance(settings, Mapping) or set(settings) - {"limit"}:
            raise _bad(f"`extend`: the settings of {echo(prop['id'])} are an object whose only setting is `limit`")
        limit = settings.get("limit", 0)
        if isinstance(limit, str) and limit.isdigit():
            limit = int(limit)  # OpenRefine sends the setting as the text of its field
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= MAX_VALUES_PER_CELL:
            raise _bad(
                f"`extend`: the limit of {echo(prop['id'])} is a whole number from 0 (all values) to "
                f"{MAX_VALUES_PER_CELL}, not {echo(limit)}"
            )
        parsed.append((prop["id"], limit))
    return ExtendRequest(tuple(dict.fromkeys(ids)), tuple(parsed))
