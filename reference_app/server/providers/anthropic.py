"""Streaming client for the Anthropic Messages API (`POST {base}/v1/messages`).

Usage mapping: input = input_tokens, cache_read = cache_read_input_tokens,
cache_write = cache_creation_input_tokens, output = output_tokens (reasoning is not reported
apart, so it stays 0). `message_start` carries the input side; `message_delta` carries the
cumulative output and, in newer API versions, may restate the input side.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..types import JSON, Usage
from ._http import make_client, post_sse
from .base import (
    AssistantTurn,
    Finish,
    ProviderError,
    ReasoningDelta,
    StreamItem,
    TextDelta,
    ToolCallItem,
    ToolResultTurn,
    ToolSpec,
    Turn,
    UserTurn,
    endpoint,
)

__all__ = ["AnthropicProvider"]

API_VERSION = "2023-06-01"
MAX_TOKENS = 8192
_STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "tool_use": "tool-calls",
    "max_tokens": "length",
    "refusal": "content-filter",
}
_USAGE_FIELDS = {
    "input_tokens": "input",
    "output_tokens": "output",
    "cache_read_input_tokens": "cache_read",
    "cache_creation_input_tokens": "cache_write",
}


def _merge_usage(counts: dict[str, int], raw: Any) -> None:
    if not isinstance(raw, dict):
        return
    for wire, name in _USAGE_FIELDS.items():
        value = raw.get(wire)
        if isinstance(value, int) and value >= 0:
            counts[name] = value


def _messages(turns: Sequence[Turn]) -> list[JSON]:
    messages: list[JSON] = []

    def add(role: str, block: JSON) -> None:
        # Anthropic wants alternating roles: tool results join the following user content.
        if messages and messages[-1]["role"] == role:
            messages[-1]["content"].append(block)
        else:
            messages.append({"role": role, "content": [block]})

    for turn in turns:
        if isinstance(turn, UserTurn):
            add("user", {"type": "text", "text": turn.text})
        elif isinstance(turn, AssistantTurn):
            if turn.text:
                add("assistant", {"type": "text", "text": turn.text})
            for call in turn.tool_calls:
                add("assistant", {"type": "tool_use", "id": call.call_id, "name": call.name,
                                  "input": call.arguments})
        elif isinstance(turn, ToolResultTurn):
            add("user", {"type": "tool_result", "tool_use_id": turn.call_id,
                         "content": turn.output, "is_error": turn.is_error})
    return messages


@dataclass
class _Block:
    kind: str
    call_id: str = ""
    name: str = ""
    json_parts: list[str] = field(default_factory=list)


class AnthropicProvider:
    def __init__(self, base_url: str, api_key: str, *, timeout: float = 60.0,
                 client: httpx.AsyncClient | None = None) -> None:
        self.url = endpoint(base_url, "messages")
        self._api_key = api_key
        self._client = client or make_client(timeout)

    async def aclose(self) -> None:
        await self._client.aclose()

    def _tool_call(self, block: _Block) -> ToolCallItem:
        raw = "".join(block.json_parts) or "{}"
        try:
            arguments = json.loads(raw)
        except json.JSONDecodeError as error:
            raise ProviderError(
                f"provider at {self.url} sent tool input for {block.name!r} that is not JSON: "
                f"{raw[:200]!r}"
            ) from error
        if not isinstance(arguments, dict):
            raise ProviderError(f"provider at {self.url} sent tool input that is not an object")
        return ToolCallItem(call_id=block.call_id, name=block.name, arguments=arguments)

    async def stream(
        self, *, model_id: str, turns: Sequence[Turn], tools: Sequence[ToolSpec]
    ) -> AsyncIterator[StreamItem]:
        body: JSON = {
            "model": model_id,
            "max_tokens": MAX_TOKENS,
            "messages": _messages(turns),
            "stream": True,
        }
        if tools:
            body["tools"] = [
                {"name": tool.name, "description": tool.description,
                 "input_schema": tool.parameters}
                for tool in tools
            ]
        headers = {"x-api-key": self._api_key, "anthropic-version": API_VERSION}
        blocks: dict[int, _Block] = {}
        counts: dict[str, int] = {}
        stop_reason: str | None = None
        stopped = False
        async for event, data in post_sse(self._client, self.url, body, headers):
            if data is None:
                continue
            kind = data.get("type") or event
            if kind == "error":
                raise ProviderError(f"provider at {self.url} reported: {data.get('error')}")
            if kind == "message_start":
                _merge_usage(counts, (data.get("message") or {}).get("usage"))
            elif kind == "content_block_start":
                start = data.get("content_block") or {}
                blocks[int(data.get("index", 0))] = _Block(
                    kind=str(start.get("type")), call_id=str(start.get("id", "")),
                    name=str(start.get("name", "")),
                )
            elif kind == "content_block_delta":
                delta = data.get("delta") or {}
                delta_kind = delta.get("type")
                if delta_kind == "text_delta" and delta.get("text"):
                    yield TextDelta(str(delta["text"]))
                elif delta_kind == "thinking_delta" and delta.get("thinking"):
                    yield ReasoningDelta(str(delta["thinking"]))
                elif delta_kind == "input_json_delta":
                    block = blocks.get(int(data.get("index", 0)))
                    if block is not None:
                        block.json_parts.append(str(delta.get("partial_json", "")))
            elif kind == "content_block_stop":
                block = blocks.get(int(data.get("index", 0)))
                if block is not None and block.kind == "tool_use":
                    yield self._tool_call(block)
            elif kind == "message_delta":
                reason = (data.get("delta") or {}).get("stop_reason")
                if reason:
                    stop_reason = str(reason)
                _merge_usage(counts, data.get("usage"))
            elif kind == "message_stop":
                stopped = True
                break
        if not stopped or stop_reason is None:
            raise ProviderError(
                f"stream from provider at {self.url} ended before the step finished"
            )
        yield Finish(_STOP_REASONS.get(stop_reason, "other"), Usage(**counts))
