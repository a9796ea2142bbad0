"""Read YAML into plain Python while remembering the line of every mapping key and list item."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

__all__ = ["AliasError", "DuplicateKeyError", "Located", "Path_", "ShapeError", "read_yaml"]

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
        super().__init__(f"the alias *{anchor} repeats another part of the file; curated data does not accept YAML "
                         "aliases (nested ones expand exponentially, a recursive one never ends): write the value out",
                         line)


def read_yaml(file: Path) -> Located:
    """Parse one file; raises yaml.YAMLError (with its mark) or ShapeError (a duplicate key, an alias)."""
    text = file.read_text(encoding="utf-8")
    if "*" in text:  # an alias is possible: refused before anything is built from it (a "billion laughs" file)
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(event, yaml.AliasEvent):
                raise AliasError(str(event.anchor), event.start_mark.line + 1 if event.start_mark else 1)
    # libyaml parses about ten times faster than the pure-Python parser and keeps the same marks and tags.
    node = yaml.compose(text, Loader=yaml.CSafeLoader)
    lines: dict[Path_, int] = {}
    if node is None:
        return Located({}, lines)
    return Located(_convert(node, (), lines, yaml.SafeLoader("")), lines)


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
    return constructor.construct_object(node, deep=True)


_STR = "tag:yaml.org,2002:str"
