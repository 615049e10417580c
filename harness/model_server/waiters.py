"""Waiting for a condition on shared state from any thread's event loop.

The model server runs in its own thread and loop; the harness runner awaits progress from
another. A waiter is a future on the waiting loop plus a predicate; whoever changes the state
calls `notify()` under the same lock, and satisfied futures are resolved through
`call_soon_threadsafe`. Nothing polls, so an idle wait costs nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(eq=False, slots=True)
class _Waiter:
    predicate: Callable[[], bool]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[None]


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class CrossLoopCondition:
    """A condition variable whose waiters are coroutines on any event loop.

    `lock` guards the shared state the predicates read; call `notify()` while holding it after
    every change.
    """

    def __init__(self, lock: threading.RLock) -> None:
        self.lock = lock
        self._waiters: list[_Waiter] = []

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        """Return once `predicate()` holds. Bound it with `asyncio.timeout()` if needed."""
        loop = asyncio.get_running_loop()
        with self.lock:
            if predicate():
                return
            waiter = _Waiter(predicate, loop, loop.create_future())
            self._waiters.append(waiter)
        try:
            await waiter.future
        finally:
            with self.lock:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)

    def notify(self) -> None:
        """Wake every waiter whose predicate now holds. Call with `lock` held."""
        still_waiting: list[_Waiter] = []
        for waiter in self._waiters:
            if waiter.future.done():
                continue
            if not waiter.predicate():
                still_waiting.append(waiter)
                continue
            # RuntimeError: the waiting loop has closed, so nobody is left to wake.
            with contextlib.suppress(RuntimeError):
                waiter.loop.call_soon_threadsafe(_resolve, waiter.future)
        self._waiters = still_waiting
