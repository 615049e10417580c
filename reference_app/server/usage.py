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

from sqlalchemy import update

from .bus import Bus
from .clock import now_ms
from .db import Database, MessageRow, PartRow, SessionRow
from .events import message_part_updated, message_updated, session_updated
from .ids import new_id
from .shapes import message_info, part_info, session_info
from .types import JSON, Usage

__all__ = ["StepRecord", "apply_step_usage", "publish_step_usage", "record_step_usage"]


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
    with database.write() as db:
        part_row = PartRow(
            id=new_id("prt"),
            session_id=session_id,
            message_id=message_id,
            type="step-finish",
            data={"reason": reason, "cost": cost, "tokens": usage.to_json()},
        )
        db.add(part_row)
        db.execute(
            update(MessageRow)
            .where(MessageRow.id == message_id)
            .values(
                cost=MessageRow.cost + cost,
                tokens_input=usage.input,
                tokens_output=usage.output,
                tokens_reasoning=usage.reasoning,
                tokens_cache_read=usage.cache_read,
                tokens_cache_write=usage.cache_write,
            )
        )
        db.execute(
            update(SessionRow)
            .where(SessionRow.id == session_id)
            .values(
                cost=SessionRow.cost + cost,
                tokens_input=SessionRow.tokens_input + usage.input,
                tokens_output=SessionRow.tokens_output + usage.output,
                tokens_reasoning=SessionRow.tokens_reasoning + usage.reasoning,
                tokens_cache_read=SessionRow.tokens_cache_read + usage.cache_read,
                tokens_cache_write=SessionRow.tokens_cache_write + usage.cache_write,
                time_updated=now,
            )
        )
        # The UPDATEs bypassed the identity map; populate_existing makes these reads come
        # from the database, inside this transaction.
        message_row = db.get(MessageRow, message_id, populate_existing=True)
        session_row = db.get(SessionRow, session_id, populate_existing=True)
        if message_row is None or session_row is None:
            missing = "message" if message_row is None else "session"
            raise LookupError(f"step usage for a {missing} that no longer exists")
        db.flush()
        return StepRecord(
            part=part_info(part_row),
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
