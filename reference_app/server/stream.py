"""The `/event` stream: bus events as Server-Sent Events.

Each message is `id: <sequence>` plus `data: <event JSON>`. The first message is
server.connected, whose id is where the stream starts (the Last-Event-ID it resumes from, or
the newest sequence). With a Last-Event-ID still in the replay buffer, the missed events
follow; when the buffer has lost some, a `server.resync` follows instead and the stream goes
on live from the newest sequence — the client must reload over REST. A subscriber dropped for
falling behind gets `server.resync` and the stream ends; it may reconnect.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from sse_starlette import ServerSentEvent

from . import events
from .bus import Bus, BusEvent
from .types import JSON

__all__ = ["event_stream"]


def _message(seq: int, payload: JSON) -> ServerSentEvent:
    return ServerSentEvent(data=json.dumps(payload, separators=(",", ":")), id=str(seq))


def _sse(event: BusEvent) -> ServerSentEvent:
    return ServerSentEvent(data=event.data, id=str(event.seq))


async def event_stream(bus: Bus, last_event_id: int | None) -> AsyncIterator[ServerSentEvent]:
    subscription = bus.subscribe(after=last_event_id)
    resync = subscription is None
    if subscription is None:
        subscription = bus.subscribe()
        assert subscription is not None
    try:
        start = subscription.position if resync or last_event_id is None else last_event_id
        yield _message(start, events.server_connected())
        if resync:
            yield _message(subscription.position, events.server_resync(
                f"events after {last_event_id} are no longer buffered; reload the sessions"))
        for event in subscription.backlog:
            yield _sse(event)
        while True:
            item = await subscription.next()
            if isinstance(item, BusEvent):
                yield _sse(item)
                continue
            if item == "overflow":
                yield _message(bus.last_seq, events.server_resync(
                    "this client fell too far behind the event stream; reload the sessions"))
            return
    finally:
        subscription.close()
