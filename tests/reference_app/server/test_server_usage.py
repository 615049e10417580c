"""The usage write: one transaction, SQL increments, totals read back, events per fix mode."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import time_machine

from reference_app.server.bus import Bus, BusEvent
from reference_app.server.db import Database, MessageRow, SessionRow
from reference_app.server.repo import Repository
from reference_app.server.types import Usage
from reference_app.server.usage import apply_step_usage, record_step_usage

STEP = Usage(input=12_000, output=800, reasoning=200, cache_read=1000, cache_write=50)


def write(database: Database, session_id: str, message_id: str, *, cost: float | None = 0.125,
          usage: Usage = STEP) -> Any:
    return record_step_usage(database, session_id=session_id, message_id=message_id,
                             usage=usage, cost=cost, reason="stop")


def test_session_totals_grow_and_message_tokens_are_the_last_step(
    database: Database, rows: Any
) -> None:
    message = rows.message()
    first = write(database, message.session_id, message.id, usage=STEP)
    second = write(database, message.session_id, message.id, usage=Usage(input=100, output=10))
    assert first.session["cost"] == 0.125
    assert second.session["cost"] == 0.25
    assert second.session["tokens"] == {"input": 12_100, "output": 810, "reasoning": 200,
                                        "cache": {"read": 1000, "write": 50}}
    # occupancy: the message holds the latest step's tokens, its cost accumulates
    assert second.message["tokens"] == {"total": 110, "input": 100, "output": 10,
                                        "reasoning": 0, "cache": {"read": 0, "write": 0}}
    assert second.message["cost"] == 0.25
    assert second.part["type"] == "step-finish"
    assert second.part["cost"] == 0.125
    assert second.part["reason"] == "stop"


def test_what_was_read_back_is_what_storage_holds(database: Database, rows: Any) -> None:
    message = rows.message()
    record = write(database, message.session_id, message.id)
    assert Repository(database, "/w").get_session(message.session_id) == record.session


def test_an_unpriced_step_makes_message_and_session_cost_unknown(
    database: Database, rows: Any
) -> None:
    message = rows.message()
    write(database, message.session_id, message.id, cost=0.5)
    record = write(database, message.session_id, message.id, cost=None)
    assert record.part["cost"] is None
    assert record.message["cost"] is None
    assert record.session["cost"] is None
    # unknown stays unknown: later priced steps do not turn it back into a number
    assert write(database, message.session_id, message.id, cost=1.0).session["cost"] is None


def test_session_update_time_moves(database: Database, rows: Any) -> None:
    message = rows.message()
    with time_machine.travel(1_800_000_000, tick=False):
        record = write(database, message.session_id, message.id)
    assert record.session["time"]["updated"] == 1_800_000_000_000


def test_a_failed_write_leaves_nothing_behind(database: Database, rows: Any) -> None:
    message = rows.message()
    with pytest.raises(LookupError):
        write(database, "ses_missing", message.id)
    with database.read() as db:
        assert db.get(MessageRow, message.id).cost == 0.0  # type: ignore[union-attr]
        assert db.get(SessionRow, message.session_id).cost == 0.0  # type: ignore[union-attr]


def hammer(databases: list[Database], session_id: str, message_ids: list[str],
           events_each: int, step: Usage) -> None:
    """One thread per message id, each writing through databases[i % len(databases)]."""
    barrier = threading.Barrier(len(message_ids))
    failures: list[BaseException] = []

    def writer(database: Database, message_id: str) -> None:
        try:
            barrier.wait()
            for _ in range(events_each):
                # 1/8 is exact in binary, so the expected total is exact too
                write(database, session_id, message_id, cost=0.125, usage=step)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(databases[i % len(databases)], m))
               for i, m in enumerate(message_ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def assert_totals(database: Database, session_id: str, total: int, step: Usage) -> None:
    info = Repository(database, "/w").get_session(session_id)
    assert info["cost"] == 0.125 * total
    assert info["tokens"] == {
        "input": step.input * total, "output": step.output * total,
        "reasoning": step.reasoning * total,
        "cache": {"read": step.cache_read * total, "write": step.cache_write * total}}


CONCURRENT_STEP = Usage(input=3, output=2, reasoning=1, cache_read=5, cache_write=7)


def test_concurrent_writers_lose_no_increment(database: Database, rows: Any) -> None:
    """8 threads x 500 usage events on one session, each thread on its own connection."""
    session = rows.session()
    messages = [rows.message(session_id=session.id).id for _ in range(8)]
    hammer([database], session.id, messages, 500, CONCURRENT_STEP)
    assert_totals(database, session.id, 8 * 500, CONCURRENT_STEP)
    assert database.journal_mode() == "wal"


def test_writers_on_separate_engines_lose_no_increment(database: Database, rows: Any) -> None:
    """As separate processes would: no shared in-process lock, only SQLite's own locking
    and busy timeout between them."""
    session = rows.session()
    messages = [rows.message(session_id=session.id).id for _ in range(4)]
    engines = [Database(database.path) for _ in range(4)]
    try:
        hammer(engines, session.id, messages, 60, CONCURRENT_STEP)
    finally:
        for engine in engines:
            engine.close()
    assert_totals(database, session.id, 4 * 60, CONCURRENT_STEP)


@pytest.mark.parametrize("server_fix", [False, True])
async def test_events_published_at_a_step_finish(
    database: Database, rows: Any, server_fix: bool
) -> None:
    bus = Bus()
    subscription = bus.subscribe()
    assert subscription is not None
    message = rows.message()
    record = apply_step_usage(database, bus, session_id=message.session_id,
                              message_id=message.id, usage=STEP, cost=0.125, reason="stop",
                              server_fix=server_fix)
    published = []
    for _ in range(bus.last_seq):
        item = await subscription.next()
        assert isinstance(item, BusEvent)
        published.append(item.payload)
    expected = ["message.part.updated", "message.updated"]
    if server_fix:
        expected.append("session.updated")
    assert [event["type"] for event in published] == expected
    assert published[0]["properties"]["part"] == record.part
    assert published[1]["properties"]["info"] == record.message
    if server_fix:
        assert published[2]["properties"]["info"] == record.session
        assert published[2]["properties"]["info"]["cost"] == 0.125
