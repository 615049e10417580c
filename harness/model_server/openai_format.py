"""OpenAI Chat Completions wire format: request checks, stream chunks, full responses, errors.

Usage mapping from the scripted `Usage`:
  prompt_tokens = input + cache_read, prompt_tokens_details.cached_tokens = cache_read,
  completion_tokens = output + reasoning, completion_tokens_details.reasoning_tokens = reasoning.
OpenAI has no field for tokens written to the cache, so `cache_write` is not sent in this format;
scenarios that depend on it must use the Anthropic format.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from harness.model_server.fragments import split_json, split_text
from harness.model_server.script import ModelStep, Usage
from harness.model_server.streaming import Frame
from harness.model_server.wire import (
    BadRequest,
    json_bytes,
    new_id,
    optional_bool,
    optional_tools,
    require_messages,
    require_str,
    sse_data,
)

DONE = b"data: [DONE]\n\n"


@dataclass(frozen=True, slots=True)
class ChatRequest:
    model: str
    stream: bool
    include_usage: bool
    has_tools: bool


def parse_request(body: dict[str, Any]) -> ChatRequest:
    model = require_str(body, "model")
    require_messages(body)
    stream = optional_bool(body, "stream")
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise BadRequest("stream_options", "stream_options: must be an object or null")
    include_usage = optional_bool(options or {}, "include_usage") if stream else False
    return ChatRequest(model, stream, include_usage, bool(optional_tools(body)))


def usage_object(usage: Usage) -> dict[str, Any]:
    prompt = usage.input + usage.cache_read
    completion = usage.output + usage.reasoning
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": usage.cache_read},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning},
    }


class _Chunks:
    """Builds chunks that share the id, timestamp and model, as OpenAI's do."""

    def __init__(self, model: str, include_usage: bool) -> None:
        self.id = new_id("chatcmpl-")
        self.created = int(time.time())
        self.model = model
        self.include_usage = include_usage

    def envelope(self, choices: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": choices,
        }

    def delta(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        chunk = self.envelope([{"index": 0, "delta": delta, "finish_reason": finish_reason}])
        if self.include_usage:
            # OpenAI: with include_usage, every other chunk carries "usage": null.
            chunk["usage"] = None
        return sse_data(chunk)

    def usage(self, usage: Usage) -> bytes:
        return sse_data({**self.envelope([]), "usage": usage_object(usage)})


def stream_frames(step: ModelStep, *, model: str, include_usage: bool) -> list[Frame]:
    """The whole SSE stream for one step, `data: [DONE]` included."""
    chunks = _Chunks(model, include_usage)
    frames = [Frame(chunks.delta({"role": "assistant", "content": ""}))]
    frames += [Frame(chunks.delta({"reasoning_content": p})) for p in split_text(step.reasoning)]
    frames += [Frame(chunks.delta({"content": p})) for p in split_text(step.text)]
    for index, call in enumerate(step.tool_calls):
        opening = {
            "index": index,
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        frames.append(Frame(chunks.delta({"tool_calls": [opening]})))
        frames += [
            Frame(chunks.delta({"tool_calls": [{"index": index, "function": {"arguments": p}}]}))
            for p in split_json(call.arguments_json)
        ]
    finish = chunks.delta({}, step.finish_reason)
    if include_usage:
        frames += [Frame(finish), Frame(chunks.usage(step.usage), usage_mark="usage")]
    else:
        frames.append(Frame(finish, usage_mark="finish_without_usage"))
    frames.append(Frame(DONE))
    return frames


def completion_body(step: ModelStep, *, model: str) -> bytes:
    """A non-streaming `chat.completion` response for one step."""
    message: dict[str, Any] = {"role": "assistant", "content": step.text or None}
    if step.reasoning:
        message["reasoning_content"] = step.reasoning
    if step.tool_calls:
        message["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments_json},
            }
            for call in step.tool_calls
        ]
    return json_bytes(
        {
            "id": new_id("chatcmpl-"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": step.finish_reason}],
            "usage": usage_object(step.usage),
        }
    )


def error_body(error: BadRequest, error_type: str = "invalid_request_error") -> bytes:
    return json_bytes(
        {
            "error": {
                "message": error.message,
                "type": error_type,
                "param": error.field,
                "code": None,
            }
        }
    )


def models_body(model_id: str, created: int) -> bytes:
    return json_bytes(
        {
            "object": "list",
            "data": [
                {"id": model_id, "object": "model", "created": created, "owned_by": "freshness"}
            ],
        }
    )
