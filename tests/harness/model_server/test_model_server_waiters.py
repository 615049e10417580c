from __future__ import annotations

import asyncio
import threading

import pytest

from harness.model_server.waiters import CrossLoopCondition


async def test_a_waiter_on_this_loop_wakes_when_another_thread_changes_the_state() -> None:
    lock = threading.RLock()
    condition = CrossLoopCondition(lock)
    state = {"value": 0}

    def bump_from_another_thread() -> None:
        with lock:
            state["value"] = 3
            condition.notify()

    waiting = asyncio.create_task(condition.wait_for(lambda: state["value"] == 3))
    await asyncio.sleep(0)
    threading.Thread(target=bump_from_another_thread).start()
    await asyncio.wait_for(waiting, timeout=5)


async def test_a_predicate_that_already_holds_returns_at_once() -> None:
    condition = CrossLoopCondition(threading.RLock())
    await asyncio.wait_for(condition.wait_for(lambda: True), timeout=1)


async def test_an_unsatisfied_waiter_stays_and_a_cancelled_one_is_forgotten() -> None:
    lock = threading.RLock()
    condition = CrossLoopCondition(lock)
    waiting = asyncio.create_task(condition.wait_for(lambda: False))
    await asyncio.sleep(0)
    with lock:
        condition.notify()
    assert len(condition._waiters) == 1
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert condition._waiters == []


def test_waiters_on_two_loops_in_two_threads_both_wake() -> None:
    lock = threading.RLock()
    condition = CrossLoopCondition(lock)
    opened = threading.Event()
    woke: list[str] = []

    def waiter(name: str) -> None:
        async def wait() -> None:
            await asyncio.wait_for(condition.wait_for(opened.is_set), timeout=5)
            woke.append(name)

        asyncio.run(wait())

    threads = [threading.Thread(target=waiter, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    while len(condition._waiters) < 2:
        threading.Event().wait(0.001)
    with lock:
        opened.set()
        condition.notify()
    for thread in threads:
        thread.join(5)
    assert sorted(woke) == ["a", "b"]
