"""The built-in tools the model may call. They really run, confined to one workspace
directory: a path that would leave it is refused, not resolved."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .providers.base import ToolSpec
from .types import JSON

__all__ = ["BUILTIN_TOOLS", "ToolError", "ToolOutcome", "run_tool"]

MAX_READ_BYTES = 100_000


class ToolError(Exception):
    """The tool ran and failed; the message goes back to the model as the tool's result."""


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    title: str
    output: str
    metadata: JSON = field(default_factory=dict)


def _string(arguments: JSON, name: str, *, default: str | None = None) -> str:
    value = arguments.get(name, default)
    if not isinstance(value, str):
        raise ToolError(f"argument {name!r} must be a string")
    return value


def _inside(workspace: Path, relative: str) -> Path:
    root = workspace.resolve()
    target = (root / relative).resolve()
    if target != root and root not in target.parents:
        raise ToolError(f"path {relative!r} is outside the workspace")
    return target


def _read(workspace: Path, arguments: JSON) -> ToolOutcome:
    relative = _string(arguments, "path")
    target = _inside(workspace, relative)
    if not target.is_file():
        raise ToolError(f"no file at {relative!r}")
    data = target.read_bytes()[:MAX_READ_BYTES]
    return ToolOutcome(title=relative, output=data.decode("utf-8", "replace"),
                       metadata={"bytes": len(data)})


def _write(workspace: Path, arguments: JSON) -> ToolOutcome:
    relative = _string(arguments, "path")
    content = _string(arguments, "content")
    target = _inside(workspace, relative)
    if target.is_dir():
        raise ToolError(f"{relative!r} is a directory")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content, encoding="utf-8")
    return ToolOutcome(title=relative, output=f"wrote {len(content)} characters to {relative}",
                       metadata={"characters": len(content)})


def _list(workspace: Path, arguments: JSON) -> ToolOutcome:
    relative = _string(arguments, "path", default=".")
    target = _inside(workspace, relative)
    if not target.is_dir():
        raise ToolError(f"no directory at {relative!r}")
    names = sorted(entry.name + ("/" if entry.is_dir() else "") for entry in target.iterdir())
    return ToolOutcome(title=relative, output="\n".join(names), metadata={"count": len(names)})


def _echo(_workspace: Path, arguments: JSON) -> ToolOutcome:
    text = _string(arguments, "text", default="")
    return ToolOutcome(title="echo", output=text)


_PATH = {"type": "string", "description": "a path relative to the workspace"}
_Runner = Callable[[Path, JSON], ToolOutcome]
_TOOLS: dict[str, tuple[ToolSpec, _Runner]] = {
    "read": (
        ToolSpec("read", "Read a text file from the workspace.",
                 {"type": "object", "properties": {"path": _PATH}, "required": ["path"]}),
        _read,
    ),
    "write": (
        ToolSpec("write", "Write a text file in the workspace, replacing it if it exists.",
                 {"type": "object", "properties": {"path": _PATH, "content": {"type": "string"}},
                  "required": ["path", "content"]}),
        _write,
    ),
    "list": (
        ToolSpec("list", "List a directory of the workspace.",
                 {"type": "object", "properties": {"path": _PATH}}),
        _list,
    ),
    "echo": (
        ToolSpec("echo", "Return the given text unchanged.",
                 {"type": "object", "properties": {"text": {"type": "string"}}}),
        _echo,
    ),
}

BUILTIN_TOOLS: tuple[ToolSpec, ...] = tuple(spec for spec, _ in _TOOLS.values())


def run_tool(name: str, arguments: dict[str, Any], workspace: Path) -> ToolOutcome:
    """Runs a built-in tool. Blocking (file I/O): call it off the event loop."""
    entry = _TOOLS.get(name)
    if entry is None:
        raise ToolError(f"unknown tool {name!r}; available: {', '.join(sorted(_TOOLS))}")
    workspace.mkdir(parents=True, exist_ok=True)
    try:
        return entry[1](workspace, arguments)
    except OSError as error:
        raise ToolError(f"{name} failed: {error.strerror or error}") from error
