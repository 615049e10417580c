"""Follow an opencode-compatible server's ``/event`` stream from the harness's side.

The runner uses it to know when the agent has finished a model step (a step-finish part arrived)
or a turn (the session went idle), without reading any client's state; the protocol surface uses
it to build its own session mirror. Works against any server that speaks the opencode event
protocol, which is what makes those two usable on real agents too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_sse import aconnect_sse

from harness.drivers.tls import shared_ssl_context
from harness.errors import TargetError

__all__ = ["EventStream", "ReceivedEvent"]

Listener = Callable[["ReceivedEvent"], None]


@dataclass(frozen=True)
class ReceivedEvent:
    type: str
    properties: dict[str, Any]
    t: float
    """time.monotonic() when the harness received it."""


class EventStream:
    def __init__(
        self, base_url: str, auth: httpx.Auth | None = None, last_event_id: int | None = None
    ) -> None:
        self.base_url = base_url
        self.last_id = last_event_id
        """The SSE id of the last message received (or the one to resume after)."""
        self._client = httpx.AsyncClient(
            base_url=base_url, auth=auth, timeout=None, verify=shared_ssl_context()
        )
        self.events: list[ReceivedEvent] = []
        self._listeners: list[Listener] = []
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self.failure: BaseException | None = None

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def start(self, timeout: float = 10.0) -> None:
        self._task = asyncio.create_task(self._follow(), name=f"events {self.base_url}")
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
        except TimeoutError:
            raise TargetError(
                f"{self.base_url}/event did not connect within {timeout:g}s"
            ) from None

    async def _follow(self) -> None:
        try:
            # With an id to resume after, the server replays what was missed or says resync.
            headers = {} if self.last_id is None else {"Last-Event-ID": str(self.last_id)}
            async with aconnect_sse(self._client, "GET", "/event", headers=headers) as source:
                source.response.raise_for_status()
                self._connected.set()
                async for message in source.aiter_sse():
                    if message.id and message.id.isdigit():
                        self.last_id = int(message.id)
                    if not message.data:
                        continue
                    try:
                        payload = json.loads(message.data)
                    except json.JSONDecodeError:
                        continue
                    if not isinstance(payload, dict):
                        continue
                    # opencode wraps events as {type, properties}; some builds nest once more.
                    inner = payload.get("payload", payload)
                    event = ReceivedEvent(
                        type=str(inner.get("type", "")),
                        properties=inner.get("properties") or {},
                        t=time.monotonic(),
                    )
                    self.events.append(event)
                    for listener in self._listeners:
                        listener(event)
                    async with self._changed:
                        self._changed.notify_all()
        except (httpx.HTTPError, asyncio.CancelledError) as error:
            if not isinstance(error, asyncio.CancelledError):
                self.failure = error
                async with self._changed:
                    self._changed.notify_all()
            raise

    async def wait_for(
        self, predicate: Callable[[list[ReceivedEvent]], bool], timeout: float, what: str
    ) -> None:
        """Wait until ``predicate(events)`` holds; raise TargetError naming ``what`` otherwise."""

        async def satisfied() -> None:
            async with self._changed:
                await self._changed.wait_for(
                    lambda: predicate(self.events) or self.failure is not None
                )

        try:
            await asyncio.wait_for(satisfied(), timeout)
        except TimeoutError:
            raise TargetError(f"timed out after {timeout:g}s waiting for {what}") from None
        if self.failure is not None and not predicate(self.events):
            raise TargetError(f"event stream failed while waiting for {what}: {self.failure}")

    @property
    def ended(self) -> bool:
        """Whether the stream is over (the server went away or closed it), not merely quiet."""
        return self._task is not None and self._task.done()

    def count(self, predicate: Callable[[ReceivedEvent], bool]) -> int:
        return sum(1 for event in self.events if predicate(event))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await self._task
        await self._client.aclose()


def is_step_finish(session_id: str) -> Callable[[ReceivedEvent], bool]:
    def match(event: ReceivedEvent) -> bool:
        part = event.properties.get("part") or {}
        return (
            event.type == "message.part.updated"
            and part.get("type") == "step-finish"
            and part.get("sessionID") == session_id
        )

    return match


def is_idle(session_id: str) -> Callable[[ReceivedEvent], bool]:
    def match(event: ReceivedEvent) -> bool:
        if event.properties.get("sessionID") != session_id:
            return False
        if event.type == "session.idle":
            return True
        status = event.properties.get("status") or {}
        return event.type == "session.status" and status.get("type") == "idle"

    return match
