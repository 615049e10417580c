"""Pacing over real HTTP: the runner's loop (the test) awaits the server's thread."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from harness.model_server import ModelServer, ModelStep, ScriptedModel, Usage


def steps(count: int) -> list[ModelStep]:
    return [ModelStep(text=f"step {n}", usage=Usage(input=100 * (n + 1))) for n in range(count)]


async def test_a_gated_step_sends_nothing_until_released(
    wire: Any, model: ScriptedModel, server: ModelServer
) -> None:
    model.gated = True
    model.load(steps(1))
    async with httpx.AsyncClient(timeout=10) as client:
        request = asyncio.create_task(
            client.post(f"{server.openai_base_url}/chat/completions", json=wire.chat_body())
        )
        arrived = await model.wait_request(0, timeout=5)
        # Held means not even the status line: the request task cannot have completed.
        await asyncio.sleep(0.05)
        assert not request.done()
        assert (model.served, model.sent) == (0, [])

        model.release(1)
        sent = await model.wait_usage_sent(0, timeout=5)
        response = await request
    assert response.status_code == 200
    assert wire.openai_chunks(response.text)[-1]["usage"]["prompt_tokens"] == 100
    assert arrived.t < sent.t
    assert sent.wall > 0
    assert model.sent == [sent]


async def test_steps_are_released_one_at_a_time_across_a_turn(
    wire: Any, model: ScriptedModel, server: ModelServer
) -> None:
    model.gated = True
    model.load(steps(3))
    url = f"{server.anthropic_base_url}/messages"
    async with httpx.AsyncClient(timeout=10) as client:
        for index in range(3):
            request = asyncio.create_task(client.post(url, json=wire.messages_body()))
            await model.wait_request(index, timeout=5)
            assert model.served == index
            model.release()
            await model.wait_usage_sent(index, timeout=5)
            events = wire.anthropic_events((await request).text)
            text = "".join(d["delta"]["text"] for n, d in events if n == "content_block_delta")
            assert text == f"step {index}"
    times = [s.t for s in model.sent]
    assert times == sorted(times)
    assert model.state()["released"] == 3


async def test_release_all_lets_everything_through_from_then_on(
    wire: Any, model: ScriptedModel, server: ModelServer
) -> None:
    model.gated = True
    model.load(steps(3))
    model.release_all()
    async with httpx.AsyncClient(timeout=10) as client:
        for _ in range(3):
            await client.post(f"{server.openai_base_url}/chat/completions", json=wire.chat_body())
    assert [s.step_index for s in model.sent] == [0, 1, 2]


async def test_a_client_that_gives_up_at_the_gate_consumes_its_step(
    wire: Any, model: ScriptedModel, server: ModelServer
) -> None:
    model.gated = True
    model.load(steps(2))
    async with httpx.AsyncClient(timeout=10) as client:
        abandoned = asyncio.create_task(
            client.post(f"{server.openai_base_url}/chat/completions", json=wire.chat_body())
        )
        await model.wait_request(0, timeout=5)
        abandoned.cancel()
    # Release only once the server has seen the client go, or step 0 would still stream.
    await model.wait_abandoned(0, timeout=5)
    model.release_all()
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(
            f"{server.openai_base_url}/chat/completions", json=wire.chat_body()
        )
    assert wire.openai_chunks(response.text)[-1]["usage"]["prompt_tokens"] == 200
    assert [s.step_index for s in model.sent] == [1]


def test_wait_usage_sent_works_from_a_loop_of_its_own(
    wire: Any, model: ScriptedModel, server: ModelServer
) -> None:
    model.load(steps(1))
    httpx.post(f"{server.openai_base_url}/chat/completions", json=wire.chat_body())
    sent = asyncio.run(model.wait_usage_sent(0, timeout=5))
    assert sent.step_index == 0


def test_a_request_held_at_the_gate_is_answered_503_when_the_server_stops(
    wire: Any, model: ScriptedModel
) -> None:
    model.gated = True
    model.load(steps(1))
    server = ModelServer(model)
    server.start()
    result: dict[str, httpx.Response] = {}

    async def post_and_stop() -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            request = asyncio.create_task(
                client.post(f"{server.openai_base_url}/chat/completions", json=wire.chat_body())
            )
            await model.wait_request(0, timeout=5)
            await asyncio.to_thread(server.stop)
            result["response"] = await request

    asyncio.run(post_and_stop())
    response = result["response"]
    assert response.status_code == 503
    assert "shutting down" in response.json()["error"]["message"]
    assert (model.sent, model.abandoned) == ([], [0])
