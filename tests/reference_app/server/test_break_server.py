"""The server under odd but legal use: two sessions at once, abort then prompt, rename and
delete in the middle of a turn. No 5xx, no hang, totals exact."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from harness.model_server import ModelStep, ScriptedModel, Usage
from tests.reference_app.server.server_helpers import (
    MODEL_ID,
    cost_of,
    new_session,
    of_type,
    prompt,
)

A = Usage(input=12_000, output=800, reasoning=0, cache_read=0)
B = Usage(input=7_000, output=100, reasoning=0, cache_read=500)


def idle_of(session_id: str) -> Callable[[dict[str, Any]], bool]:
    return lambda event: (event["type"] == "session.idle"
                          and event["properties"]["sessionID"] == session_id)


async def session_cost(http: httpx.AsyncClient, base_url: str, session_id: str) -> float:
    response = await http.get(f"{base_url}/session/{session_id}")
    assert response.status_code == 200, response.text
    return float(response.json()["cost"])


async def messages_cost(http: httpx.AsyncClient, base_url: str, session_id: str) -> float:
    listed = (await http.get(f"{base_url}/session/{session_id}/message")).json()
    return sum(m["info"].get("cost") or 0.0 for m in listed if m["info"]["role"] == "assistant")


async def test_two_sessions_prompted_at_once_are_each_billed_their_own_steps(
    model: ScriptedModel, start_agent: Callable[..., str], follow: Any,
    http: httpx.AsyncClient,
) -> None:
    model.load([ModelStep(text="one", usage=A), ModelStep(text="two", usage=B)])
    base_url = start_agent(server_fix=True)
    log = await follow(base_url)
    first, second = await new_session(http, base_url), await new_session(http, base_url)
    await asyncio.gather(prompt(http, base_url, first), prompt(http, base_url, second))
    model.release_all()
    await log.wait_for(idle_of(first))
    await log.wait_for(idle_of(second))

    costs = [await session_cost(http, base_url, s) for s in (first, second)]
    assert sorted(costs) == pytest.approx(sorted([cost_of(A), cost_of(B)]))
    for session_id, cost in zip((first, second), costs, strict=True):
        assert await messages_cost(http, base_url, session_id) == pytest.approx(cost)


async def test_abort_then_prompt_again_runs_the_new_turn_and_bills_it_once(
    model: ScriptedModel, start_agent: Callable[..., str], follow: Any,
    http: httpx.AsyncClient,
) -> None:
    model.load([ModelStep(text="never", usage=A), ModelStep(text="again", usage=B)])
    base_url = start_agent(server_fix=True)
    log = await follow(base_url)
    session_id = await new_session(http, base_url)
    await prompt(http, base_url, session_id)
    await model.wait_request(0)
    assert (await http.post(f"{base_url}/session/{session_id}/abort")).json() is True
    # Straight away, with no wait for the idle event: abort answered after the turn ended.
    await prompt(http, base_url, session_id, text="try again")
    model.release_all()
    await log.wait_for(idle_of(session_id), count=2)

    cost = await session_cost(http, base_url, session_id)
    assert cost in (pytest.approx(cost_of(B)), pytest.approx(cost_of(A)))
    assert await messages_cost(http, base_url, session_id) == pytest.approx(cost)


async def test_rename_in_the_middle_of_a_turn_keeps_the_turn_and_its_totals(
    model: ScriptedModel, start_agent: Callable[..., str], follow: Any,
    http: httpx.AsyncClient,
) -> None:
    model.load([ModelStep(text="one", usage=A)])
    base_url = start_agent()
    log = await follow(base_url)
    session_id = await new_session(http, base_url)
    await prompt(http, base_url, session_id)
    await model.wait_request(0)
    renamed = await http.patch(f"{base_url}/session/{session_id}", json={"title": "Ünï 🚀"})
    assert renamed.status_code == 200, renamed.text
    model.release_all()
    await log.wait_for(idle_of(session_id))

    info = (await http.get(f"{base_url}/session/{session_id}")).json()
    assert info["title"] == "Ünï 🚀"
    assert info["cost"] == pytest.approx(cost_of(A))


async def test_a_prompt_racing_a_delete_never_answers_5xx_nor_leaves_the_session_busy(
    model: ScriptedModel, start_agent: Callable[..., str], follow: Any,
    http: httpx.AsyncClient,
) -> None:
    model.load([ModelStep(text="never", usage=A), ModelStep(text="late", usage=B)])
    base_url = start_agent(server_fix=True)
    log = await follow(base_url)
    session_id = await new_session(http, base_url)
    await prompt(http, base_url, session_id)
    await model.wait_request(0)
    deleted, again = await asyncio.gather(
        http.delete(f"{base_url}/session/{session_id}"),
        http.post(f"{base_url}/session/{session_id}/prompt_async",
                  json={"parts": [{"type": "text", "text": "again"}]}),
    )
    model.release_all()
    assert deleted.status_code == 200, deleted.text
    assert again.status_code < 500, again.text
    await log.wait_for(of_type("session.deleted"))
    for _ in range(50):
        if (await http.get(f"{base_url}/session/status")).json() == {}:
            break
        await asyncio.sleep(0.1)
    assert (await http.get(f"{base_url}/session/status")).json() == {}
    assert (await http.get(f"{base_url}/session/{session_id}")).status_code == 404
    listed = (await http.get(f"{base_url}/session")).json()
    assert session_id not in [s["id"] for s in listed]


async def test_a_compaction_the_provider_fails_is_reported_not_a_crash(
    model: ScriptedModel, start_agent: Callable[..., str], follow: Any,
    http: httpx.AsyncClient,
) -> None:
    # The model streams garbage for the summary step: a provider's failure, not the server's.
    model.load([ModelStep(text="one", usage=A),
                ModelStep(text="summary that breaks", fault="garbage", usage=B)])  # type: ignore[arg-type]
    model.release_all()
    base_url = start_agent(server_fix=True)
    log = await follow(base_url)
    session_id = await new_session(http, base_url)
    await prompt(http, base_url, session_id)
    await log.wait_for(idle_of(session_id))

    response = await http.post(f"{base_url}/session/{session_id}/summarize",
                               json={"providerID": "scripted", "modelID": "scripted-1"})

    assert response.status_code < 500, response.text
    assert response.json()["name"] == "APIError"
    await log.wait_for(of_type("session.error"))
    assert (await http.get(f"{base_url}/session/status")).json() == {}
    assert await session_cost(http, base_url, session_id) == pytest.approx(cost_of(A))


LONE_SURROGATE = '"\\ud800"'  # valid JSON text; half a UTF-16 pair, which UTF-8 cannot encode


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/session", '{"title": %s}'),
        ("POST", "/session", '{"metadata": {"note": [%s]}}'),
        ("PATCH", "/session/{id}", '{"title": %s}'),
        ("POST", "/session/{id}/prompt_async",
         '{"parts": [{"type": "text", "text": %s}],'
         ' "model": {"providerID": "scripted", "modelID": "%s"}}'),
    ],
    ids=["create-title", "create-metadata", "rename", "prompt"],
)
async def test_a_lone_surrogate_is_a_400_and_the_session_stays_usable(
    model: ScriptedModel, start_agent: Callable[..., str], http: httpx.AsyncClient,
    *, method: str, path: str, body: str,
) -> None:
    base_url = start_agent(server_fix=True)
    session_id = await new_session(http, base_url)
    values = (LONE_SURROGATE, MODEL_ID) if "prompt" in path else (LONE_SURROGATE,)

    response = await http.request(
        method, base_url + path.format(id=session_id), content=body % values,
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 400, response.text
    assert response.json()["name"] == "BadRequest"
    message = response.json()["data"]["message"]
    assert message.startswith(("title:", "metadata", "parts.0.text:")), message
    # Nothing was stored: the session still reads and still runs a turn.
    assert (await http.get(f"{base_url}/session/{session_id}/message")).status_code == 200
    model.load([ModelStep(text="fine", usage=A)])
    await prompt(http, base_url, session_id)
    model.release_all()
    for _ in range(100):
        if await session_cost(http, base_url, session_id) == pytest.approx(cost_of(A)):
            break
        await asyncio.sleep(0.05)
    assert await session_cost(http, base_url, session_id) == pytest.approx(cost_of(A))


async def _raw_post(base_url: str, head: bytes, body: bytes) -> tuple[int, dict[str, Any]]:
    """POST over a bare socket: the test controls what is declared and what is sent."""
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"POST /session HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                 + head + b"\r\n" + body)
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    status_line, _, rest = raw.partition(b"\r\n")
    payload = rest.partition(b"\r\n\r\n")[2]
    return int(status_line.split()[1]), json.loads(payload)


async def test_a_body_over_the_limit_is_a_413_before_it_is_stored(
    start_agent: Callable[..., str], http: httpx.AsyncClient,
) -> None:
    base_url = start_agent(max_body_bytes=64 * 1024)

    # Declared too large: refused with none of the body sent.
    declared = await _raw_post(base_url, b"content-length: 10000000\r\n", b"")
    # Chunked: refused once what arrived passes the cap.
    piece = b'{"title": "' + b"x" * 70_000 + b'"}'
    chunk = b"%x\r\n%s\r\n0\r\n\r\n" % (len(piece), piece)
    chunked = await _raw_post(base_url, b"transfer-encoding: chunked\r\n", chunk)

    for status, body in (declared, chunked):
        assert status == 413, body
        assert "limit of 65,536 bytes" in body["data"]["message"]
    assert (await http.get(f"{base_url}/session")).json() == []
    small = await http.post(f"{base_url}/session", json={"title": "x" * 1000})
    assert small.status_code == 200
    assert small.json()["title"] == "x" * 1000
