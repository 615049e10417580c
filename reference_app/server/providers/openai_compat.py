"""Streaming client for OpenAI-compatible chat completions (`POST {base}/v1/chat/completions`).

Usage mapping (OpenAI counts cached and reasoning tokens inside its totals):
input = prompt_tokens - cached_tokens, cache_read = cached_tokens,
reasoning = completion_tokens_details.reasoning_tokens, output = completion_tokens - reasoning.
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

__all__ = ["OpenAICompatProvider", "usage_from_openai"]

_FINISH_REASONS = {
    "stop": "stop",
    "tool_calls": "tool-calls",
    "function_call": "tool-calls",
    "length": "length",
    "content_filter": "content-filter",
}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


def usage_from_openai(raw: JSON) -> Usage:
    prompt = _int(raw.get("prompt_tokens"))
    completion = _int(raw.get("completion_tokens"))
    cached = _int((raw.get("prompt_tokens_details") or {}).get("cached_tokens"))
    reasoning = _int((raw.get("completion_tokens_details") or {}).get("reasoning_tokens"))
    return Usage(
        input=max(prompt - cached, 0),
        output=max(completion - reasoning, 0),
        reasoning=reasoning,
        cache_read=cached,
        cache_write=0,
    )


def _messages(turns: Sequence[Turn]) -> list[JSON]:
    messages: list[JSON] = []
    for turn in turns:
        if isinstance(turn, UserTurn):
            messages.append({"role": "user", "content": turn.text})
        elif isinstance(turn, AssistantTurn):
            message: JSON = {"role": "assistant", "content": turn.text or None}
            if turn.tool_calls:
                message["tool_calls"] = [
                    {
                        "id": call.call_id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
                    }
                    for call in turn.tool_calls
                ]
            messages.append(message)
        elif isinstance(turn, ToolResultTurn):
            messages.append({"role": "tool", "tool_call_id": turn.call_id, "content": turn.output})
    return messages


def _tools(tools: Sequence[ToolSpec]) -> list[JSON]:
    return [
        {
            "type": "function",
            "function": {"name": tool.name, "description": tool.description,
                         "parameters": tool.parameters},
        }
        for tool in tools
    ]


@dataclass
class _PendingCall:
    call_id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)

    def finish(self, url: str) -> ToolCallItem:
        raw = "".join(self.arguments) or "{}"
        try:
            arguments = json.loads(raw)
        except json.JSONDecodeError as error:
            raise ProviderError(
                f"provider at {url} sent tool call {self.name!r} with arguments that are "
                f"not JSON: {raw[:200]!r}"
            ) from error
        if not isinstance(arguments, dict):
            raise ProviderError(
                f"provider at {url} sent tool call arguments that are not an object"
            )
        return ToolCallItem(call_id=self.call_id, name=self.name, arguments=arguments)


class OpenAICompatProvider:
    def __init__(self, base_url: str, api_key: str, *, timeout: float = 60.0,
                 client: httpx.AsyncClient | None = None) -> None:
        self.url = endpoint(base_url, "chat/completions")
        self._api_key = api_key
        self._client = client or make_client(timeout)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def stream(
        self, *, model_id: str, turns: Sequence[Turn], tools: Sequence[ToolSpec]
    ) -> AsyncIterator[StreamItem]:
        body: JSON = {
            "model": model_id,
            "messages": _messages(turns),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if tools:
            body["tools"] = _tools(tools)
        headers = {"Authorization": f"Bearer {self._api_key}"}
        calls: dict[int, _PendingCall] = {}
        finish_reason: str | None = None
        usage: Usage | None = None
        async for _event, data in post_sse(self._client, self.url, body, headers):
            if data is None:  # [DONE]
                break
            if "error" in data:
                raise ProviderError(f"provider at {self.url} reported: {data['error']}")
            if isinstance(data.get("usage"), dict):
                usage = usage_from_openai(data["usage"])
            for choice in data.get("choices") or []:
                delta = choice.get("delta") or {}
                reasoning = delta.get("reasoning_content") or delta.get("reasoning")
                if isinstance(reasoning, str) and reasoning:
                    yield ReasoningDelta(reasoning)
                content = delta.get("content")
                if isinstance(content, str) and content:
                    yield TextDelta(content)
                for fragment in delta.get("tool_calls") or []:
                    pending = calls.setdefault(_int(fragment.get("index")), _PendingCall())
                    pending.call_id = fragment.get("id") or pending.call_id
                    function = fragment.get("function") or {}
                    pending.name = function.get("name") or pending.name
                    if isinstance(function.get("arguments"), str):
                        pending.arguments.append(function["arguments"])
                if choice.get("finish_reason"):
                    finish_reason = str(choice["finish_reason"])
        if finish_reason is None:
            raise ProviderError(
                f"stream from provider at {self.url} ended before the step finished"
            )
        for index in sorted(calls):
            yield calls[index].finish(self.url)
        yield Finish(_FINISH_REASONS.get(finish_reason, "other"), usage or Usage())
