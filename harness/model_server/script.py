"""The script a scripted model follows: usage figures, tool calls and model steps.

Pure data. Everything here is immutable so a step can be shared between the caller's thread
and the server's thread without locking.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

Finish = Literal["stop", "tool_calls", "length"]
Fault = Literal["disconnect", "garbage", "stall"]

FINISH_REASONS: frozenset[str] = frozenset(get_args(Finish))
FAULTS: frozenset[str] = frozenset(get_args(Fault))


class ScriptError(ValueError):
    """A step, tool call or usage figure that cannot be streamed as written."""


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts billed for one model step, in provider-neutral terms.

    `input` excludes cached tokens: a provider's prompt total is `input + cache_read`
    (OpenAI) while Anthropic reports the three input kinds separately. `reasoning` is billed
    as output on both wire formats.
    """

    input: int = 0
    output: int = 0
    reasoning: int = 0
    cache_read: int = 0
    cache_write: int = 0

    def __post_init__(self) -> None:
        for name in ("input", "output", "reasoning", "cache_read", "cache_write"):
            value = getattr(self, name)
            # bool is an int subclass; a True here is always a typo in a scenario.
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ScriptError(f"Usage.{name} must be a non-negative integer, got {value!r}")


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One tool invocation the model asks for. `id` is filled in when the script is loaded."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    id: str | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ScriptError("ToolCall.name must be a non-empty string")
        try:
            json.dumps(self.arguments)
        except (TypeError, ValueError) as error:
            raise ScriptError(
                f"ToolCall({self.name!r}).arguments must be JSON-serialisable: {error}"
            ) from error

    @property
    def arguments_json(self) -> str:
        # Compact separators match what providers stream, so fragment boundaries are realistic.
        return json.dumps(self.arguments, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class ModelStep:
    """One model response: optional reasoning, text and tool calls, then its usage.

    `finish` defaults to "tool_calls" when the step calls tools and "stop" otherwise.
    `chunk_delay` spaces the chunks of this step by that many seconds. `fault` breaks the
    stream on purpose half-way through: "disconnect" drops the connection, "garbage" writes an
    unparseable line and carries on, "stall" goes silent until the client gives up.
    """

    text: str = ""
    reasoning: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage = field(default_factory=Usage)
    finish: Finish | None = None
    chunk_delay: float = 0.0
    fault: Fault | None = None

    def __post_init__(self) -> None:
        # Accept a list from callers, but store a tuple so the step stays immutable.
        object.__setattr__(self, "tool_calls", tuple(self.tool_calls))
        for call in self.tool_calls:
            if not isinstance(call, ToolCall):
                raise ScriptError(f"ModelStep.tool_calls holds {call!r}, expected ToolCall")
        if self.finish is not None and self.finish not in FINISH_REASONS:
            raise ScriptError(
                f"ModelStep.finish must be one of {sorted(FINISH_REASONS)}, got {self.finish!r}"
            )
        if self.fault is not None and self.fault not in FAULTS:
            raise ScriptError(
                f"ModelStep.fault must be one of {sorted(FAULTS)} or None, got {self.fault!r}"
            )
        if self.chunk_delay < 0:
            raise ScriptError(f"ModelStep.chunk_delay must be >= 0, got {self.chunk_delay!r}")

    @property
    def finish_reason(self) -> Finish:
        if self.finish is not None:
            return self.finish
        return "tool_calls" if self.tool_calls else "stop"
