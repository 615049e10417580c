"""Item 2: `kill -9` the agent mid-turn, restart it on the same port and data folder.

What must hold after the restart:
- the session's totals equal the sum of the step-finish parts that were recorded (the usage
  write is one transaction: a crash leaves all of a step or none of it);
- the interrupted assistant message is marked, not left looking as if still streaming;
- a client that was following reconnects by itself and resyncs: its readouts equal a fresh
  client's, even when the new server life has already published more events than the old
  one had (an old Last-Event-ID must not be mistaken for a position in the new life).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.model_server import ModelServer, ModelStep, ScriptedModel, ToolCall, Usage
from reference_app.client.follow import Client
from tests.hardening.agent_process import CONTEXT, MODEL_ID, AgentProcess, free_port, write_config

STEPS = [
    # A tool call keeps the turn going: the agent asks for the next step after running it.
    ModelStep(text="Reading the test", tool_calls=(ToolCall(name="echo", arguments={}),),
              usage=Usage(input=12_000, output=1_000)),
    ModelStep(text="Editing", tool_calls=(ToolCall(name="echo", arguments={}),),
              usage=Usage(input=14_000, output=1_200, cache_read=2_000)),
    ModelStep(text="Done", usage=Usage(input=16_000, output=1_400)),
]
AFTER_RESTART = [ModelStep(text="Again", usage=Usage(input=9_000, output=700))]


@pytest.fixture
def model() -> Iterator[tuple[ScriptedModel, str]]:
    scripted = ScriptedModel(model_id=MODEL_ID, gated=True)
    server = ModelServer(scripted)
    base_url = server.start()
    yield scripted, base_url
    scripted.release_all()
    server.stop()


def step_finishes(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [part for message in messages for part in message["parts"]
            if part["type"] == "step-finish"]


async def assert_totals_match_the_parts(http: httpx.AsyncClient, session_id: str) -> dict[str, Any]:
    session: dict[str, Any] = (await http.get(f"/session/{session_id}")).json()
    parts = step_finishes((await http.get(f"/session/{session_id}/message")).json())
    assert session["cost"] == pytest.approx(sum(part["cost"] for part in parts), rel=1e-12)
    for kind in ("input", "output", "reasoning"):
        assert session["tokens"][kind] == sum(part["tokens"][kind] for part in parts), kind
    for kind in ("read", "write"):
        assert session["tokens"]["cache"][kind] == sum(
            part["tokens"]["cache"][kind] for part in parts), kind
    return session


async def fresh_readouts(url: str, session_id: str) -> dict[str, str]:
    async with Client(url, context_limits={MODEL_ID: CONTEXT}) as fresh:
        await fresh.bootstrap(session_id)
        return fresh.store.readouts(session_id)


@pytest.mark.slow
async def test_kill_9_mid_turn_loses_nothing_and_the_follower_recovers(
    tmp_path: Path, model: tuple[ScriptedModel, str]
) -> None:
    scripted, model_url = model
    scripted.load(STEPS)
    config = write_config(tmp_path, f"{model_url}/v1")
    port = str(free_port())
    agent = AgentProcess(config, "--port", port)
    follower = Client(agent.url, context_limits={MODEL_ID: CONTEXT})
    try:
        async with httpx.AsyncClient(base_url=agent.url, timeout=10) as http:
            session_id = (await http.post("/session", json={"title": "crash"})).json()["id"]
        await follower.bootstrap(session_id)
        await follower.start()
        async with httpx.AsyncClient(base_url=agent.url, timeout=10) as http:
            response = await http.post(f"/session/{session_id}/prompt_async", json={
                "parts": [{"type": "text", "text": "go"}],
                "model": {"providerID": "scripted", "modelID": MODEL_ID}})
            assert response.status_code == 204
        await scripted.wait_request(0, timeout=20)
        scripted.release(1)
        # Step 0 is recorded, step 1 has been asked for and waits at the gate: mid-turn.
        await scripted.wait_request(1, timeout=20)
        await follower.wait_until(
            lambda store: store.readouts(session_id)["sidebar.tokens"] == "13,000", timeout=20)
        before = follower.store.readouts(session_id)
        old_last_event_id = follower.last_event_id
        assert old_last_event_id is not None
        agent.kill9()

        agent = AgentProcess(config, "--port", port)
        assert agent.url == follower.base_url
        async with httpx.AsyncClient(base_url=agent.url, timeout=10) as http:
            session = await assert_totals_match_the_parts(http, session_id)
            assert session["tokens"]["input"] == 12_000  # exactly step 0, nothing of step 1
            messages = (await http.get(f"/session/{session_id}/message")).json()
            assistant = messages[-1]["info"]
            assert assistant["role"] == "assistant"
            # Marked: completed with an error that says the server went away mid-turn.
            assert "completed" in assistant["time"]
            assert assistant["error"]["name"] == "MessageAbortedError"
            assert (await http.get("/session/status")).json() == {}

            # The follower reconnects on its own (no reload asked of it) and resyncs.
            await follower.wait_until(lambda _store: follower.connected, timeout=30)
            await follower.wait_until(
                lambda store: store.readouts(session_id) == before, timeout=10)

            # A new turn after the restart: the live copy follows it as before the crash.
            # A fresh script: the step the dead server had asked for is gone with it.
            scripted.gated = False
            scripted.load(AFTER_RESTART)
            assert (await http.post(f"/session/{session_id}/prompt_async", json={
                "parts": [{"type": "text", "text": "again"}],
                "model": {"providerID": "scripted", "modelID": MODEL_ID}})).status_code == 204
            await follower.wait_until(
                lambda store: store.readouts(session_id)["sidebar.tokens"] == "9,700", timeout=20)
            await assert_totals_match_the_parts(http, session_id)
            fresh = await fresh_readouts(agent.url, session_id)
            await follower.wait_until(
                lambda store: store.readouts(session_id) == fresh, timeout=10)
    finally:
        await follower.close()
        agent.stop()


@pytest.mark.slow
async def test_an_old_event_id_is_not_a_position_in_the_new_life(
    tmp_path: Path, model: tuple[ScriptedModel, str]
) -> None:
    """The follower is offline across the restart while the new life publishes more events
    than the old one had; resuming with its old Last-Event-ID must resync, not replay the
    tail of the new life and skip its beginning."""
    scripted, model_url = model
    scripted.gated = False
    scripted.load([ModelStep(text="one", usage=Usage(input=1_000, output=100))])
    config = write_config(tmp_path, f"{model_url}/v1")
    port = str(free_port())
    agent = AgentProcess(config, "--port", port)
    follower = Client(agent.url, context_limits={MODEL_ID: CONTEXT})
    try:
        async with httpx.AsyncClient(base_url=agent.url, timeout=10) as http:
            session_id = (await http.post("/session", json={"title": "gap"})).json()["id"]
            # The old life gets well ahead, so that its last id lands after the whole turn
            # of the new life below.
            for n in range(60):
                await http.patch(f"/session/{session_id}", json={"title": f"gap {n}"})
        await follower.bootstrap(session_id)
        await follower.start()
        await follower.wait_until(lambda _store: (follower.last_event_id or 0) >= 60, timeout=10)
        await follower.pause()
        agent.kill9()
        agent = AgentProcess(config, "--port", port)
        async with httpx.AsyncClient(base_url=agent.url, timeout=10) as http:
            # First in the new life: a turn that moves every readout of the session...
            assert (await http.post(f"/session/{session_id}/prompt_async", json={
                "parts": [{"type": "text", "text": "go"}],
                "model": {"providerID": "scripted", "modelID": MODEL_ID}})).status_code == 204
            for _ in range(400):
                if (await http.get("/session/status")).json() == {}:
                    break
                await asyncio.sleep(0.05)
            # ...then enough other events to carry the new sequence past the old position.
            other = (await http.post("/session", json={"title": "other"})).json()["id"]
            for n in range((follower.last_event_id or 0) + 5):
                await http.patch(f"/session/{other}", json={"title": f"other {n}"})
        follower.resume()
        fresh = await fresh_readouts(agent.url, session_id)
        assert fresh["sidebar.tokens"] == "1,100"
        await follower.wait_until(lambda store: store.readouts(session_id) == fresh, timeout=20)
    finally:
        await follower.close()
        agent.stop()
