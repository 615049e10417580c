"""End-to-end turns: the scripted model plays, the agent server records and announces, a
client follows /event and reads REST."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from harness.model_server import ModelStep, ScriptedModel, ToolCall, Usage
from tests.reference_app.server.server_helpers import (
    UNPRICED_ID,
    cost_of,
    new_session,
    of_type,
    prompt,
    session_updates,
    step_finish,
)

USAGES = [
    Usage(input=12_000, output=800, reasoning=200, cache_read=0),
    Usage(input=13_000, output=500, reasoning=0, cache_read=12_000),
    Usage(input=1_000, output=300, reasoning=100, cache_read=25_000),
]
THREE_STEPS = [
    ModelStep(text="Reading the notes", tool_calls=(ToolCall("echo", {"text": "hi"}),),
              usage=USAGES[0]),
    ModelStep(reasoning="The notes say write", text="Writing",
              tool_calls=(ToolCall("write", {"path": "out.txt", "content": "done"}),),
              usage=USAGES[1]),
    ModelStep(text="All done.", usage=USAGES[2]),
]


@pytest.mark.parametrize("server_fix", [False, True], ids=["fix-off", "fix-on"])
async def test_three_step_turn_announces_totals_only_with_the_server_fix(
    model: ScriptedModel, start_agent: Callable[..., str], follow: Any,
    http: httpx.AsyncClient, server_fix: bool,
) -> None:
    model.load(THREE_STEPS)
    base_url = start_agent(server_fix=server_fix)
    log = await follow(base_url)
    session_id = await new_session(http, base_url)
    await prompt(http, base_url, session_id)

    spent = 0.0
    for step, usage in enumerate(USAGES, start=1):
        model.release(1)
        await log.wait_for(step_finish, count=step)
        spent += cost_of(usage)
        # storage is right at every step, whatever the fix mode
        stored = (await http.get(f"{base_url}/session/{session_id}")).json()
        assert stored["cost"] == pytest.approx(spent)
        assert stored["tokens"]["input"] == sum(u.input for u in USAGES[:step])
        assert stored["tokens"]["cache"]["read"] == sum(u.cache_read for u in USAGES[:step])
        # the live channel carries the message at every step...
        message = await log.wait_for(
            lambda e: e["type"] == "message.updated"
            and e["properties"]["info"]["role"] == "assistant"
            and e["properties"]["info"]["tokens"]["input"] > 0, count=step)
        assert message["properties"]["info"]["tokens"]["input"] == usage.input
        assert message["properties"]["info"]["cost"] == pytest.approx(spent)
        # ...and the session total only with the fix
        if server_fix:
            await log.wait_for(of_type("session.updated"), count=step)
            updates = session_updates(log, session_id)
            assert len(updates) == step
            assert updates[-1]["cost"] == pytest.approx(spent)
            assert updates[-1] == stored
        else:
            assert session_updates(log, session_id) == []

    await log.wait_for(of_type("session.idle"))
    types = log.types()
    assert types.count("message.part.delta") >= 3
    assert [e["properties"]["part"]["type"] for e in log.payloads
            if e["type"] == "message.part.updated"].count("step-start") == 3
    assert len(session_updates(log, session_id)) == (3 if server_fix else 0)
    # the busy/idle frame of the turn
    statuses = [e["properties"]["status"]["type"] for e in log.payloads
                if e["type"] == "session.status"]
    assert statuses == ["busy", "idle"]
    assert types.index("session.idle") == len(types) - 1

    final = (await http.get(f"{base_url}/session/{session_id}")).json()
    assert final["cost"] == pytest.approx(sum(cost_of(u) for u in USAGES))
    messages = (await http.get(f"{base_url}/session/{session_id}/message")).json()
    assert [m["info"]["role"] for m in messages] == ["user", "assistant"]
    assistant = messages[1]
    assert assistant["info"]["tokens"]["input"] == USAGES[-1].input  # occupancy
    assert assistant["info"]["finish"] == "stop"
    assert "completed" in assistant["info"]["time"]
    tools = [p for p in assistant["parts"] if p["type"] == "tool"]
    assert [(t["tool"], t["state"]["status"]) for t in tools] == [
        ("echo", "completed"), ("write", "completed")]
    assert tools[0]["state"]["output"] == "hi"
    kinds = [p["type"] for p in assistant["parts"]]
    assert kinds.count("step-finish") == 3
    assert "reasoning" in kinds
    texts = [p["text"] for p in assistant["parts"] if p["type"] == "text"]
    assert texts == ["Reading the notes", "Writing", "All done."]


async def test_event_order_at_a_step_finish(
    model: ScriptedModel, start_agent: Callable[..., str], follow: Any,
    http: httpx.AsyncClient,
) -> None:
    model.load([ModelStep(text="ok", usage=USAGES[0])])
    model.release_all()
    base_url = start_agent(server_fix=True)
    log = await follow(base_url)
    session_id = await new_session(http, base_url)
    await prompt(http, base_url, session_id)
    await log.wait_for(of_type("session.idle"))
    index = next(i for i, e in enumerate(log.payloads) if step_finish(e))
    assert [e["type"] for e in log.payloads[index:index + 3]] == [
        "message.part.updated", "message.updated", "session.updated"]
    sequences = [seq for seq, _ in log.received[1:]]
    assert sequences == sorted(sequences)
    assert len(set(sequences)) == len(sequences)


async def test_the_main_loop_streams_and_sends_tools(
    model: ScriptedModel, start_agent: Callable[..., str], follow: Any,
    http: httpx.AsyncClient,
) -> None:
    model.load([ModelStep(text="ok", usage=USAGES[0])])
    model.release_all()
    base_url = start_agent()
    log = await follow(base_url)
    session_id = await new_session(http, base_url)
    await prompt(http, base_url, session_id)
    await log.wait_for(of_type("session.idle"))
    [request] = model.requests
    assert request["stream"] is True
    assert request["stream_options"] == {"include_usage": True}
    assert {tool["function"]["name"] for tool in request["tools"]} >= {"read", "write", "echo"}


async def test_anthropic_wire_format_gives_the_same_accounting(
    model: ScriptedModel, start_agent: Callable[..., str], follow: Any,
    http: httpx.AsyncClient,
) -> None:
    usage = Usage(input=2_000, output=100, cache_read=500, cache_write=300)
    model.load([ModelStep(text="ok", usage=usage)])
    model.release_all()
    base_url = start_agent(kind="anthropic", server_fix=True)
    log = await follow(base_url)
    session_id = await new_session(http, base_url)
    await prompt(http, base_url, session_id)
    update = await log.wait_for(of_type("session.updated"))
    info = update["properties"]["info"]
    assert info["tokens"] == {"input": 2_000, "output": 100, "reasoning": 0,
                              "cache": {"read": 500, "write": 300}}
    assert info["cost"] == pytest.approx(cost_of(usage))


async def test_an_unpriced_model_makes_the_cost_unknown(
    model: ScriptedModel, start_agent: Callable[..., str], follow: Any,
    http: httpx.AsyncClient,
) -> None:
    model.load([ModelStep(text="ok", usage=USAGES[0])])
    model.release_all()
    base_url = start_agent(server_fix=True)
    log = await follow(base_url)
    session_id = await new_session(http, base_url)
    await prompt(http, base_url, session_id, model_id=UNPRICED_ID)
    update = await log.wait_for(of_type("session.updated"))
    assert update["properties"]["info"]["cost"] is None
    finish = await log.wait_for(step_finish)
    assert finish["properties"]["part"]["cost"] is None
    stored = (await http.get(f"{base_url}/session/{session_id}")).json()
    assert stored["cost"] is None


async def test_a_second_prompt_while_busy_is_refused(
    model: ScriptedModel, start_agent: Callable[..., str], follow: Any,
    http: httpx.AsyncClient,
) -> None:
    model.load([ModelStep(text="ok", usage=USAGES[0])])
    base_url = start_agent()
    log = await follow(base_url)
    session_id = await new_session(http, base_url)
    await prompt(http, base_url, session_id)
    response = await http.post(f"{base_url}/session/{session_id}/prompt_async",
                               json={"parts": [{"type": "text", "text": "again"}]})
    assert response.status_code == 409
    assert response.json()["_tag"] == "SessionBusyError"
    assert (await http.get(f"{base_url}/session/status")).json() == {
        session_id: {"type": "busy"}}
    model.release_all()
    await log.wait_for(of_type("session.idle"))
    assert (await http.get(f"{base_url}/session/status")).json() == {}


async def test_abort_ends_the_turn_as_aborted(
    model: ScriptedModel, start_agent: Callable[..., str], follow: Any,
    http: httpx.AsyncClient,
) -> None:
    model.load([ModelStep(text="never", usage=USAGES[0])])
    base_url = start_agent()
    log = await follow(base_url)
    session_id = await new_session(http, base_url)
    await prompt(http, base_url, session_id)
    await model.wait_request(0)
    response = await http.post(f"{base_url}/session/{session_id}/abort")
    assert response.json() is True
    error = await log.wait_for(of_type("session.error"))
    assert error["properties"]["error"]["name"] == "MessageAbortedError"
    await log.wait_for(of_type("session.idle"))
    messages = (await http.get(f"{base_url}/session/{session_id}/message")).json()
    assert messages[-1]["info"]["error"]["name"] == "MessageAbortedError"
    assert (await http.post(f"{base_url}/session/{session_id}/abort")).json() is False


async def test_title_generation_asks_without_tools_and_renames(
    model: ScriptedModel, start_agent: Callable[..., str], follow: Any,
    http: httpx.AsyncClient,
) -> None:
    model.load([ModelStep(text="ok", usage=USAGES[0])])
    base_url = start_agent(generate_titles=True)
    log = await follow(base_url)
    session_id = await new_session(http, base_url)
    await prompt(http, base_url, session_id)
    update = await log.wait_for(of_type("session.updated"))
    assert not update["properties"]["info"]["title"].startswith("New session")
    assert model.toolless_requests == 1
    model.release_all()
    await log.wait_for(of_type("session.idle"))


async def test_deleting_a_busy_session_aborts_its_turn(
    model: ScriptedModel, start_agent: Callable[..., str], follow: Any,
    http: httpx.AsyncClient,
) -> None:
    model.load([ModelStep(text="never", usage=USAGES[0])])
    base_url = start_agent()
    log = await follow(base_url)
    session_id = await new_session(http, base_url)
    await prompt(http, base_url, session_id)
    await model.wait_request(0)
    assert (await http.delete(f"{base_url}/session/{session_id}")).json() is True
    await log.wait_for(of_type("session.deleted"))
    types = log.types()
    assert types.index("session.idle") < types.index("session.deleted")
    assert (await http.get(f"{base_url}/session/status")).json() == {}
    assert (await http.get(f"{base_url}/session/{session_id}")).status_code == 404
