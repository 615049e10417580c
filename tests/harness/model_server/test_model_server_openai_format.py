"""The OpenAI Chat Completions wire format, read byte for byte over real loopback HTTP."""

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
    tool_calls=(ToolCall("read", {"path": "a.py"}, id="call_a"), ToolCall("edit", LONG_ARGUMENTS)),
    usage=USAGE,
)
EXPECTED_USAGE = {
    "prompt_tokens": 15000,
    "completion_tokens": 1000,
    "total_tokens": 16000,
    "prompt_tokens_details": {"cached_tokens": 3000},
    "completion_tokens_details": {"reasoning_tokens": 200},
}


def post(server: ModelServer, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{server.openai_base_url}/chat/completions", json=body, timeout=10)


def deltas(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [chunk["choices"][0]["delta"] for chunk in chunks if chunk["choices"]]


def test_a_step_streams_as_chat_completion_chunks(
    wire: Any, model: ScriptedModel, server: ModelServer
):
    model.load([STEP])
    response = post(server, wire.chat_body())
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    chunks = wire.openai_chunks(response.text)

    first = chunks[0]
    assert set(first) == {"id", "object", "created", "model", "choices", "usage"}
    assert first["id"].startswith("chatcmpl-")
    assert (first["object"], first["model"], first["usage"]) == (
        "chat.completion.chunk",
        "scripted-1",
        None,
    )
    assert first["choices"] == [
        {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
    ]
    assert {(c["id"], c["created"], c["model"], c["object"]) for c in chunks} == {
        (first["id"], first["created"], "scripted-1", "chat.completion.chunk")
    }

    parts = deltas(chunks)
    reasoning = [d["reasoning_content"] for d in parts if "reasoning_content" in d]
    text = [d["content"] for d in parts if "content" in d]
    assert reasoning == ["Look ", "first."]
    assert text == ["", "Reading ", "the ", "file"]


def test_tool_calls_open_with_id_and_name_then_stream_their_arguments(
    wire: Any, model: ScriptedModel, server: ModelServer
) -> None:
    model.load([STEP])
    calls = [
        d["tool_calls"]
        for d in deltas(wire.openai_chunks(post(server, wire.chat_body()).text))
        if "tool_calls" in d
    ]
    assert all(len(call) == 1 for call in calls)
    fragments = [call[0] for call in calls]
    openings = [f for f in fragments if "id" in f]
    assert openings == [
        {
            "index": 0,
            "id": "call_a",
            "type": "function",
            "function": {"name": "read", "arguments": ""},
        },
        {
            "index": 1,
            "id": model.steps[0].tool_calls[1].id,
            "type": "function",
            "function": {"name": "edit", "arguments": ""},
        },
    ]
    for index, arguments in ((0, {"path": "a.py"}), (1, LONG_ARGUMENTS)):
        pieces = [f["function"]["arguments"] for f in fragments if f["index"] == index]
        assert json.loads("".join(pieces)) == arguments
    edit_pieces = [f for f in fragments if f["index"] == 1 and "id" not in f]
    assert len(edit_pieces) > 1, "long arguments should be split over several chunks"
    assert all(set(f) == {"index", "function"} for f in edit_pieces)


def test_the_step_ends_with_its_finish_reason_then_a_usage_chunk(
    wire: Any, model: ScriptedModel, server: ModelServer
) -> None:
    model.load([STEP, ModelStep(text="Done", usage=USAGE)])
    for finish in ("tool_calls", "stop"):
        chunks = wire.openai_chunks(post(server, wire.chat_body()).text)
        finish_chunk, usage_chunk = chunks[-2], chunks[-1]
        assert finish_chunk["choices"] == [{"index": 0, "delta": {}, "finish_reason": finish}]
        assert [c["choices"][0]["finish_reason"] for c in chunks[:-2]] == [None] * (len(chunks) - 2)
        assert usage_chunk["choices"] == []
        assert usage_chunk["usage"] == EXPECTED_USAGE
    assert [s.step_index for s in model.sent] == [0, 1]
    assert all(s.in_stream for s in model.sent)


def test_without_include_usage_no_chunk_carries_usage(
    wire: Any, model: ScriptedModel, server: ModelServer
):
    model.load([STEP, STEP])
    for include_usage in (False, None):
        chunks = wire.openai_chunks(post(server, wire.chat_body(include_usage=include_usage)).text)
        assert all("usage" not in chunk for chunk in chunks)
        assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert [(s.step_index, s.in_stream) for s in model.sent] == [(0, False), (1, False)]


def test_a_non_streaming_request_gets_a_whole_chat_completion(
    wire: Any, model: ScriptedModel, server: ModelServer
) -> None:
    model.load([STEP])
    response = post(server, wire.chat_body(stream=False, include_usage=None))
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["usage"] == EXPECTED_USAGE
    (choice,) = body["choices"]
    assert choice["finish_reason"] == "tool_calls"
    message = choice["message"]
    assert (message["role"], message["content"], message["reasoning_content"]) == (
        "assistant",
        "Reading the file",
        "Look first.",
    )
    assert message["tool_calls"][0] == {
        "id": "call_a",
        "type": "function",
        "function": {"name": "read", "arguments": '{"path":"a.py"}'},
    }
    assert model.sent[0].step_index == 0


def test_a_request_without_tools_gets_a_short_answer_outside_the_script(
    wire: Any, model: ScriptedModel, server: ModelServer
) -> None:
    model.load([STEP])
    model.gated = True  # a title request must not wait for the runner
    chunks = wire.openai_chunks(post(server, wire.chat_body(tools=False)).text)
    text = "".join(d.get("content", "") for d in deltas(chunks))
    assert text == "Scripted session"
    assert chunks[-1]["usage"]["total_tokens"] < 100
    assert (model.toolless_requests, model.state()["arrived"], model.sent) == (1, 0, [])


def test_a_request_after_the_script_ends_gets_an_empty_stop_with_zero_usage(
    wire: Any, model: ScriptedModel, server: ModelServer
) -> None:
    chunks = wire.openai_chunks(post(server, wire.chat_body()).text)
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["usage"]["total_tokens"] == 0
    assert model.unscripted_requests == 1


def test_the_request_body_is_kept_for_inspection(
    wire: Any, model: ScriptedModel, server: ModelServer
):
    model.load([STEP])
    post(server, wire.chat_body())
    assert model.requests == [wire.chat_body()]


def test_the_model_list_names_the_scripted_model(server: ModelServer) -> None:
    body = httpx.get(f"{server.openai_base_url}/models").json()
    assert body == {
        "object": "list",
        "data": [
            {
                "id": "scripted-1",
                "object": "model",
                "created": body["data"][0]["created"],
                "owned_by": "freshness",
            }
        ],
    }


@pytest.mark.parametrize(
    ("content", "param", "fragment"),
    [
        (b"{not json", None, "not valid JSON"),
        (b"[]", None, "must be a JSON object"),
        (json.dumps({"messages": [{"role": "user"}]}).encode(), "model", "model:"),
        (json.dumps({"model": "m", "messages": []}).encode(), "messages", "messages:"),
        (json.dumps({"model": "m", "messages": [1]}).encode(), "messages", "messages[0]"),
        (
            json.dumps({"model": "m", "messages": [{"role": "user"}], "stream": "yes"}).encode(),
            "stream",
            "stream:",
        ),
        (
            json.dumps({"model": "m", "messages": [{"role": "user"}], "tools": {}}).encode(),
            "tools",
            "tools:",
        ),
        (
            json.dumps(
                {
                    "model": "m",
                    "messages": [{"role": "user"}],
                    "stream": True,
                    "stream_options": {"include_usage": 1},
                }
            ).encode(),
            "include_usage",
            "include_usage:",
        ),
    ],
)
def test_a_bad_request_gets_an_openai_error_naming_the_field(
    model: ScriptedModel, server: ModelServer, content: bytes, param: str | None, fragment: str
) -> None:
    response = httpx.post(f"{server.openai_base_url}/chat/completions", content=content)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", param, None)
    assert fragment in error["message"]
    assert model.requests == []


def test_an_unserved_route_gets_a_json_404_listing_what_is_served(server: ModelServer):
    response = httpx.post(f"{server.openai_base_url}/responses", json={})
    assert response.status_code == 404
    assert "POST /v1/chat/completions" in response.json()["error"]["message"]
