"""The official OpenAI and Anthropic Python SDKs as independent parsers of the wire formats.

If either SDK reads a stream differently from what the script says, the format is not exact.
Both SDKs belong in the test extra; without them these tests are skipped, not passed.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from harness.model_server import ModelServer, ModelStep, ScriptedModel, ToolCall, Usage

openai = pytest.importorskip("openai")
anthropic = pytest.importorskip("anthropic")

USAGE = Usage(input=12000, output=800, reasoning=200, cache_read=3000, cache_write=500)
LONG_ARGUMENTS = {"path": "src/app/settings.py", "old": "cost = 0", "new": "cost = total"}
STEP = ModelStep(
    reasoning="Look first.",
    text="Reading the file",
    tool_calls=(ToolCall("read", {"path": "a.py"}), ToolCall("edit", LONG_ARGUMENTS)),
    usage=USAGE,
)
MESSAGES: list[Any] = [{"role": "user", "content": "fix the bug"}]
OPENAI_TOOLS: list[Any] = [
    {"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}
    for name in ("read", "edit")
]
ANTHROPIC_TOOLS: list[Any] = [
    {"name": name, "input_schema": {"type": "object"}} for name in ("read", "edit")
]


@pytest.fixture
def openai_client(server: ModelServer) -> Any:
    return openai.OpenAI(base_url=server.openai_base_url, api_key="unused", max_retries=0)


@pytest.fixture
def anthropic_client(server: ModelServer) -> Any:
    # The Python SDK adds /v1 itself, unlike the AI SDK's provider.
    return anthropic.Anthropic(base_url=server.base_url, api_key="unused", max_retries=0)


def test_openai_sdk_reads_the_stream_chunk_by_chunk(
    model: ScriptedModel, openai_client: Any
) -> None:
    model.load([STEP])
    stream = openai_client.chat.completions.create(
        model="scripted-1",
        messages=MESSAGES,
        tools=OPENAI_TOOLS,
        stream=True,
        stream_options={"include_usage": True},
    )
    text, reasoning, finish, usage = "", "", None, None
    arguments: dict[int, str] = {}
    names: dict[int, str] = {}
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            delta = choice.delta
            text += delta.content or ""
            reasoning += (delta.model_extra or {}).get("reasoning_content") or ""
            finish = choice.finish_reason or finish
            for call in delta.tool_calls or []:
                if call.function.name:
                    names[call.index] = call.function.name
                arguments[call.index] = arguments.get(call.index, "") + (
                    call.function.arguments or ""
                )
    assert (text, reasoning, finish) == ("Reading the file", "Look first.", "tool_calls")
    assert names == {0: "read", 1: "edit"}
    assert arguments == {0: '{"path":"a.py"}', 1: STEP.tool_calls[1].arguments_json}
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (
        15000,
        1000,
        16000,
    )
    assert usage.prompt_tokens_details.cached_tokens == 3000
    assert usage.completion_tokens_details.reasoning_tokens == 200


def test_openai_sdk_stream_helper_assembles_the_tool_calls(
    model: ScriptedModel, openai_client: Any
) -> None:
    model.load([STEP])
    with openai_client.chat.completions.stream(
        model="scripted-1",
        messages=MESSAGES,
        tools=OPENAI_TOOLS,
        stream_options={"include_usage": True},
    ) as stream:
        completion = stream.get_final_completion()
    message = completion.choices[0].message
    assert message.content == "Reading the file"
    assert [(c.id, c.function.name) for c in message.tool_calls] == [
        (call.id, call.name) for call in model.steps[0].tool_calls
    ]
    assert message.tool_calls[1].function.arguments == STEP.tool_calls[1].arguments_json
    assert completion.usage.prompt_tokens == 15000


def test_openai_sdk_reads_a_whole_completion_and_the_model_list(
    model: ScriptedModel, openai_client: Any
) -> None:
    model.load([ModelStep(text="Done", usage=USAGE)])
    completion = openai_client.chat.completions.create(
        model="scripted-1", messages=MESSAGES, tools=OPENAI_TOOLS
    )
    assert completion.choices[0].message.content == "Done"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.completion_tokens == 1000
    assert [m.id for m in openai_client.models.list()] == ["scripted-1"]


def test_openai_sdk_surfaces_a_bad_request_with_its_param(openai_client: Any) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client.chat.completions.create(model="scripted-1", messages=[])
    assert caught.value.status_code == 400
    assert caught.value.param == "messages"


def test_anthropic_sdk_accumulates_the_stream_into_a_message(
    model: ScriptedModel, anthropic_client: Any
) -> None:
    model.load([STEP])
    with anthropic_client.messages.stream(
        model="scripted-1", max_tokens=1024, messages=MESSAGES, tools=ANTHROPIC_TOOLS
    ) as stream:
        streamed_text = "".join(stream.text_stream)
        message = stream.get_final_message()
    assert streamed_text == "Reading the file"
    assert [block.type for block in message.content] == ["thinking", "text", "tool_use", "tool_use"]
    thinking, text, read, edit = message.content
    assert (thinking.thinking, thinking.signature) == ("Look first.", "scripted-signature")
    assert text.text == "Reading the file"
    assert (read.name, read.input) == ("read", {"path": "a.py"})
    assert (edit.id, edit.name, edit.input) == (
        model.steps[0].tool_calls[1].id,
        "edit",
        LONG_ARGUMENTS,
    )
    assert message.stop_reason == "tool_use"
    usage = message.usage
    assert (
        usage.input_tokens,
        usage.cache_read_input_tokens,
        usage.cache_creation_input_tokens,
        usage.output_tokens,
    ) == (12000, 3000, 500, 1000)


def test_anthropic_sdk_reads_a_whole_message(model: ScriptedModel, anthropic_client: Any):
    model.load([ModelStep(text="Done", usage=USAGE)])
    message = anthropic_client.messages.create(
        model="scripted-1", max_tokens=1024, messages=MESSAGES, tools=ANTHROPIC_TOOLS
    )
    assert [block.text for block in message.content] == ["Done"]
    assert (message.stop_reason, message.usage.output_tokens) == ("end_turn", 1000)


def test_anthropic_sdk_surfaces_a_bad_request(anthropic_client: Any) -> None:
    with pytest.raises(anthropic.BadRequestError, match="max_tokens"):
        anthropic_client.messages.create(model="scripted-1", max_tokens=0, messages=MESSAGES)


async def test_async_sdk_clients_follow_a_gated_turn(model: ScriptedModel, server: ModelServer):
    model.gated = True
    model.load([STEP, ModelStep(text="Done", usage=USAGE)])
    client = anthropic.AsyncAnthropic(base_url=server.base_url, api_key="unused", max_retries=0)
    for index, stop_reason in ((0, "tool_use"), (1, "end_turn")):
        request = asyncio.create_task(
            client.messages.create(
                model="scripted-1", max_tokens=1024, messages=MESSAGES, tools=ANTHROPIC_TOOLS
            )
        )
        await model.wait_request(index, timeout=5)
        assert not request.done()
        model.release()
        message = await asyncio.wait_for(request, timeout=5)
        assert message.stop_reason == stop_reason
    await client.close()
    assert [s.step_index for s in model.sent] == [0, 1]
