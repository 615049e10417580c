"""/event: server.connected first, integer ids, replay by Last-Event-ID, resync."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from reference_app.server.bus import Bus
from reference_app.server.stream import event_stream
from tests.reference_app.server.server_helpers import of_type


async def make_sessions(http: httpx.AsyncClient, base_url: str, count: int) -> list[str]:
    return [(await http.post(f"{base_url}/session", json={"title": f"s{i}"})).json()["id"]
            for i in range(count)]


async def test_connected_comes_first_then_live_events_with_rising_ids(
    start_agent: Callable[..., str], follow: Any, http: httpx.AsyncClient
) -> None:
    base_url = start_agent()
    log = await follow(base_url)
    ids = await make_sessions(http, base_url, 3)
    await log.wait_for(of_type("session.created"), count=3)
    assert log.types() == ["server.connected"] + ["session.created"] * 3
    assert [seq for seq, _ in log.received] == [0, 1, 2, 3]
    assert [e["properties"]["sessionID"] for e in log.payloads[1:]] == ids
    assert all(e["id"].startswith("evt_") for e in log.payloads)


async def test_last_event_id_replays_what_was_missed(
    start_agent: Callable[..., str], follow: Any, http: httpx.AsyncClient
) -> None:
    base_url = start_agent()
    first = await follow(base_url)
    ids = await make_sessions(http, base_url, 5)
    await first.wait_for(of_type("session.created"), count=5)
    seen_until = first.received[2][0]  # as if it disconnected after two events

    resumed = await follow(base_url, last_event_id=seen_until)
    await resumed.wait_for(of_type("session.created"), count=3)
    assert resumed.received[0] == (seen_until, resumed.payloads[0])
    assert resumed.payloads[0]["type"] == "server.connected"
    assert [e["properties"]["sessionID"] for e in resumed.payloads[1:]] == ids[2:]
    assert resumed.payloads[1:] == first.payloads[3:]
    # and then it goes on live
    [late] = await make_sessions(http, base_url, 1)
    event = await resumed.wait_for(of_type("session.created"), count=4)
    assert event["properties"]["sessionID"] == late


async def test_a_lost_position_gets_a_resync_then_live_events(
    start_agent: Callable[..., str], follow: Any, http: httpx.AsyncClient
) -> None:
    base_url = start_agent(replay_buffer=3)
    await make_sessions(http, base_url, 6)
    log = await follow(base_url, last_event_id=1)
    assert log.types()[:1] == ["server.connected"]
    resync = await log.wait_for(of_type("server.resync"))
    assert "reload" in resync["properties"]["reason"]
    assert log.received[1][0] == 6
    await make_sessions(http, base_url, 1)
    await log.wait_for(of_type("session.created"))
    assert log.received[-1][0] == 7


async def test_an_id_from_a_previous_server_life_gets_a_resync(
    start_agent: Callable[..., str], follow: Any
) -> None:
    base_url = start_agent()
    log = await follow(base_url, last_event_id=99)
    await log.wait_for(of_type("server.resync"))


# --- the bus on its own -------------------------------------------------------------------


def payload(n: int) -> dict[str, Any]:
    return {"id": f"evt_{n}", "type": "test", "properties": {"n": n}}


async def test_bus_numbers_events_and_delivers_them_in_order() -> None:
    bus = Bus()
    subscription = bus.subscribe()
    assert subscription is not None
    for n in range(5):
        assert bus.publish(payload(n)).seq == n + 1
    received = [await subscription.next() for _ in range(5)]
    assert [item.seq for item in received] == [1, 2, 3, 4, 5]  # type: ignore[union-attr]


async def test_bus_replay_buffer_is_bounded() -> None:
    bus = Bus(replay_buffer=3)
    for n in range(10):
        bus.publish(payload(n))
    assert bus.subscribe(after=6) is None  # it would need event 7, which is gone
    assert bus.subscribe(after=10) is not None
    replay = bus.subscribe(after=7)
    assert replay is not None
    assert [event.seq for event in replay.backlog] == [8, 9, 10]
    assert bus.subscribe(after=11) is None


async def test_a_subscriber_that_falls_behind_is_dropped_and_told() -> None:
    bus = Bus(subscriber_queue=3)
    slow = bus.subscribe()
    assert slow is not None
    for n in range(5):
        bus.publish(payload(n))
    items = [await slow.next() for _ in range(4)]
    assert items[-1] == "overflow"
    assert slow.dropped
    assert bus.subscriber_count == 0


async def test_closing_the_bus_ends_subscriptions() -> None:
    bus = Bus()
    subscription = bus.subscribe()
    assert subscription is not None
    bus.close()
    assert await subscription.next() == "closed"


async def test_a_stream_that_falls_behind_sends_resync_and_ends() -> None:
    bus = Bus(subscriber_queue=2)
    stream = event_stream(bus, None)
    connected = await anext(stream)
    assert json.loads(str(connected.data))["type"] == "server.connected"
    for n in range(5):  # nobody reads while these pile up
        bus.publish(payload(n))
    rest = [json.loads(str(message.data))["type"] async for message in stream]
    assert rest == ["test", "test", "server.resync"]


async def test_an_event_is_what_the_payload_was_when_published() -> None:
    # The agent grows a text part in place after publishing it; a subscriber must still send
    # the part as it was, or the first delta shows twice ("Let Let me look...").
    bus = Bus(replay_buffer=10, subscriber_queue=10)
    part = {"id": "prt_1", "text": ""}
    bus.publish({"type": "message.part.updated", "properties": {"part": part}})
    part["text"] += "Let "

    stream = event_stream(bus, last_event_id=0)
    await anext(stream)  # server.connected
    replayed = await anext(stream)
    await stream.aclose()

    assert json.loads(replayed.data)["properties"]["part"]["text"] == ""
