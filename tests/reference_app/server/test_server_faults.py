"""The test-only event fault injector: duplicates and late events, off unless switched on."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from reference_app.server.faults import EventFaults
from reference_app.server.types import JSON


def event(kind: str, n: int, session: str = "ses_1") -> JSON:
    return {"id": f"evt_{n}", "type": kind, "properties": {"sessionID": session, "n": n}}


def test_a_duplicate_is_the_same_event_delivered_twice_once() -> None:
    faults = EventFaults()
    faults.duplicate("message.updated")

    first = faults.rewrite(event("message.updated", 1))
    second = faults.rewrite(event("message.updated", 2))

    assert first == [event("message.updated", 1)] * 2
    assert second == [event("message.updated", 2)]


def test_a_delayed_event_arrives_after_the_next_of_its_type_for_that_session() -> None:
    faults = EventFaults()
    faults.delay("session.updated")

    held = faults.rewrite(event("session.updated", 1))
    other_session = faults.rewrite(event("session.updated", 2, session="ses_2"))
    other_type = faults.rewrite(event("message.updated", 3))
    newer = faults.rewrite(event("session.updated", 4))

    assert held == []
    assert other_session == [event("session.updated", 2, session="ses_2")]
    assert other_type == [event("message.updated", 3)]
    assert newer == [event("session.updated", 4), event("session.updated", 1)]


def test_an_idle_session_releases_what_is_held_for_it() -> None:
    faults = EventFaults()
    faults.delay("session.updated")
    faults.rewrite(event("session.updated", 1))

    assert faults.rewrite(event("session.idle", 2)) == [
        event("session.idle", 2),
        event("session.updated", 1),
    ]


async def test_the_fault_route_is_a_404_unless_switched_on(
    start_agent: Callable[..., str], http: httpx.AsyncClient
) -> None:
    off = start_agent()
    on = start_agent(event_faults=True)

    refused = await http.post(f"{off}/_test/event_faults", json={"duplicate": "session.updated"})
    armed = await http.post(f"{on}/_test/event_faults", json={"delay": "session.updated"})

    assert refused.status_code == 404
    assert armed.status_code == 200
    assert "/_test/event_faults" not in (await http.get(f"{on}/doc")).text
