"""The HTTP control endpoint, for runners that live outside this process."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from harness.model_server import ModelServer, ModelStep, ScriptedModel


def test_state_reports_the_script_and_progress(model: ScriptedModel, server: ModelServer):
    model.load([ModelStep(text="a"), ModelStep(text="b")])
    state = httpx.get(f"{server.base_url}/_control/state").json()
    assert state == {
        "model_id": "scripted-1",
        "gated": False,
        "steps_total": 2,
        "arrived": 0,
        "released": 0,
        "served": 0,
        "sent": [],
        "abandoned": [],
        "requests": 0,
        "toolless_requests": 0,
        "unscripted_requests": 0,
        "warnings": [],
    }


async def test_release_by_count_lets_a_held_step_stream(
    wire: Any, model: ScriptedModel, server: ModelServer
) -> None:
    model.gated = True
    model.load([ModelStep(text="a")])
    async with httpx.AsyncClient(timeout=10) as client:
        request = asyncio.create_task(
            client.post(f"{server.openai_base_url}/chat/completions", json=wire.chat_body())
        )
        await model.wait_request(0, timeout=5)
        released = await client.post(f"{server.base_url}/_control/release", json={"count": 1})
        assert released.status_code == 200
        assert released.json()["released"] == 1
        await request
        state = (await client.get(f"{server.base_url}/_control/state")).json()
    assert (state["served"], [s["step_index"] for s in state["sent"]]) == (1, [0])
    assert set(state["sent"][0]) == {"step_index", "t", "wall", "in_stream"}


def test_release_all_opens_the_gate(model: ScriptedModel, server: ModelServer) -> None:
    response = httpx.post(f"{server.base_url}/_control/release", json={"all": True})
    assert response.json()["gated"] is False
    assert model.gated is False


@pytest.mark.parametrize(
    ("content", "field", "fragment"),
    [
        (b"{oops", None, "not valid JSON"),
        (b"[1]", None, "JSON object"),
        (b"{}", None, "exactly one of"),
        (b'{"count": 1, "all": true}', None, "exactly one of"),
        (b'{"count": -1}', "count", "non-negative integer"),
        (b'{"count": true}', "count", "non-negative integer"),
        (b'{"count": "2"}', "count", "non-negative integer"),
        (b'{"all": false}', "all", "must be true"),
    ],
)
def test_malformed_control_requests_get_a_json_400(
    model: ScriptedModel, server: ModelServer, content: bytes, field: str | None, fragment: str
) -> None:
    model.gated = True
    response = httpx.post(f"{server.base_url}/_control/release", content=content)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == field
    assert fragment in error["message"]
    assert (model.gated, model.released) == (True, 0)
