"""In-process event bus with integer sequence ids, a bounded replay buffer and bounded
per-subscriber queues.

A publish never waits for a subscriber. A subscriber whose queue is full has fallen too far
behind: it is dropped and told to resync, because silently skipping events would leave its
copy wrong without anyone knowing — the very bug this project is about.

`publish` may be called from any thread; each subscriber's queue is fed on the event loop
that subscribed.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from dataclasses import dataclass
from typing import Literal

from .faults import EventFaults
from .types import JSON

__all__ = ["Bus", "BusEvent", "Subscription"]


@dataclass(frozen=True, slots=True)
class BusEvent:
    seq: int
    payload: JSON
    data: str
    """The payload as JSON, written at publish time. The agent keeps mutating the dicts it
    publishes (a text part grows with every delta); a subscriber that serialized later would
    send the grown text and then the delta again."""


# What a subscription's queue carries besides events: "closed" when the bus shuts down,
# "overflow" when this subscriber was dropped for falling behind.
_Signal = Literal["closed", "overflow"]


class Subscription:
    """One subscriber's view: `backlog` (replayed events), then `next()` for live ones."""

    def __init__(self, bus: Bus, loop: asyncio.AbstractEventLoop, capacity: int) -> None:
        self._bus = bus
        self._loop = loop
        self._capacity = capacity
        self._queue: asyncio.Queue[BusEvent | _Signal] = asyncio.Queue()
        self._pending = 0  # events handed to the loop but not yet taken; guarded by bus lock
        self.dropped = False
        self.backlog: list[BusEvent] = []
        self.position = 0  # the sequence this subscription is caught up to

    async def next(self) -> BusEvent | _Signal:
        item = await self._queue.get()
        if isinstance(item, BusEvent):
            with self._bus._lock:
                self._pending -= 1
        return item

    def close(self) -> None:
        self._bus.unsubscribe(self)

    def _offer(self, item: BusEvent | _Signal) -> None:
        """Called with the bus lock held."""
        if isinstance(item, BusEvent):
            self._pending += 1
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._queue.put_nowait(item)
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)


class Bus:
    def __init__(self, *, replay_buffer: int = 1000, subscriber_queue: int = 10_000,
                 first_seq: int = 0) -> None:
        """`first_seq` is where this bus's numbering starts (the server passes one per life,
        so that an id from a previous life is never mistaken for a position in this one)."""
        self._lock = threading.Lock()
        self._seq = first_seq
        self._buffer: deque[BusEvent] = deque(maxlen=replay_buffer)
        self._subscribers: set[Subscription] = set()
        self._subscriber_queue = subscriber_queue
        self._closed = False
        self.faults: EventFaults | None = None
        """Set only when the config's `event_faults` test switch is on."""

    @property
    def last_seq(self) -> int:
        with self._lock:
            return self._seq

    def publish(self, payload: JSON) -> BusEvent | None:
        """Publish one event; None when a test fault holds it back for later."""
        with self._lock:
            delivered = self.faults.rewrite(payload) if self.faults is not None else [payload]
            event = None
            for item in delivered:
                self._seq += 1
                event = BusEvent(self._seq, item, json.dumps(item, separators=(",", ":")))
                self._buffer.append(event)
                for subscriber in list(self._subscribers):
                    if subscriber._pending >= subscriber._capacity:
                        self._drop(subscriber, "overflow")
                    else:
                        subscriber._offer(event)
            return event

    def subscribe(self, *, after: int | None = None) -> Subscription | None:
        """A live subscription. With `after`, its backlog holds every buffered event after
        that sequence; None comes back when the buffer no longer holds them all (or `after`
        is from another server life), so the caller must resync. Must be called on the
        event loop that will read the subscription."""
        loop = asyncio.get_running_loop()
        subscription = Subscription(self, loop, self._subscriber_queue)
        with self._lock:
            if after is not None:
                if after > self._seq:
                    return None
                oldest = self._buffer[0].seq if self._buffer else self._seq + 1
                if after + 1 < oldest:
                    return None
                subscription.backlog = [event for event in self._buffer if event.seq > after]
            subscription.position = self._seq
            if self._closed:
                subscription._offer("closed")
            else:
                self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscribers.discard(subscription)

    def close(self) -> None:
        """Ends every subscription (server shutdown): each reader gets "closed"."""
        with self._lock:
            self._closed = True
            for subscriber in list(self._subscribers):
                self._drop(subscriber, "closed")

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def _drop(self, subscriber: Subscription, signal: _Signal) -> None:
        self._subscribers.discard(subscriber)
        subscriber.dropped = signal == "overflow"
        subscriber._offer(signal)
