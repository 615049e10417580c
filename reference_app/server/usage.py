"""THE write: one model step's usage lands on the message and the session in one
transaction, and the events that announce it.

- the assistant message's tokens become the step's tokens (occupancy: what the context
  holds now), its cost grows by the step's cost;
- the session's cost and every token column grow by the step's, in SQL
  (`cost = cost + ?`), never read-modify-write in Python, so concurrent writers cannot lose
  an increment; the new totals are read back inside the same transaction;
- the step-finish part is stored in that transaction too.

Publishing: the step-finish part (`message.part.updated`) and `message.updated` always. With
the server fix, also `session.updated` with the totals read back. Without it nothing tells
anyone the session total moved — the frozen-cost bug, kept on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Table, bindparam, insert, select, update

from .bus import Bus
from .clock import now_ms
from .db import Database, MessageRow, PartRow, SessionRow
from .events import message_part_updated, message_updated, session_updated
from .ids import new_id
from .shapes import message_info, session_info
from .types import JSON, Usage

__all__ = ["StepRecord", "apply_step_usage", "publish_step_usage", "record_step_usage"]

sessions: Table = SessionRow.__table__  # type: ignore[assignment]
messages: Table = MessageRow.__table__  # type: ignore[assignment]
parts: Table = PartRow.__table__  # type: ignore[assignment]

# Built once: constructing these expressions (and their cache keys) per call cost most of the
# write's time, about a millisecond of Python per step on this machine. Values come in as bind
# parameters, so the statements stay the same SQL with SQLAlchemy's type handling (JSON, floats).
_INSERT_PART = insert(parts)
_UPDATE_MESSAGE = (
    update(messages)
    .where(messages.c.id == bindparam("b_message_id"))
    .values(
        cost=messages.c.cost + bindparam("b_cost"),
        tokens_input=bindparam("b_input"),
        tokens_output=bindparam("b_output"),
        tokens_reasoning=bindparam("b_reasoning"),
        tokens_cache_read=bindparam("b_cache_read"),
        tokens_cache_write=bindparam("b_cache_write"),
    )
)
_UPDATE_SESSION = (
    update(sessions)
    .where(sessions.c.id == bindparam("b_session_id"))
    .values(
        cost=sessions.c.cost + bindparam("b_cost"),
        tokens_input=sessions.c.tokens_input + bindparam("b_input"),
        tokens_output=sessions.c.tokens_output + bindparam("b_output"),
        tokens_reasoning=sessions.c.tokens_reasoning + bindparam("b_reasoning"),
        tokens_cache_read=sessions.c.tokens_cache_read + bindparam("b_cache_read"),
        tokens_cache_write=sessions.c.tokens_cache_write + bindparam("b_cache_write"),
        time_updated=bindparam("b_now"),
    )
)
_SELECT_MESSAGE = select(messages).where(messages.c.id == bindparam("b_message_id"))
_SELECT_SESSION = select(sessions).where(sessions.c.id == bindparam("b_session_id"))


@dataclass(frozen=True, slots=True)
class StepRecord:
    """What the write left behind, all read inside its transaction."""

    part: JSON  # the step-finish part
    message: JSON  # the assistant message info
    session: JSON  # the session info with its new totals


def record_step_usage(
    database: Database,
    *,
    session_id: str,
    message_id: str,
    usage: Usage,
    cost: float | None,
    reason: str,
) -> StepRecord:
    """Writes one step's usage. Safe to call from many threads at once."""
    now = now_ms()
    part = {"reason": reason, "cost": cost, "tokens": usage.to_json()}
    part_id = new_id("prt")
    # Core statements on the session's connection: this runs on every step of every turn,
    # and the ORM unit of work adds milliseconds that buy nothing here.
    values = {
        "b_session_id": session_id, "b_message_id": message_id, "b_cost": cost,
        "b_input": usage.input, "b_output": usage.output, "b_reasoning": usage.reasoning,
        "b_cache_read": usage.cache_read, "b_cache_write": usage.cache_write, "b_now": now,
    }
    with database.write() as db:
        connection = db.connection()
        connection.execute(_INSERT_PART, {
            "id": part_id, "session_id": session_id, "message_id": message_id,
            "type": "step-finish", "data": part,
        })
        connection.execute(_UPDATE_MESSAGE, values)
        connection.execute(_UPDATE_SESSION, values)
        # Read back inside the same transaction: these are the totals this write produced.
        message_row = connection.execute(_SELECT_MESSAGE, values).one_or_none()
        session_row = connection.execute(_SELECT_SESSION, values).one_or_none()
        if message_row is None or session_row is None:
            missing = "message" if message_row is None else "session"
            raise LookupError(f"step usage for a {missing} that no longer exists")
        return StepRecord(
            part={"id": part_id, "sessionID": session_id, "messageID": message_id,
                  "type": "step-finish", **part},
            message=message_info(message_row),
            session=session_info(session_row),
        )


def publish_step_usage(bus: Bus, record: StepRecord, *, server_fix: bool) -> None:
    """Event order at a step finish: the step-finish part, the message, then (fix on) the
    session."""
    bus.publish(message_part_updated(record.part))
    bus.publish(message_updated(record.message))
    if server_fix:
        bus.publish(session_updated(record.session))


def apply_step_usage(
    database: Database,
    bus: Bus,
    *,
    session_id: str,
    message_id: str,
    usage: Usage,
    cost: float | None,
    reason: str,
    server_fix: bool,
) -> StepRecord:
    record = record_step_usage(
        database,
        session_id=session_id,
        message_id=message_id,
        usage=usage,
        cost=cost,
        reason=reason,
    )
    publish_step_usage(bus, record, server_fix=server_fix)
    return record
