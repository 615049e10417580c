"""The ASGI response that plays one model step onto the wire.

Written against raw ASGI rather than Starlette's StreamingResponse for three reasons: nothing,
not even the status line, may leave before the gate opens; the usage moment must be taken right
after that frame's `send` returns; and the faults need to end a response half-way on purpose.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from harness.model_server.script import Fault

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

UsageMark = Literal["usage", "finish_without_usage"]

SSE_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    # Keeps buffering proxies (if a user puts one in between) from batching the chunks.
    (b"x-accel-buffering", b"no"),
)
JSON_HEADERS: tuple[tuple[bytes, bytes], ...] = ((b"content-type", b"application/json"),)
GARBAGE_LINE = b"data: {this is not json\n\n"


@dataclass(frozen=True, slots=True)
class Frame:
    """One write to the wire. `usage_mark` says this write delivers (or ends) the step's usage."""

    data: bytes
    usage_mark: UsageMark | None = None


GateWait = Callable[[], Awaitable[None]]
UsageHook = Callable[[bool], object]
AbandonHook = Callable[[], object]


async def _until_disconnect(receive: Receive) -> None:
    # The request body has been read already, so the next message can only be a disconnect.
    while (await receive())["type"] != "http.disconnect":
        pass


class PlayedStep:
    """Plays `frames` after `gate` opens, spaced by `chunk_delay`, breaking as `fault` says.

    `on_usage(in_stream)` runs right after a frame with a usage mark has been handed to the
    server. A client disconnect or the server's `closing` event abandons the step wherever it is,
    and `on_abandon()` says so.
    """

    def __init__(
        self,
        frames: Sequence[Frame],
        *,
        headers: Sequence[tuple[bytes, bytes]],
        gate: GateWait | None = None,
        on_usage: UsageHook | None = None,
        on_abandon: AbandonHook | None = None,
        chunk_delay: float = 0.0,
        fault: Fault | None = None,
        closing: asyncio.Event | None = None,
        shutdown_body: bytes = b'{"error": {"message": "the model server is shutting down"}}',
    ) -> None:
        self._frames = tuple(frames)
        self._headers = list(headers)
        self._gate = gate
        self._on_usage = on_usage
        self._on_abandon = on_abandon
        self._chunk_delay = chunk_delay
        self._fault = fault
        self._closing = closing
        self._shutdown_body = shutdown_body
        self._started = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        producer = asyncio.create_task(self._produce(send))
        stoppers: list[asyncio.Task[Any]] = [asyncio.create_task(_until_disconnect(receive))]
        if self._closing is not None:
            stoppers.append(asyncio.create_task(self._closing.wait()))
        tasks = [producer, *stoppers]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            # Collects the children's cancellations without swallowing our own.
            await asyncio.gather(*tasks, return_exceptions=True)
        if producer.done() and not producer.cancelled():
            producer.result()
            return
        if self._on_abandon is not None:
            self._on_abandon()
        if not self._started:
            # Closing while held at the gate: answer rather than leave the client hanging.
            await self._send_shutdown(send)

    async def _send_shutdown(self, send: Send) -> None:
        with contextlib.suppress(OSError):
            await send({"type": "http.response.start", "status": 503, "headers": JSON_HEADERS})
            await send({"type": "http.response.body", "body": self._shutdown_body})

    async def _produce(self, send: Send) -> None:
        if self._gate is not None:
            await self._gate()
        await send({"type": "http.response.start", "status": 200, "headers": self._headers})
        self._started = True
        await self._play(send)

    async def _play(self, send: Send) -> None:
        fault_at = len(self._frames) // 2 if self._fault else None
        for position, frame in enumerate(self._frames):
            if position == fault_at and await self._break(send):
                return
            if position and self._chunk_delay:
                await asyncio.sleep(self._chunk_delay)
            await send({"type": "http.response.body", "body": frame.data, "more_body": True})
            if frame.usage_mark is not None and self._on_usage is not None:
                self._on_usage(frame.usage_mark == "usage")
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _break(self, send: Send) -> bool:
        """Apply the fault; True when the response must end here, incomplete."""
        if self._fault == "garbage":
            await send({"type": "http.response.body", "body": GARBAGE_LINE, "more_body": True})
            return False
        if self._fault == "stall":
            # Silent until the client disconnects or the server closes; either cancels us.
            await asyncio.Event().wait()
        # "disconnect": returning without finishing the body makes the server drop the
        # connection, which the client sees as a truncated chunked response.
        return True
