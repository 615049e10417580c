"""Rewriting history: revert and compaction remove messages but never refund spend; child
sessions (subagents) list under their parent with their own totals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from harness.model_server import ModelStep, ScriptedModel, ToolCall, Usage
from tests.reference_app.server.server_helpers import (
    MODEL_ID,
    cost_of,
    new_session,
    of_type,
    prompt,
)

FIRST = Usage(input=10_000, output=1_000)
SECOND = Usage(input=20_000, output=2_000)
SUMMARY = Usage(input=30_000, output=500)


async def two_turns(model: ScriptedModel, log: Any, http: httpx.AsyncClient,
                    base_url: str) -> str:
    model.gated = False
    model.load([ModelStep(text="one", usage=FIRST), ModelStep(text="two", usage=SECOND)])
    session_id = await new_session(http, base_url)
    for turn in (1, 2):
        await prompt(http, base_url, session_id, text=f"turn {turn}")
        await log.wait_for(of_type("session.idle"), count=turn)
    return session_id


async def messages(http: httpx.AsyncClient, base_url: str, session_id: str) -> list[Any]:
    response = await http.get(f"{base_url}/session/{session_id}/message")
    assert response.status_code == 200
    listed: list[Any] = response.json()
    return listed


async def test_revert_removes_the_turn_and_keeps_the_spend(
    model: ScriptedModel, start_agent: Callable[..., str], follow: Any, http: httpx.AsyncClient
) -> None:
    base_url = start_agent()
    log = await follow(base_url)
    session_id = await two_turns(model, log, http, base_url)
    before = (await http.get(f"{base_url}/session/{session_id}")).json()
    second_user = (await messages(http, base_url, session_id))[2]["info"]

    response = await http.post(f"{base_url}/session/{session_id}/revert",
                               json={"messageID": second_user["id"]})

    assert response.status_code == 200
    assert response.json() == before
    left = await messages(http, base_url, session_id)
    assert [m["info"]["role"] for m in left] == ["user", "assistant"]
    assert left[1]["info"]["tokens"]["input"] == FIRST.input
    assert before["cost"] == pytest.approx(cost_of(FIRST) + cost_of(SECOND))
    removed = await log.wait_for(of_type("message.removed"), count=2)
    assert removed["properties"]["sessionID"] == session_id


async def test_revert_of_an_unknown_message_is_a_404(
    start_agent: Callable[..., str], http: httpx.AsyncClient
) -> None:
    base_url = start_agent()
    session_id = await new_session(http, base_url)

    response = await http.post(f"{base_url}/session/{session_id}/revert",
                               json={"messageID": "msg_nothing"})

    assert response.status_code == 404


async def test_revert_while_a_turn_runs_is_refused(
    model: ScriptedModel, start_agent: Callable[..., str], http: httpx.AsyncClient
) -> None:
    model.load([ModelStep(text="slow", usage=FIRST)])
    base_url = start_agent()
    session_id = await new_session(http, base_url)
    await prompt(http, base_url, session_id)
    await model.wait_request(0, timeout=10)
    first = (await messages(http, base_url, session_id))[0]["info"]

    response = await http.post(f"{base_url}/session/{session_id}/revert",
                               json={"messageID": first["id"]})

    assert response.status_code == 409
    assert response.json()["_tag"] == "SessionBusyError"


@pytest.mark.parametrize("server_fix", [False, True], ids=["fix-off", "fix-on"])
async def test_summarize_replaces_history_with_a_billed_summary(
    model: ScriptedModel, start_agent: Callable[..., str], follow: Any,
    http: httpx.AsyncClient, server_fix: bool,
) -> None:
    base_url = start_agent(server_fix=server_fix)
    log = await follow(base_url)
    session_id = await two_turns(model, log, http, base_url)
    model.extend([ModelStep(text="They asked twice; both done.", usage=SUMMARY)])

    response = await http.post(f"{base_url}/session/{session_id}/summarize",
                               json={"providerID": "scripted", "modelID": MODEL_ID})

    assert response.status_code == 200
    assert response.json() is True
    left = await messages(http, base_url, session_id)
    assert len(left) == 1
    summary = left[0]
    assert summary["info"]["summary"] is True
    assert summary["info"]["tokens"]["input"] == SUMMARY.input
    assert "".join(p.get("text", "") for p in summary["parts"]) == "They asked twice; both done."
    stored = (await http.get(f"{base_url}/session/{session_id}")).json()
    spent = cost_of(FIRST) + cost_of(SECOND) + cost_of(SUMMARY)
    assert stored["cost"] == pytest.approx(spent)
    await log.wait_for(of_type("session.compacted"))
    await log.wait_for(of_type("session.idle"), count=3)
    assert log.types().count("message.removed") == 4
    updates = [e for e in log.payloads if e["type"] == "session.updated"]
    assert (updates[-1]["properties"]["info"]["cost"] == pytest.approx(spent)) if server_fix \
        else updates == []


async def test_summarize_while_busy_is_refused_and_bad_models_are_a_400(
    model: ScriptedModel, start_agent: Callable[..., str], http: httpx.AsyncClient
) -> None:
    model.load([ModelStep(text="slow", usage=FIRST)])
    base_url = start_agent()
    session_id = await new_session(http, base_url)
    url = f"{base_url}/session/{session_id}/summarize"

    wrong = await http.post(url, json={"providerID": "scripted", "modelID": "nope"})
    await prompt(http, base_url, session_id)
    await model.wait_request(0, timeout=10)
    busy = await http.post(url, json={"providerID": "scripted", "modelID": MODEL_ID})

    assert wrong.status_code == 400
    assert busy.status_code == 409


async def test_children_lists_subagent_sessions_with_their_own_totals(
    model: ScriptedModel, start_agent: Callable[..., str], follow: Any, http: httpx.AsyncClient
) -> None:
    model.gated = False
    model.load([ModelStep(text="child work", usage=FIRST)])
    base_url = start_agent()
    log = await follow(base_url)
    parent = await new_session(http, base_url)
    other = await new_session(http, base_url)
    child = (await http.post(f"{base_url}/session", json={"parentID": parent})).json()
    await prompt(http, base_url, child["id"])
    await log.wait_for(of_type("session.idle"))

    listed = (await http.get(f"{base_url}/session/{parent}/children")).json()
    none = (await http.get(f"{base_url}/session/{other}/children")).json()
    missing = await http.get(f"{base_url}/session/ses_nothing/children")

    assert [c["id"] for c in listed] == [child["id"]]
    assert listed[0]["parentID"] == parent
    assert listed[0]["cost"] == pytest.approx(cost_of(FIRST))
    assert (await http.get(f"{base_url}/session/{parent}")).json()["cost"] == 0
    assert none == []
    assert missing.status_code == 404


async def test_the_task_tool_runs_a_subagent_billed_to_its_child_session(
    model: ScriptedModel, start_agent: Callable[..., str], follow: Any, http: httpx.AsyncClient
) -> None:
    task = ToolCall("task", {"description": "Find flaky tests", "prompt": "Find them"})
    model.gated = False
    model.load([
        ModelStep(text="Delegating", tool_calls=(task,), usage=FIRST),
        ModelStep(text="Three flaky tests", usage=SECOND),  # the child's only step
        ModelStep(text="Fixed all three", usage=SUMMARY),
    ])
    base_url = start_agent()
    log = await follow(base_url)
    parent = await new_session(http, base_url)
    await prompt(http, base_url, parent)
    done = await log.wait_for(
        lambda e: e["type"] == "session.idle" and e["properties"]["sessionID"] == parent)

    children = (await http.get(f"{base_url}/session/{parent}/children")).json()
    assert [c["title"] for c in children] == ["Find flaky tests"]
    child = children[0]
    assert child["cost"] == pytest.approx(cost_of(SECOND))
    parent_info = (await http.get(f"{base_url}/session/{parent}")).json()
    assert parent_info["cost"] == pytest.approx(cost_of(FIRST) + cost_of(SUMMARY))
    tool = next(part for message in await messages(http, base_url, parent)
                for part in message["parts"] if part["type"] == "tool")
    assert tool["state"]["status"] == "completed"
    assert tool["state"]["output"] == "Three flaky tests"
    assert tool["state"]["metadata"]["sessionId"] == child["id"]
    created = await log.wait_for(of_type("session.created"), count=2)
    assert created["properties"]["info"]["parentID"] == parent
    # The child went idle before its parent did.
    assert log.payloads.index(done) > next(
        i for i, e in enumerate(log.payloads)
        if e["type"] == "session.idle" and e["properties"]["sessionID"] == child["id"])
