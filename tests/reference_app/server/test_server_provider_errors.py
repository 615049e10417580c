"""A failing provider ends the turn with an errored message and session.error; what was
recorded stays, and the server keeps serving."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from harness.model_server import ModelServer, ModelStep, ScriptedModel, Usage
from tests.reference_app.server.server_helpers import new_session, of_type, prompt

OK_STEP = ModelStep(text="fine", usage=Usage(input=100, output=10))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def run_failing_turn(
    base_url: str, follow: Any, http: httpx.AsyncClient
) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
    log = await follow(base_url)
    session_id = await new_session(http, base_url)
    await prompt(http, base_url, session_id)
    error = await log.wait_for(of_type("session.error"))
    await log.wait_for(of_type("session.idle"))
    messages = (await http.get(f"{base_url}/session/{session_id}/message")).json()
    return session_id, error["properties"]["error"], messages


async def assert_still_serving(base_url: str, http: httpx.AsyncClient) -> None:
    session_id = await new_session(http, base_url)
    assert (await http.get(f"{base_url}/session/{session_id}")).status_code == 200


@pytest.mark.parametrize("fault", ["garbage", "disconnect"])
async def test_a_broken_stream_errors_the_turn_and_keeps_the_text(
    model: ScriptedModel, start_agent: Callable[..., str], follow: Any,
    http: httpx.AsyncClient, fault: str,
) -> None:
    model.load([ModelStep(text="partial answer that breaks half way", fault=fault,  # type: ignore[arg-type]
                          usage=Usage(input=100, output=10))])
    model.release_all()
    base_url = start_agent()
    _session_id, error, messages = await run_failing_turn(base_url, follow, http)
    assert error["name"] == "APIError"
    assistant = messages[-1]
    assert assistant["info"]["error"] == error
    assert "completed" in assistant["info"]["time"]
    # the step never finished, so nothing was billed, but the text that arrived is kept
    assert assistant["info"]["cost"] == 0.0
    assert not [p for p in assistant["parts"] if p["type"] == "step-finish"]
    if fault == "garbage":
        assert "malformed" in error["data"]["message"]
    await assert_still_serving(base_url, http)


async def test_a_provider_that_is_down(
    start_agent: Callable[..., str], follow: Any, http: httpx.AsyncClient
) -> None:
    base_url = start_agent(base_url=f"http://127.0.0.1:{closed_port()}")
    _session_id, error, messages = await run_failing_turn(base_url, follow, http)
    assert error["name"] == "APIError"
    assert "cannot reach provider" in error["data"]["message"]
    assert error["data"]["isRetryable"] is True
    assert messages[-1]["info"]["error"] == error
    await assert_still_serving(base_url, http)


async def test_an_http_error_from_the_provider(
    model_server: ModelServer, start_agent: Callable[..., str], follow: Any,
    http: httpx.AsyncClient,
) -> None:
    base_url = start_agent(base_url=f"{model_server.base_url}/no-such-api")
    _session_id, error, _messages = await run_failing_turn(base_url, follow, http)
    assert error["data"]["statusCode"] == 404
    assert "HTTP 404" in error["data"]["message"]
    await assert_still_serving(base_url, http)


async def test_a_stalled_provider_times_out(
    model: ScriptedModel, start_agent: Callable[..., str], follow: Any,
    http: httpx.AsyncClient,
) -> None:
    model.load([ModelStep(text="and then silence", fault="stall")])
    model.release_all()
    base_url = start_agent(timeout=0.5)
    _session_id, error, _messages = await run_failing_turn(base_url, follow, http)
    assert "timed out" in error["data"]["message"]
    await assert_still_serving(base_url, http)


async def test_a_failure_in_a_later_step_keeps_the_earlier_steps_billed(
    model: ScriptedModel, start_agent: Callable[..., str], follow: Any,
    http: httpx.AsyncClient,
) -> None:
    from harness.model_server import ToolCall

    model.load([
        ModelStep(text="first", tool_calls=(ToolCall("echo", {"text": "x"}),),
                  usage=Usage(input=1_000_000)),
        ModelStep(text="second breaks", fault="garbage"),
    ])
    model.release_all()
    base_url = start_agent()
    session_id, _error, messages = await run_failing_turn(base_url, follow, http)
    stored = (await http.get(f"{base_url}/session/{session_id}")).json()
    assert stored["cost"] == pytest.approx(3.0)
    assert messages[-1]["info"]["cost"] == pytest.approx(3.0)
    assert messages[-1]["info"]["tokens"]["input"] == 1_000_000
