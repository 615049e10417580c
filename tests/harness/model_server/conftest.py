"""Fixtures for the model server tests.

The project runs pytest with --import-mode=importlib, so test modules cannot import a helper
module beside them; the independent SSE parsers are handed out through the `wire` fixture.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from harness.model_server import ModelServer, ScriptedModel

USER = [{"role": "user", "content": "fix the bug"}]
OPENAI_TOOLS = [
    {
        "type": "function",
        "function": {"name": "read", "parameters": {"type": "object", "properties": {}}},
    }
]
ANTHROPIC_TOOLS = [{"name": "read", "input_schema": {"type": "object", "properties": {}}}]


def chat_body(
    *, tools: bool = True, stream: bool = True, include_usage: bool | None = True
) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "scripted-1", "messages": USER, "stream": stream}
    if include_usage is not None:
        body["stream_options"] = {"include_usage": include_usage}
    if tools:
        body["tools"] = OPENAI_TOOLS
    return body


def messages_body(*, tools: bool = True, stream: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "scripted-1",
        "max_tokens": 1024,
        "messages": USER,
        "stream": stream,
    }
    if tools:
        body["tools"] = ANTHROPIC_TOOLS
    return body


def sse_messages(text: str) -> list[dict[str, str]]:
    """Split an SSE body into messages of field -> value; every message ends with a blank line."""
    assert text.endswith("\n\n"), f"stream does not end with a blank line: {text[-40:]!r}"
    messages = []
    for block in text[:-2].split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            name, sep, value = line.partition(": ")
            assert sep, f"not an SSE field line: {line!r}"
            assert name not in fields, f"field {name!r} repeated in one message: {block!r}"
            fields[name] = value
        messages.append(fields)
    return messages


def openai_chunks(text: str) -> list[dict[str, Any]]:
    """The JSON chunks of an OpenAI stream; asserts it ends with exactly one `data: [DONE]`."""
    messages = sse_messages(text)
    assert all(set(m) == {"data"} for m in messages), messages
    assert messages[-1]["data"] == "[DONE]"
    return [json.loads(m["data"]) for m in messages[:-1]]


def anthropic_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    """(event name, data) pairs; asserts every data's `type` repeats its event name."""
    events = []
    for message in sse_messages(text):
        assert set(message) == {"event", "data"}, message
        data = json.loads(message["data"])
        assert data["type"] == message["event"]
        events.append((message["event"], data))
    return events


class Wire:
    """Request builders and strict parsers, written independently of the server's encoders."""

    chat_body = staticmethod(chat_body)
    messages_body = staticmethod(messages_body)
    sse_messages = staticmethod(sse_messages)
    openai_chunks = staticmethod(openai_chunks)
    anthropic_events = staticmethod(anthropic_events)


@pytest.fixture
def wire() -> type[Wire]:
    return Wire


@pytest.fixture
def model() -> ScriptedModel:
    # Ungated by default so format tests stream at once; gating tests close the gate themselves.
    return ScriptedModel(model_id="scripted-1", gated=False)


@pytest.fixture
def server(model: ScriptedModel) -> Iterator[ModelServer]:
    with ModelServer(model) as running:
        yield running
