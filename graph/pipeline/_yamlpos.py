"""Read YAML into plain Python while remembering the line of every mapping key and list item."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "MAX_DEPTH",
    "AliasError",
    "DuplicateKeyError",
    "Located",
    "Path_",
    "ShapeError",
    "TooDeepError",
    "read_yaml",
]

Path_ = tuple[str | int, ...]


class Located:
    """A parsed YAML document and the (1-based) line where each path inside it starts."""

    def __init__(self, value: Any, lines: dict[Path_, int]) -> None:
        self.value = value
        self.lines = lines

    def line_of(self, path: Path_) -> int:
        """The line of `path`, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return 1


class ShapeError(ValueError):
    """Valid YAML that curated data may not hold; `line` is where it is."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


class DuplicateKeyError(ShapeError):
    def __init__(self, key: str, line: int, first: int) -> None:
        super().__init__(f"key {key!r} appears twice in one mapping (first on line {first})", line)


class AliasError(ShapeError):
    def __init__(self, anchor: str, line: int) -> None:
        super().__init__(
            f"the alias *{anchor} repeats another part of the file; curated data does not accept YAML "
            "aliases (nested ones expand exponentially, a recursive one never ends): write the value out",
            line,
        )


class TooDeepError(ShapeError):
    def __init__(self, line: int) -> None:
        super().__init__(
            f"mappings and lists nest more than {MAX_DEPTH} deep here; curated data never needs as "
            "many levels: flatten the value",
            line,
        )


# Curated records nest a few levels; the bound keeps reading them (recursive, see _convert) within the stack.
MAX_DEPTH = 64


def read_yaml(file: Path) -> Located:
    """Parse one file; raises yaml.YAMLError (with its mark) or ShapeError (a duplicate key, an alias, nesting
    too deep, a value that cannot be read)."""
    text = file.read_text(encoding="utf-8")
    # One pass over the parser's events, before anything is built: aliases (a "billion laughs" file) and nesting
    # deep enough to exhaust the stack are refused where they stand.
    depth = 0
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        if isinstance(event, yaml.AliasEvent):
            raise AliasError(str(event.anchor), _line(event))
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise TooDeepError(_line(event))
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    # libyaml parses about ten times faster than the pure-Python parser and keeps the same marks and tags.
    node = yaml.compose(text, Loader=yaml.CSafeLoader)
    lines: dict[Path_, int] = {}
    if node is None:
        return Located({}, lines)
    return Located(_convert(node, (), lines, yaml.SafeLoader("")), lines)


def _line(event: yaml.Event) -> int:
    return event.start_mark.line + 1 if event.start_mark else 1


def _convert(node: yaml.Node, path: Path_, lines: dict[Path_, int], constructor: yaml.SafeLoader) -> Any:
    lines[path] = node.start_mark.line + 1
    if node.tag == _STR:  # most scalars: the text is the value, no constructor needed
        return node.value
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in first_seen:
                raise DuplicateKeyError(key, line, first_seen[key])
            first_seen[key] = line
            result[key] = _convert(value_node, (*path, key), lines, constructor)
            lines[(*path, key)] = line
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, index), lines, constructor) for index, item in enumerate(node.value)]
    assert isinstance(node, yaml.ScalarNode)
    # A date or timestamp stays the text the curator wrote: precision must not be lost or invented.
    if node.tag == "tag:yaml.org,2002:timestamp":
        return node.value
    try:
        return constructor.construct_object(node, deep=True)
    except (ValueError, yaml.YAMLError) as error:  # an integer of 5000 digits is over Python's conversion limit
        shown = node.value if len(node.value) <= 40 else f"{node.value[:40]}…"
        raise ShapeError(f"the value {shown!r} cannot be read ({error})", node.start_mark.line + 1) from None


_STR = "tag:yaml.org,2002:str"
