"""Pacing inside a step and the deliberate faults, seen from a real HTTP client."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from harness.model_server import ModelServer, ModelStep, ScriptedModel, Usage

TEXT = "one two three four five six seven eight"
GARBAGE = "data: {this is not json\n\n"


def chat_url(server: ModelServer) -> str:
    return f"{server.openai_base_url}/chat/completions"


def read_lines_into(response: httpx.Response, received: list[str]) -> None:
    # Keeps what arrived before the stream broke; the caller expects the break.
    for line in response.iter_lines():
        received.append(line)


def test_chunk_delay_spaces_every_chunk(wire: Any, model: ScriptedModel, server: ModelServer):
    delay = 0.02
    model.load([ModelStep(text=TEXT, usage=Usage(input=5), chunk_delay=delay)])
    started = time.monotonic()
    chunks = wire.openai_chunks(httpx.post(chat_url(server), json=wire.chat_body()).text)
    elapsed = time.monotonic() - started
    # A lower bound only: the gaps are sleeps, so the stream cannot be faster than their sum.
    assert elapsed >= delay * len(chunks)


def test_disconnect_drops_the_connection_before_the_usage(
    wire: Any, model: ScriptedModel, server: ModelServer
) -> None:
    model.load([ModelStep(text=TEXT, usage=Usage(input=5), fault="disconnect"), ModelStep()])
    received: list[str] = []
    with httpx.stream("POST", chat_url(server), json=wire.chat_body()) as response:
        assert response.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            read_lines_into(response, received)
    assert any('"content":"one "' in line for line in received)
    assert not any("[DONE]" in line for line in received)
    assert model.sent == []
    # The server is unharmed: the next step is served normally.
    wire.openai_chunks(httpx.post(chat_url(server), json=wire.chat_body()).text)
    assert [s.step_index for s in model.sent] == [1]


def test_garbage_puts_an_unparseable_line_mid_stream_and_carries_on(
    wire: Any, model: ScriptedModel, server: ModelServer
) -> None:
    model.load([ModelStep(text=TEXT, usage=Usage(input=5), fault="garbage")])
    text = httpx.post(chat_url(server), json=wire.chat_body()).text
    assert text.count(GARBAGE) == 1
    before, after = text.split(GARBAGE)
    assert before
    assert after
    chunks = wire.openai_chunks(before + after)
    assert chunks[-1]["usage"]["prompt_tokens"] == 5
    assert [s.step_index for s in model.sent] == [0]


def test_stall_goes_silent_until_the_client_gives_up(
    wire: Any, model: ScriptedModel, server: ModelServer
) -> None:
    model.load([ModelStep(text=TEXT, fault="stall"), ModelStep(text="after")])
    received: list[str] = []
    stream = httpx.stream("POST", chat_url(server), json=wire.chat_body(), timeout=0.3)
    with stream as response, pytest.raises(httpx.ReadTimeout):
        read_lines_into(response, received)
    assert any('"content":"one "' in line for line in received)
    assert model.sent == []
    asyncio.run(model.wait_abandoned(0, timeout=5))
    chunks = wire.openai_chunks(httpx.post(chat_url(server), json=wire.chat_body()).text)
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks[:-1]) == "after"


def test_a_stalled_stream_does_not_hold_up_stop(wire: Any, model: ScriptedModel) -> None:
    model.load([ModelStep(text=TEXT, fault="stall")])
    server = ModelServer(model)
    server.start()
    with httpx.stream("POST", chat_url(server), json=wire.chat_body(), timeout=10) as response:
        lines = response.iter_lines()
        assert next(lines).startswith("data: ")
        server.stop()
        with pytest.raises(httpx.RemoteProtocolError):
            list(lines)


def test_faults_apply_to_the_anthropic_format_too(
    wire: Any, model: ScriptedModel, server: ModelServer
) -> None:
    model.load([ModelStep(text=TEXT, fault="garbage")])
    text = httpx.post(f"{server.anthropic_base_url}/messages", json=wire.messages_body()).text
    assert text.count(GARBAGE) == 1
    events = wire.anthropic_events(text.replace(GARBAGE, ""))
    assert events[-1][0] == "message_stop"
