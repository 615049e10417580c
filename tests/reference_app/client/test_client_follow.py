"""The client following a real agent server: the frozen cost, both fixes, the window, and
reconnecting with Last-Event-ID or a resync.

The model is gated, so every step is released by the test and each check happens after that
step's usage has reached the agent and its events have reached the client.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from httpx_sse import aconnect_sse

from harness.model_server import ModelStep, ScriptedModel, ToolCall, Usage
from reference_app.client.api import AgentApi, ApiError
from reference_app.client.follow import Client, StreamFailed
from reference_app.client.readouts import (
    FOOTER_COST,
    FOOTER_TOKENS,
    SESSIONS_COST,
    SIDEBAR_COST,
    SIDEBAR_PERCENT,
    SIDEBAR_TOKENS,
    format_cost,
    format_percent,
    format_tokens,
)
from reference_app.client.store import ClientStore
from tests.reference_app.client.conftest import (
    CONTEXT_LIMIT,
    PRICE,
    AgentFactory,
    ClientFactory,
)

# Generous: these only bound a hang; a loaded CI machine must not turn into a failure.
WAIT = 30.0

USAGES = (
    Usage(input=12_000, output=800, reasoning=200),
    Usage(input=14_000, output=500, cache_read=500),
    Usage(input=17_000, output=900, reasoning=100),
)


def step_cost(usage: Usage) -> float:
    # Reasoning is billed at the output price (reference_app/server/config.py).
    return (
        usage.input * PRICE.input
        + (usage.output + usage.reasoning) * PRICE.output
        + usage.cache_read * PRICE.cache_read
        + usage.cache_write * PRICE.cache_write
    ) / 1_000_000


def step_tokens(usage: Usage) -> int:
    return usage.input + usage.output + usage.reasoning + usage.cache_read + usage.cache_write


def three_step_turn() -> list[ModelStep]:
    echo = ToolCall(name="echo", arguments={"text": "ok"})
    return [
        ModelStep(text="Reading", tool_calls=(echo,), usage=USAGES[0]),
        ModelStep(text="Checking", tool_calls=(echo,), usage=USAGES[1]),
        ModelStep(text="Done", usage=USAGES[2]),
    ]


def tokens_shown(session_id: str, tokens: int) -> Any:
    return lambda store: store.readouts(session_id)[SIDEBAR_TOKENS] == format_tokens(tokens)


async def open_session(base_url: str, client: Client) -> str:
    async with AgentApi(base_url) as api:
        session = await api.create_session("client follow test")
    await client.bootstrap(session["id"])
    await client.start(timeout=WAIT)
    return str(session["id"])


async def run_steps(
    model: ScriptedModel, client: Client, session_id: str, steps: list[ModelStep], base_url: str
) -> list[dict[str, str]]:
    """Release the steps one at a time; the live readouts once each step's tokens show."""
    model.load(steps)
    async with AgentApi(base_url) as api:
        await api.prompt_async(session_id, "go")
    shown = []
    for index, step in enumerate(steps):
        model.release(1)
        await model.wait_usage_sent(index, timeout=WAIT)
        await client.wait_until(tokens_shown(session_id, step_tokens(step.usage)), timeout=WAIT)
        await catch_up(client, base_url)
        shown.append(client.store.readouts(session_id))
    return shown


async def catch_up(client: Client, base_url: str) -> None:
    """Wait until the client has applied every event the server has published so far.

    A fresh `/event` connection opens with `server.connected` whose id is the newest sequence;
    once the client's Last-Event-ID reaches it, a readout that has not moved is frozen, not slow.
    """
    newest = 0
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=WAIT) as http,
        aconnect_sse(http, "GET", "/event") as source,
    ):
        async for message in source.aiter_sse():
            newest = int(message.id)
            break
    await client.wait_until(lambda _store: (client.last_event_id or 0) >= newest, timeout=WAIT)


async def reload_readouts(base_url: str, session_id: str, **options: Any) -> dict[str, str]:
    fresh = Client(base_url, context_limits={"scripted-1": CONTEXT_LIMIT}, **options)
    try:
        await fresh.bootstrap(session_id)
        return fresh.store.readouts(session_id)
    finally:
        await fresh.close()


def running_costs() -> list[str]:
    total, shown = 0.0, []
    for usage in USAGES:
        total += step_cost(usage)
        shown.append(format_cost(total))
    return shown


async def test_bug_tokens_advance_and_cost_stays_frozen_until_a_reload(
    start_agent: AgentFactory, make_client: ClientFactory, model: ScriptedModel
) -> None:
    base_url = await start_agent(server_fix=False)
    client = make_client(base_url)
    session_id = await open_session(base_url, client)
    changes: list[tuple[str, tuple[str, ...], float]] = []
    client.store.on_change(lambda *change: changes.append(change))

    shown = await run_steps(model, client, session_id, three_step_turn(), base_url)

    tokens = [format_tokens(step_tokens(usage)) for usage in USAGES]
    assert [readouts[SIDEBAR_TOKENS] for readouts in shown] == tokens
    assert [readouts[FOOTER_TOKENS] for readouts in shown] == tokens
    assert [readouts[SIDEBAR_PERCENT] for readouts in shown] == [
        format_percent(step_tokens(usage), CONTEXT_LIMIT) for usage in USAGES
    ]
    for name in (SIDEBAR_COST, SESSIONS_COST, FOOTER_COST):
        assert {readouts[name] for readouts in shown} == {"$0.00"}
    changed_names = {name for _, names, _ in changes for name in names}
    assert SIDEBAR_TOKENS in changed_names
    assert SIDEBAR_COST not in changed_names
    # The hook's clock is the model server's: a readout changes after the usage that moved it.
    assert client.store.last_changed_at(session_id)[SIDEBAR_TOKENS] >= model.sent[-1].t

    reloaded = await reload_readouts(base_url, session_id)
    assert reloaded[SIDEBAR_COST] == reloaded[SESSIONS_COST] == running_costs()[-1]
    assert reloaded[SIDEBAR_TOKENS] == tokens[-1]


async def test_client_fix_moves_the_sidebar_but_not_the_session_list(
    start_agent: AgentFactory, make_client: ClientFactory, model: ScriptedModel
) -> None:
    base_url = await start_agent(server_fix=False)
    client = make_client(base_url, client_fix=True)
    session_id = await open_session(base_url, client)

    shown = await run_steps(model, client, session_id, three_step_turn(), base_url)

    assert [readouts[SIDEBAR_COST] for readouts in shown] == running_costs()
    assert {readouts[SESSIONS_COST] for readouts in shown} == {"$0.00"}
    assert {readouts[FOOTER_COST] for readouts in shown} == {"$0.00"}


async def test_server_fix_moves_every_cost(
    start_agent: AgentFactory, make_client: ClientFactory, model: ScriptedModel
) -> None:
    base_url = await start_agent(server_fix=True)
    client = make_client(base_url)
    session_id = await open_session(base_url, client)

    shown = await run_steps(model, client, session_id, three_step_turn(), base_url)

    for name in (SIDEBAR_COST, SESSIONS_COST, FOOTER_COST):
        assert [readouts[name] for readouts in shown] == running_costs()


async def test_client_fix_misses_the_cost_of_messages_outside_the_window(
    start_agent: AgentFactory, make_client: ClientFactory, model: ScriptedModel
) -> None:
    base_url = await start_agent(server_fix=False)
    client = make_client(base_url, client_fix=True, window=2)
    session_id = await open_session(base_url, client)

    for usage in (USAGES[0], USAGES[2]):  # two one-step turns: four messages
        await run_steps(model, client, session_id, [ModelStep(text="ok", usage=usage)], base_url)
        await client.wait_until(
            lambda store: store.status(session_id) == {"type": "idle"}, timeout=WAIT
        )

    live = client.store.readouts(session_id)
    assert live[SIDEBAR_COST] == format_cost(step_cost(USAGES[2]))
    assert client.store.values(session_id).incomplete
    reloaded = await reload_readouts(base_url, session_id, client_fix=True, window=2)
    assert reloaded[SIDEBAR_COST] == format_cost(step_cost(USAGES[0]) + step_cost(USAGES[2]))
    assert live[SIDEBAR_COST] != reloaded[SIDEBAR_COST]


async def test_unpriced_model_cost_is_unknown_with_the_client_fix(
    start_agent: AgentFactory, make_client: ClientFactory, model: ScriptedModel
) -> None:
    base_url = await start_agent(server_fix=False)
    client = make_client(base_url, client_fix=True)
    session_id = await open_session(base_url, client)
    model.load([ModelStep(text="free", usage=USAGES[0])])
    async with AgentApi(base_url) as api:
        await api.prompt_async(session_id, "go", model_id="scripted-free")
    model.release(1)
    await client.wait_until(tokens_shown(session_id, step_tokens(USAGES[0])), timeout=WAIT)
    assert client.store.readouts(session_id)[SIDEBAR_COST] == "unknown"
    assert (await reload_readouts(base_url, session_id))[SESSIONS_COST] == "unknown"


async def test_reconnect_resumes_from_last_event_id_without_a_reload(
    start_agent: AgentFactory, make_client: ClientFactory
) -> None:
    base_url = await start_agent()
    client = make_client(base_url)
    session_id = await open_session(base_url, client)
    resyncs = client.resyncs

    await client.pause()
    async with AgentApi(base_url) as api:
        await api.rename(session_id, "renamed while away")  # published into the gap
    assert client.store.session(session_id)["title"] == "client follow test"  # type: ignore[index]
    client.resume()
    await client.wait_until(
        lambda store: (store.session(session_id) or {}).get("title") == "renamed while away",
        timeout=WAIT,
    )
    assert client.connects == 2
    assert client.resyncs == resyncs


async def test_a_gap_the_server_no_longer_holds_makes_the_client_reload(
    start_agent: AgentFactory, make_client: ClientFactory
) -> None:
    base_url = await start_agent(replay_buffer=1)
    client = make_client(base_url)
    session_id = await open_session(base_url, client)
    resyncs = client.resyncs

    async with AgentApi(base_url) as api:
        doomed = await api.create_session("deleted while away")
        await client.wait_until(lambda store: store.has_session(doomed["id"]), timeout=WAIT)
        await client.pause()
        for title in ("one", "two", "three"):
            await api.rename(session_id, title)
        created = await api.create_session("made while away")
        await api.delete_session(doomed["id"])
    client.resume()
    await client.wait_until(lambda store: client.resyncs > resyncs, timeout=WAIT)
    assert client.store.session(session_id)["title"] == "three"  # type: ignore[index]
    assert client.store.has_session(created["id"])
    assert not client.store.has_session(doomed["id"])  # the reload replaced, not merged


async def test_session_events_reach_the_store(
    start_agent: AgentFactory, make_client: ClientFactory
) -> None:
    base_url = await start_agent()
    client = make_client(base_url)
    await client.bootstrap()
    await client.start(timeout=WAIT)
    async with AgentApi(base_url) as api:
        created = await api.create_session("fresh")
        await client.wait_until(lambda store: store.has_session(created["id"]), timeout=WAIT)
        assert client.store.readouts(created["id"])[SESSIONS_COST] == "$0.00"
        await api.delete_session(created["id"])
    await client.wait_until(lambda store: not store.has_session(created["id"]), timeout=WAIT)
    assert client.events_applied >= 2
    assert client.last_event_id is not None
    assert client.last_event_id >= 2


async def test_wait_until_names_what_it_waited_for(
    start_agent: AgentFactory, make_client: ClientFactory
) -> None:
    client = make_client(await start_agent())
    with pytest.raises(TimeoutError, match=r"condition not met within 0\.05s"):
        await client.wait_until(lambda store: False, timeout=0.05)


async def test_a_password_protected_server(
    start_agent: AgentFactory, make_client: ClientFactory
) -> None:
    base_url = await start_agent(password="s3cret")
    with pytest.raises(ApiError) as refused:
        await make_client(base_url).bootstrap()
    assert refused.value.status == 401
    assert "password" in refused.value.message

    client = make_client(base_url, auth=("opencode", "s3cret"))
    await client.bootstrap()
    await client.start(timeout=WAIT)
    assert client.connected

    locked_out = make_client(base_url)
    with pytest.raises(StreamFailed, match="401"):
        await locked_out.start(timeout=5)


async def test_api_errors_carry_the_servers_message(start_agent: AgentFactory) -> None:
    base_url = await start_agent()
    async with AgentApi(base_url) as api:
        with pytest.raises(ApiError) as missing:
            await api.get_session("ses_missing")
        assert missing.value.status == 404
        assert "ses_missing" in str(missing.value)
        session = await api.create_session()
        with pytest.raises(ApiError) as unknown_model:
            await api.prompt_async(session["id"], "hi", model_id="no-such-model")
        assert unknown_model.value.status == 400
        assert "no-such-model" in unknown_model.value.message
        assert await api.abort(session["id"]) is False
        assert (await api.get_messages(session["id"], limit=5)) == []
        assert [s["id"] for s in await api.list_sessions()] == [session["id"]]


def test_store_is_the_documented_type() -> None:
    assert isinstance(Client("http://127.0.0.1:9").store, ClientStore)
