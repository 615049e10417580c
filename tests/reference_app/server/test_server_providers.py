"""The provider clients against the scripted model server: normalized items and usage."""

from __future__ import annotations

from typing import Any

import pytest

from harness.model_server import ModelServer, ModelStep, ScriptedModel, ToolCall, Usage
from reference_app.server.providers import (
    AnthropicProvider,
    AssistantTurn,
    Finish,
    OpenAICompatProvider,
    ReasoningDelta,
    TextDelta,
    ToolCallItem,
    ToolResultTurn,
    UserTurn,
)
from reference_app.server.providers.base import endpoint
from reference_app.server.providers.openai_compat import usage_from_openai
from reference_app.server.tools import BUILTIN_TOOLS
from reference_app.server.types import Usage as AgentUsage

STEP = ModelStep(reasoning="hmm", text="Let me look",
                 tool_calls=(ToolCall("read", {"path": "a.txt"}),),
                 usage=Usage(input=1200, output=80, reasoning=20, cache_read=300, cache_write=40))
TURNS = [UserTurn("hi"), AssistantTurn("calling", (ToolCallItem("c1", "echo", {"text": "x"}),)),
         ToolResultTurn("c1", "echo", "x"), UserTurn("go on")]


async def collect(provider: Any) -> list[Any]:
    try:
        return [item async for item in provider.stream(model_id="scripted-1", turns=TURNS,
                                                       tools=BUILTIN_TOOLS)]
    finally:
        await provider.aclose()


def split(items: list[Any]) -> tuple[str, str, list[ToolCallItem], Finish]:
    text = "".join(i.text for i in items if isinstance(i, TextDelta))
    reasoning = "".join(i.text for i in items if isinstance(i, ReasoningDelta))
    calls = [i for i in items if isinstance(i, ToolCallItem)]
    assert isinstance(items[-1], Finish)
    return text, reasoning, calls, items[-1]


@pytest.fixture
def released(model: ScriptedModel, model_server: ModelServer) -> ModelServer:
    model.load([STEP])
    model.release_all()
    return model_server


async def test_openai_stream_is_normalized(model: ScriptedModel, released: ModelServer) -> None:
    items = await collect(OpenAICompatProvider(released.base_url, "key"))
    text, reasoning, calls, finish = split(items)
    assert (text, reasoning) == ("Let me look", "hmm")
    assert [(c.name, c.arguments) for c in calls] == [("read", {"path": "a.txt"})]
    assert finish.reason == "tool-calls"
    # OpenAI has no cache-write field; everything else round-trips
    assert finish.usage == AgentUsage(input=1200, output=80, reasoning=20, cache_read=300)
    [request] = model.requests
    assert [m["role"] for m in request["messages"]] == ["user", "assistant", "tool", "user"]


async def test_anthropic_stream_is_normalized(model: ScriptedModel, released: ModelServer) -> None:
    items = await collect(AnthropicProvider(released.base_url, "key"))
    text, _reasoning, calls, finish = split(items)
    assert text == "Let me look"
    assert [(c.name, c.arguments) for c in calls] == [("read", {"path": "a.txt"})]
    assert finish.reason == "tool-calls"
    # Anthropic reports reasoning inside output_tokens
    assert finish.usage == AgentUsage(input=1200, output=100, reasoning=0, cache_read=300,
                                      cache_write=40)
    [request] = model.requests
    assert request["stream"] is True
    assert {tool["name"] for tool in request["tools"]} == {"read", "write", "list", "echo"}


def test_openai_usage_mapping() -> None:
    raw = {"prompt_tokens": 1500, "completion_tokens": 100,
           "prompt_tokens_details": {"cached_tokens": 300},
           "completion_tokens_details": {"reasoning_tokens": 20}}
    assert usage_from_openai(raw) == AgentUsage(input=1200, output=80, reasoning=20,
                                                cache_read=300)
    assert usage_from_openai({}) == AgentUsage()


@pytest.mark.parametrize(("base", "expected"), [
    ("http://h:1", "http://h:1/v1/messages"),
    ("http://h:1/", "http://h:1/v1/messages"),
    ("http://h:1/v1", "http://h:1/v1/messages"),
])
def test_endpoint_accepts_host_or_v1_root(base: str, expected: str) -> None:
    assert endpoint(base, "messages") == expected
