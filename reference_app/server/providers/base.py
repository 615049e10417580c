"""What every provider client speaks: a neutral conversation in, normalized stream items out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..types import JSON, Usage

__all__ = [
    "AssistantTurn",
    "Finish",
    "Provider",
    "ProviderError",
    "ReasoningDelta",
    "StreamItem",
    "TextDelta",
    "ToolCallItem",
    "ToolResultTurn",
    "ToolSpec",
    "Turn",
    "UserTurn",
    "endpoint",
]


# --- the conversation sent to the model -------------------------------------------------


@dataclass(frozen=True, slots=True)
class UserTurn:
    text: str


@dataclass(frozen=True, slots=True)
class ToolCallItem:
    """A tool call the model asked for (also a stream item)."""

    call_id: str
    name: str
    arguments: JSON


@dataclass(frozen=True, slots=True)
class AssistantTurn:
    text: str
    tool_calls: tuple[ToolCallItem, ...] = ()


@dataclass(frozen=True, slots=True)
class ToolResultTurn:
    call_id: str
    name: str
    output: str
    is_error: bool = False


Turn = UserTurn | AssistantTurn | ToolResultTurn


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    description: str
    parameters: JSON = field(default_factory=dict)  # JSON Schema of the arguments


# --- what comes back --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    text: str


@dataclass(frozen=True, slots=True)
class Finish:
    """The step ended. `reason` is opencode's: "stop", "tool-calls", "length" or "other"."""

    reason: str
    usage: Usage


StreamItem = TextDelta | ReasoningDelta | ToolCallItem | Finish


class ProviderError(Exception):
    """The provider could not give a complete step: unreachable, an HTTP error, a timeout or
    a stream that broke or made no sense."""

    def __init__(
        self, message: str, *, status_code: int | None = None, retryable: bool = False,
        body: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.retryable = retryable
        self.body = body

    def to_json(self) -> JSON:
        """opencode's APIError shape, as it appears in a message's `error`."""
        data: dict[str, Any] = {"message": self.message, "isRetryable": self.retryable}
        if self.status_code is not None:
            data["statusCode"] = self.status_code
        if self.body is not None:
            data["responseBody"] = self.body
        return {"name": "APIError", "data": data}


class Provider(Protocol):
    def stream(
        self, *, model_id: str, turns: Sequence[Turn], tools: Sequence[ToolSpec]
    ) -> AsyncIterator[StreamItem]:
        """One model step. Raises ProviderError when the step cannot complete."""
        ...

    async def aclose(self) -> None: ...


def endpoint(base_url: str, path: str) -> str:
    """`path` ("chat/completions", "messages") under the API's /v1 root. A base_url may name
    the root itself (".../v1") or the host ("http://127.0.0.1:PORT")."""
    root = base_url.rstrip("/")
    if not root.endswith("/v1"):
        root += "/v1"
    return f"{root}/{path}"
