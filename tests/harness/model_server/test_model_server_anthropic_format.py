"""The Anthropic Messages wire format, read event by event over real loopback HTTP."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from harness.model_server import ModelServer, ModelStep, ScriptedModel, ToolCall, Usage

USAGE = Usage(input=12000, output=800, reasoning=200, cache_read=3000, cache_write=500)
LONG_ARGUMENTS = {"path": "src/app/settings.py", "old": "cost = 0", "new": "cost = total"}
STEP = ModelStep(
    reasoning="Look first.",
    text="Reading the file",
    tool_calls=(ToolCall("read", {"path": "a.py"}, id="toolu_a"), ToolCall("edit", LONG_ARGUMENTS)),
    usage=USAGE,
)
FINAL_USAGE = {
    "input_tokens": 12000,
    "cache_creation_input_tokens": 500,
    "cache_read_input_tokens": 3000,
    "output_tokens": 1000,
}


def post(server: ModelServer, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{server.anthropic_base_url}/messages", json=body, timeout=10)


def test_a_step_streams_as_message_events_in_order(
    wire: Any, model: ScriptedModel, server: ModelServer
) -> None:
    model.load([STEP])
    response = post(server, wire.messages_body())
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    events = wire.anthropic_events(response.text)
    names = [name for name, _ in events]
    assert names[:2] == ["message_start", "ping"]
    assert names[-2:] == ["message_delta", "message_stop"]
    blocks = names[2:-2]
    assert blocks.count("content_block_start") == blocks.count("content_block_stop") == 4

    message = events[0][1]["message"]
    assert message["id"].startswith("msg_")
    assert {k: v for k, v in message.items() if k != "id"} == {
        "type": "message",
        "role": "assistant",
        "model": "scripted-1",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {**FINAL_USAGE, "output_tokens": 1},
    }
    assert events[-1][1] == {"type": "message_stop"}


def test_thinking_text_and_tool_use_blocks_carry_their_deltas(
    wire: Any, model: ScriptedModel, server: ModelServer
) -> None:
    model.load([STEP])
    events = wire.anthropic_events(post(server, wire.messages_body()).text)
    starts = {d["index"]: d["content_block"] for n, d in events if n == "content_block_start"}
    assert starts == {
        0: {"type": "thinking", "thinking": "", "signature": ""},
        1: {"type": "text", "text": ""},
        2: {"type": "tool_use", "id": "toolu_a", "name": "read", "input": {}},
        3: {"type": "tool_use", "id": model.steps[0].tool_calls[1].id, "name": "edit", "input": {}},
    }
    by_block: dict[int, list[dict[str, Any]]] = {}
    for name, data in events:
        if name == "content_block_delta":
            by_block.setdefault(data["index"], []).append(data["delta"])
    thinking = [d["thinking"] for d in by_block[0] if d["type"] == "thinking_delta"]
    assert "".join(thinking) == "Look first."
    assert by_block[0][-1] == {"type": "signature_delta", "signature": "scripted-signature"}
    assert [d["type"] for d in by_block[1]] == ["text_delta"] * 3
    assert "".join(d["text"] for d in by_block[1]) == "Reading the file"
    for index, arguments in ((2, {"path": "a.py"}), (3, LONG_ARGUMENTS)):
        assert {d["type"] for d in by_block[index]} == {"input_json_delta"}
        assert json.loads("".join(d["partial_json"] for d in by_block[index])) == arguments
    assert len(by_block[3]) > 1, "long arguments should be split over several deltas"
    stops = [d for n, d in events if n == "content_block_stop"]
    assert stops == [{"type": "content_block_stop", "index": i} for i in range(4)]


@pytest.mark.parametrize(
    ("step", "stop_reason"),
    [
        (STEP, "tool_use"),
        (ModelStep(text="Done", usage=USAGE), "end_turn"),
        (ModelStep(text="Cut", usage=USAGE, finish="length"), "max_tokens"),
    ],
)
def test_message_delta_carries_the_stop_reason_and_the_final_usage(
    wire: Any, model: ScriptedModel, server: ModelServer, step: ModelStep, stop_reason: str
) -> None:
    model.load([step])
    events = wire.anthropic_events(post(server, wire.messages_body()).text)
    delta = next(d for n, d in events if n == "message_delta")
    assert delta == {
        "type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": None},
        "usage": FINAL_USAGE,
    }
    assert [(s.step_index, s.in_stream) for s in model.sent] == [(0, True)]


def test_a_step_with_only_text_has_one_block(
    wire: Any, model: ScriptedModel, server: ModelServer
) -> None:
    model.load([ModelStep(text="Done")])
    events = wire.anthropic_events(post(server, wire.messages_body()).text)
    starts = [d["content_block"]["type"] for n, d in events if n == "content_block_start"]
    assert starts == ["text"]


def test_a_non_streaming_request_gets_a_whole_message(
    wire: Any, model: ScriptedModel, server: ModelServer
) -> None:
    model.load([STEP])
    body = post(server, wire.messages_body(stream=False)).json()
    assert (body["type"], body["stop_reason"], body["usage"]) == (
        "message",
        "tool_use",
        FINAL_USAGE,
    )
    assert body["content"] == [
        {"type": "thinking", "thinking": "Look first.", "signature": "scripted-signature"},
        {"type": "text", "text": "Reading the file"},
        {"type": "tool_use", "id": "toolu_a", "name": "read", "input": {"path": "a.py"}},
        {
            "type": "tool_use",
            "id": model.steps[0].tool_calls[1].id,
            "name": "edit",
            "input": LONG_ARGUMENTS,
        },
    ]


def test_a_request_without_tools_gets_a_short_answer_outside_the_script(
    wire: Any, model: ScriptedModel, server: ModelServer
) -> None:
    model.load([STEP])
    model.gated = True
    events = wire.anthropic_events(post(server, wire.messages_body(tools=False)).text)
    text = "".join(d["delta"]["text"] for n, d in events if n == "content_block_delta")
    assert text == "Scripted session"
    assert (model.toolless_requests, model.served, model.sent) == (1, 0, [])


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"max_tokens": 10, "messages": [{"role": "user", "content": "x"}]}, "model:"),
        ({"model": "m", "messages": [{"role": "user", "content": "x"}]}, "max_tokens:"),
        ({"model": "m", "max_tokens": 0, "messages": [{"role": "user"}]}, "max_tokens:"),
        ({"model": "m", "max_tokens": 10}, "messages:"),
        ({"model": "m", "max_tokens": 10, "messages": [{"role": "user"}], "stream": 1}, "stream:"),
    ],
)
def test_a_bad_request_gets_an_anthropic_error_naming_the_field(
    model: ScriptedModel, server: ModelServer, body: dict[str, Any], fragment: str
) -> None:
    response = post(server, body)
    assert response.status_code == 400
    error = response.json()
    assert error["type"] == "error"
    assert error["error"]["type"] == "invalid_request_error"
    assert error["error"]["message"].startswith(fragment)
    assert model.requests == []


def test_malformed_json_gets_an_anthropic_error(server: ModelServer) -> None:
    response = httpx.post(f"{server.anthropic_base_url}/messages", content=b"{")
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]["message"]
