"""Anthropic Messages wire format: request checks, stream events, full responses, errors.

Usage mapping from the scripted `Usage`:
  input_tokens = input, cache_read_input_tokens = cache_read,
  cache_creation_input_tokens = cache_write, output_tokens = output + reasoning.
`message_start` carries the input figures and a provisional output count (at most 1, as the
real API does); `message_delta` carries the final, cumulative figures.
"""

from __future__ import annotations

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
    require_positive_int,
    require_str,
    sse_event,
)

STOP_REASONS = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens"}
# Clients must hand thinking blocks back verbatim; the value itself means nothing here.
THINKING_SIGNATURE = "scripted-signature"


@dataclass(frozen=True, slots=True)
class MessagesRequest:
    model: str
    stream: bool
    has_tools: bool


def parse_request(body: dict[str, Any]) -> MessagesRequest:
    model = require_str(body, "model")
    require_positive_int(body, "max_tokens")
    require_messages(body)
    stream = optional_bool(body, "stream")
    return MessagesRequest(model, stream, bool(optional_tools(body)))


def usage_object(usage: Usage) -> dict[str, int]:
    return {
        "input_tokens": usage.input,
        "cache_creation_input_tokens": usage.cache_write,
        "cache_read_input_tokens": usage.cache_read,
        "output_tokens": usage.output + usage.reasoning,
    }


def _message(step: ModelStep, model: str, *, content: list[Any], final: bool) -> dict[str, Any]:
    usage = usage_object(step.usage)
    if not final:
        usage["output_tokens"] = min(1, usage["output_tokens"])
    return {
        "id": new_id("msg_"),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": STOP_REASONS[step.finish_reason] if final else None,
        "stop_sequence": None,
        "usage": usage,
    }


def _block_frames(index: int, block: dict[str, Any], deltas: list[dict[str, Any]]) -> list[Frame]:
    frames = [
        Frame(
            sse_event(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": block,
                },
            )
        )
    ]
    frames += [
        Frame(
            sse_event(
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": delta,
                },
            )
        )
        for delta in deltas
    ]
    frames.append(
        Frame(sse_event("content_block_stop", {"type": "content_block_stop", "index": index}))
    )
    return frames


def _blocks(step: ModelStep) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Each content block's opening value and its deltas, in the order Claude emits them."""
    blocks: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    if step.reasoning:
        deltas = [{"type": "thinking_delta", "thinking": p} for p in split_text(step.reasoning)]
        deltas.append({"type": "signature_delta", "signature": THINKING_SIGNATURE})
        blocks.append(({"type": "thinking", "thinking": "", "signature": ""}, deltas))
    if step.text:
        deltas = [{"type": "text_delta", "text": p} for p in split_text(step.text)]
        blocks.append(({"type": "text", "text": ""}, deltas))
    for call in step.tool_calls:
        deltas = [
            {"type": "input_json_delta", "partial_json": p} for p in split_json(call.arguments_json)
        ]
        blocks.append(({"type": "tool_use", "id": call.id, "name": call.name, "input": {}}, deltas))
    return blocks


def stream_frames(step: ModelStep, *, model: str) -> list[Frame]:
    """The whole event stream for one step, from message_start to message_stop."""
    start = {"type": "message_start", "message": _message(step, model, content=[], final=False)}
    frames = [
        Frame(sse_event("message_start", start)),
        Frame(sse_event("ping", {"type": "ping"})),
    ]
    for index, (block, deltas) in enumerate(_blocks(step)):
        frames += _block_frames(index, block, deltas)
    message_delta = {
        "type": "message_delta",
        "delta": {"stop_reason": STOP_REASONS[step.finish_reason], "stop_sequence": None},
        "usage": usage_object(step.usage),
    }
    frames.append(Frame(sse_event("message_delta", message_delta), usage_mark="usage"))
    frames.append(Frame(sse_event("message_stop", {"type": "message_stop"})))
    return frames


def message_body(step: ModelStep, *, model: str) -> bytes:
    """A non-streaming Message response for one step."""
    content: list[Any] = []
    if step.reasoning:
        content.append(
            {"type": "thinking", "thinking": step.reasoning, "signature": THINKING_SIGNATURE}
        )
    if step.text:
        content.append({"type": "text", "text": step.text})
    content += [
        {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
        for call in step.tool_calls
    ]
    return json_bytes(_message(step, model, content=content, final=True))


def error_body(error: BadRequest, error_type: str = "invalid_request_error") -> bytes:
    # Anthropic errors have no separate field slot; the message names the field first.
    return json_bytes({"type": "error", "error": {"type": error_type, "message": error.message}})
