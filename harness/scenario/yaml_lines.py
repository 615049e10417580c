"""Safe YAML loading that remembers where every value was written.

PyYAML's composer gives nodes with marks; we build plain Python values from those nodes ourselves so
that (a) every mapping key and sequence item keeps its line, and (b) hostile input is bounded: file
size, nesting depth and the number of values after alias expansion (the "billion laughs" bomb) all
have limits, and exceeding one is an ordinary error with a line number, never a hang.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.errors import ScenarioError

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_VALUES", "LineMap", "LoadedYaml", "load_yaml_with_lines"]

MAX_BYTES = 1_000_000
MAX_DEPTH = 40
MAX_VALUES = 200_000

MAX_NUMBER_CHARS = 30

Path_ = tuple[str | int, ...]
_NUMBER_TAGS = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
_PLAIN_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


@dataclass(frozen=True)
class LineMap:
    """Maps a path of keys and indexes inside the document to its first line (1-based)."""

    lines: dict[Path_, int]

    def line_of(self, path: Path_) -> int:
        """The line of the deepest prefix of ``path`` that was written in the file."""
        for cut in range(len(path), -1, -1):
            found = self.lines.get(path[:cut])
            if found is not None:
                return found
        return 1


@dataclass(frozen=True)
class LoadedYaml:
    data: Any
    lines: LineMap
    text: str


class _Builder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: dict[Path_, int] = {}
        self.values = 0
        self.constructor = yaml.constructor.SafeConstructor()

    def fail(self, node: yaml.Node, message: str) -> ScenarioError:
        return ScenarioError(self.path, node.start_mark.line + 1, message)

    def build(self, node: yaml.Node, where: Path_, depth: int) -> Any:
        self.values += 1
        if self.values > MAX_VALUES:
            raise self.fail(node, f"too many values (over {MAX_VALUES:,}); is an alias expanding?")
        if depth > MAX_DEPTH:
            raise self.fail(node, f"nested deeper than {MAX_DEPTH} levels")
        self.lines.setdefault(where, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.tag not in _PLAIN_TAGS:
            raise self.fail(node, f"unsupported tag {node.tag!r}; scenarios are plain data")
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise self.fail(key_node, "merge keys (<<) are not supported; repeat the keys")
                key = self.build(key_node, (*where, "<key>"), depth + 1)
                if not isinstance(key, str | int):
                    raise self.fail(key_node, "mapping keys must be plain strings")
                if key in result:
                    raise self.fail(key_node, f"duplicate key {key!r}")
                self.lines[(*where, key)] = key_node.start_mark.line + 1
                result[key] = self.build(value_node, (*where, key), depth + 1)
            return result
        if isinstance(node, yaml.SequenceNode):
            return [
                self.build(item, (*where, index), depth + 1)
                for index, item in enumerate(node.value)
            ]
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, "unsupported YAML node")
        if node.tag in _NUMBER_TAGS:
            self.check_number(node)
        try:
            # The composer already resolved the tag (int, float, bool, null, str); the safe
            # constructor turns it into the value and refuses any python/* tag.
            return self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError) as error:
            raise self.fail(node, f"cannot read this value: {_one_line(str(error))}") from None

    def check_number(self, node: yaml.ScalarNode) -> None:
        # YAML 1.1 reads 1:30:00 as base 60, and PyYAML's conversion of it is quadratic in its
        # length (a 660 KB one took 42 s); no scenario number needs it, or more than 30 digits.
        if ":" in node.value:
            raise self.fail(
                node, f"{node.value[:40]!r} reads as a base-60 number; quote it if it is text"
            )
        if len(node.value) > MAX_NUMBER_CHARS:
            raise self.fail(
                node, f"a number of {len(node.value):,} characters; the limit is"
                f" {MAX_NUMBER_CHARS} (quote it if it is text)"
            )


_OPENS = (yaml.BlockMappingStartToken, yaml.BlockSequenceStartToken,
          yaml.FlowMappingStartToken, yaml.FlowSequenceStartToken)
_CLOSES = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)


def _check_nesting(path: Path, text: str) -> None:
    """Refuses deep nesting before PyYAML's parser and composer recurse into it: they recurse
    once per level, so `[[[[...` a few thousand deep ended in a RecursionError traceback
    instead of a `path:line` error. The scanner that feeds them is a loop, safe to run."""
    depth = 0
    for token in yaml.scan(text, Loader=yaml.SafeLoader):
        if isinstance(token, _OPENS):
            depth += 1
            if depth > MAX_DEPTH:
                raise ScenarioError(path, token.start_mark.line + 1,
                                    f"nested deeper than {MAX_DEPTH} levels")
        elif isinstance(token, _CLOSES):
            depth -= 1


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _read_bounded(path: Path) -> str:
    # Only a regular file: a FIFO blocks forever and /dev/zero never ends; and never more than
    # the limit is read, whatever stat said (a special file reports size 0).
    try:
        if not path.is_file():
            kind = "a folder" if path.is_dir() else "not a regular file"
            raise ScenarioError(path, 1, f"cannot read the file: it is {kind}")
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise ScenarioError(path, 1, f"cannot read the file: {error.strerror}") from None
    if len(raw) > MAX_BYTES:
        size = path.stat().st_size
        shown = f"{size:,} bytes" if size > MAX_BYTES else f"over {MAX_BYTES:,} bytes"
        raise ScenarioError(path, 1, f"file is {shown}; the limit is {MAX_BYTES:,}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ScenarioError(path, 1, f"not UTF-8 text ({error.reason})") from None


def load_yaml_with_lines(path: Path, text: str | None = None) -> LoadedYaml:
    """Read one YAML document from ``path`` safely, keeping the line of every value."""
    if text is None:
        text = _read_bounded(path)
    elif len(text.encode()) > MAX_BYTES:
        raise ScenarioError(path, 1, f"document is over the {MAX_BYTES:,}-byte limit")
    try:
        _check_nesting(path, text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = error.problem or error.context or "invalid YAML"
        raise ScenarioError(path, line, f"invalid YAML: {_one_line(problem)}") from None
    except yaml.reader.ReaderError as error:
        # A control character such as NUL: PyYAML gives a position, not a line.
        line = text.count("\n", 0, error.position) + 1
        problem = _one_line(str(error.reason))
        if isinstance(error.character, int):
            problem += f" (character #x{error.character:04x})"
        raise ScenarioError(path, line, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as error:
        raise ScenarioError(path, 1, f"invalid YAML: {_one_line(str(error))}") from None
    if node is None:
        raise ScenarioError(path, 1, "the file is empty")
    builder = _Builder(path)
    data = builder.build(node, (), 0)
    return LoadedYaml(data=data, lines=LineMap(builder.lines), text=text)
