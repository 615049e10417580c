"""The transcript as a person reads it, rendered from the client store's messages and parts.

Pure: it turns ``store.messages(session_id)`` into Rich text and reads no clock, so the same
messages always give the same screen (snapshot baselines depend on that). Parts that carry only
bookkeeping (step boundaries, usage) are not shown; the readouts show their numbers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from rich.text import Text

__all__ = ["render_transcript", "tool_line"]

_TOOL_MARKS = {
    "pending": ("○", "dim"),
    "running": ("◐", "yellow"),
    "completed": ("●", "green"),
    "error": ("✗", "red"),
}


def _arguments(state: Mapping[str, Any]) -> str:
    arguments = state.get("input")
    if not isinstance(arguments, Mapping) or not arguments:
        return ""
    # One line: the values a person recognises, not a JSON dump.
    values = arguments.values()
    return " ".join(value if isinstance(value, str) else json.dumps(value) for value in values)


def tool_line(part: Mapping[str, Any]) -> Text:
    """One line for a tool call: its state mark, name, arguments, and title or error."""
    state = part.get("state") or {}
    status = str(state.get("status", "pending"))
    mark, style = _TOOL_MARKS.get(status, ("?", "dim"))
    line = Text("  ")
    line.append(f"{mark} ", style=style)
    line.append(str(part.get("tool", "tool")), style="bold")
    arguments = _arguments(state)
    if arguments:
        line.append(f" {arguments}", style="dim")
    if status == "error" and state.get("error"):
        line.append(f"  {state['error']}", style="red")
    elif status == "completed" and state.get("title") not in (None, "", part.get("tool")):
        line.append(f"  {state['title']}", style="dim")
    return line


def _error_text(error: Any) -> str:
    if isinstance(error, Mapping):
        data = error.get("data")
        if isinstance(data, Mapping) and data.get("message"):
            return f"{error.get('name', 'Error')}: {data['message']}"
        return str(error.get("name", "error"))
    return str(error)


def _assistant(info: Mapping[str, Any], parts: Iterable[Mapping[str, Any]]) -> list[Text]:
    lines: list[Text] = []
    for part in parts:
        kind = part.get("type")
        if kind == "text" and part.get("text"):
            lines.append(Text(str(part["text"]).rstrip()))
        elif kind == "reasoning" and part.get("text"):
            lines.append(Text(str(part["text"]).rstrip(), style="dim italic"))
        elif kind == "tool":
            lines.append(tool_line(part))
    if info.get("error"):
        lines.append(Text(_error_text(info["error"]), style="bold red"))
    return lines


def render_transcript(messages: Iterable[Mapping[str, Any]]) -> Text:
    """The whole transcript: each user prompt, then what the assistant streamed, in order."""
    blocks: list[Text] = []
    for message in messages:
        info = message.get("info") or {}
        parts = message.get("parts") or []
        if info.get("role") == "user":
            prompt = "\n".join(
                str(part.get("text", "")) for part in parts if part.get("type") == "text"
            )
            block = Text("\N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} ", style="bold cyan")
            block.append(prompt, style="bold")
            blocks.append(block)
        else:
            lines = _assistant(info, parts)
            if lines:
                blocks.append(Text("\n").join(lines))
    if not blocks:
        return Text("No messages yet. Type a prompt below and press Enter.", style="dim")
    return Text("\n\n").join(blocks)
