"""Queries and plain writes on the three tables, each returning wire JSON.

The one write that is not plain, a step's usage, lives in usage.py.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .clock import now_ms
from .db import Database, MessageRow, PartRow, SessionRow
from .ids import new_id
from .shapes import message_info, part_info, session_info
from .types import JSON

__all__ = ["NotFound", "Repository"]

DEFAULT_TITLE_PREFIX = "New session - "

_part_table: Table = PartRow.__table__  # type: ignore[assignment]
_insert_part = sqlite_insert(_part_table)
# One statement, built once: insert the part, or replace only its data when the id exists, and
# return the row as stored. The agent saves a part six times a step; the ORM's get, add, flush
# and commit cost 2-3 ms of Python each time, on the path of every streamed event.
_UPSERT_PART = _insert_part.on_conflict_do_update(
    index_elements=[_part_table.c.id], set_={"data": _insert_part.excluded.data}
).returning(*_part_table.c)


class NotFound(LookupError):
    """The id names no row. `kind` is "session" or "message"."""

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"{kind} {ident!r} not found")
        self.kind = kind
        self.ident = ident


def _slugify(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug[:48] or "session"


def default_title(created_ms: int) -> str:
    return DEFAULT_TITLE_PREFIX + str(created_ms)


def is_default_title(title: str) -> bool:
    return title.startswith(DEFAULT_TITLE_PREFIX)


class Repository:
    def __init__(self, database: Database, directory: str) -> None:
        self.database = database
        self.directory = directory

    # sessions ---------------------------------------------------------------------------

    def create_session(self, *, title: str | None = None, parent_id: str | None = None) -> JSON:
        now = now_ms()
        with self.database.write() as db:
            if parent_id is not None:
                _session_row(db, parent_id)
            row = SessionRow(
                id=new_id("ses"),
                slug=_slugify(title) if title else f"session-{now}",
                title=title if title else default_title(now),
                parent_id=parent_id,
                directory=self.directory,
                cost=0.0,
                time_created=now,
                time_updated=now,
            )
            db.add(row)
            db.flush()
            return session_info(row)

    def get_session(self, session_id: str) -> JSON:
        with self.database.read() as db:
            return session_info(_session_row(db, session_id))

    def list_sessions(self, *, limit: int | None = None) -> list[JSON]:
        query = select(SessionRow).order_by(SessionRow.time_updated.desc(), SessionRow.id.desc())
        if limit is not None:
            query = query.limit(limit)
        with self.database.read() as db:
            return [session_info(row) for row in db.scalars(query)]

    def rename_session(self, session_id: str, title: str) -> JSON:
        """Sets the title and returns the whole row as it now stands, totals included."""
        with self.database.write() as db:
            row = _session_row(db, session_id)
            row.title = title
            row.time_updated = now_ms()
            db.flush()
            return session_info(row)

    def delete_session(self, session_id: str) -> JSON:
        with self.database.write() as db:
            row = _session_row(db, session_id)
            info = session_info(row)
            db.execute(delete(PartRow).where(PartRow.session_id == session_id))
            db.execute(delete(MessageRow).where(MessageRow.session_id == session_id))
            db.delete(row)
            return info

    # messages ---------------------------------------------------------------------------

    def add_message(
        self, session_id: str, role: str, info: JSON, *, cost: float | None = 0.0
    ) -> JSON:
        with self.database.write() as db:
            _session_row(db, session_id)
            row = MessageRow(
                id=new_id("msg"),
                session_id=session_id,
                role=role,
                time_created=now_ms(),
                cost=cost,
                info=info,
            )
            db.add(row)
            db.flush()
            return message_info(row)

    def finish_message(
        self, message_id: str, *, finish: str | None = None, error: JSON | None = None
    ) -> JSON:
        """Marks the assistant message completed (and errored, with `error`)."""
        values: dict[str, Any] = {"time_completed": now_ms()}
        if finish is not None:
            values["finish"] = finish
        if error is not None:
            values["error"] = error
        with self.database.write() as db:
            db.execute(update(MessageRow).where(MessageRow.id == message_id).values(**values))
            return message_info(_message_row(db, message_id))

    def close_interrupted_turns(self, error: JSON) -> list[str]:
        """At startup: no turn can be running yet, so an assistant message still open is one
        whose server died mid-turn (kill -9, power loss). It is completed with `error`, and
        its unfinished tools marked errored, as an abort would have done; otherwise it would
        look as if still streaming forever. Usage already recorded stays: each step's write
        was one transaction. Returns the ids of the messages closed."""
        now = now_ms()
        with self.database.write() as db:
            open_ids = list(db.scalars(select(MessageRow.id).where(
                MessageRow.role == "assistant", MessageRow.time_completed.is_(None))))
            if not open_ids:
                return []
            db.execute(update(MessageRow).where(MessageRow.id.in_(open_ids))
                       .values(time_completed=now, error=error))
            tools = db.scalars(select(PartRow).where(
                PartRow.message_id.in_(open_ids), PartRow.type == "tool"))
            for part in tools:
                state = part.data.get("state", {})
                if state.get("status") in {"pending", "running"}:
                    start = state.get("time", {}).get("start", now)
                    part.data = {**part.data, "state": {
                        "status": "error", "input": state.get("input", {}),
                        "error": "the server stopped during this tool call",
                        "time": {"start": start, "end": now}}}
            return open_ids

    def get_message(self, session_id: str, message_id: str) -> JSON:
        with self.database.read() as db:
            _session_row(db, session_id)
            row = db.get(MessageRow, message_id)
            if row is None or row.session_id != session_id:
                raise NotFound("message", message_id)
            return {"info": message_info(row), "parts": _parts(db, [message_id])[message_id]}

    def list_messages(self, session_id: str, *, limit: int | None = None) -> list[JSON]:
        """The last `limit` messages (all when None), oldest first, each `{info, parts}`."""
        with self.database.read() as db:
            _session_row(db, session_id)
            query = (
                select(MessageRow)
                .where(MessageRow.session_id == session_id)
                .order_by(MessageRow.id.desc())
            )
            if limit is not None:
                query = query.limit(limit)
            rows = list(reversed(db.scalars(query).all()))
            parts = _parts(db, [row.id for row in rows])
            return [{"info": message_info(row), "parts": parts[row.id]} for row in rows]

    def delete_messages_from(self, session_id: str, message_id: str) -> list[str]:
        """Removes the message and every later one of the session (a revert); returns their
        ids, oldest first. The session row is not touched: spent stays spent."""
        with self.database.write() as db:
            _session_row(db, session_id)
            row = db.get(MessageRow, message_id)
            if row is None or row.session_id != session_id:
                raise NotFound("message", message_id)
            return _delete_messages(db, session_id, MessageRow.id >= message_id)

    def delete_messages_before(self, session_id: str, message_id: str) -> list[str]:
        """Removes every message of the session older than `message_id` (a compaction keeps
        only its summary and what follows); returns their ids, oldest first."""
        with self.database.write() as db:
            _session_row(db, session_id)
            return _delete_messages(db, session_id, MessageRow.id < message_id)

    def list_children(self, session_id: str) -> list[JSON]:
        """The sessions whose parent is `session_id`, oldest first."""
        with self.database.read() as db:
            _session_row(db, session_id)
            query = (
                select(SessionRow)
                .where(SessionRow.parent_id == session_id)
                .order_by(SessionRow.time_created, SessionRow.id)
            )
            return [session_info(row) for row in db.scalars(query)]

    def count_messages(self, session_id: str) -> int:
        with self.database.read() as db:
            query = select(func.count()).where(MessageRow.session_id == session_id)
            return int(db.scalar(query) or 0)

    # parts ------------------------------------------------------------------------------

    def save_part(self, part: JSON) -> JSON:
        """Inserts or replaces a part given in wire shape; returns it as stored."""
        ids = {"id", "sessionID", "messageID", "type"}
        data = {key: value for key, value in part.items() if key not in ids}
        with self.database.write() as db:
            row = db.connection().execute(_UPSERT_PART, {
                "id": part["id"], "session_id": part["sessionID"],
                "message_id": part["messageID"], "type": part["type"], "data": data,
            }).one()
            return part_info(row)


def _session_row(db: Session, session_id: str) -> SessionRow:
    row = db.get(SessionRow, session_id)
    if row is None:
        raise NotFound("session", session_id)
    return row


def _message_row(db: Session, message_id: str) -> MessageRow:
    row = db.get(MessageRow, message_id)
    if row is None:
        raise NotFound("message", message_id)
    return row


def _delete_messages(db: Session, session_id: str, which: Any) -> list[str]:
    query = (
        select(MessageRow.id)
        .where(MessageRow.session_id == session_id, which)
        .order_by(MessageRow.id)
    )
    ids = list(db.scalars(query))
    if ids:
        db.execute(delete(PartRow).where(PartRow.message_id.in_(ids)))
        db.execute(delete(MessageRow).where(MessageRow.id.in_(ids)))
    return ids


def _parts(db: Session, message_ids: list[str]) -> dict[str, list[JSON]]:
    found: dict[str, list[JSON]] = {message_id: [] for message_id in message_ids}
    if not message_ids:
        return found
    query = select(PartRow).where(PartRow.message_id.in_(message_ids)).order_by(PartRow.id)
    for row in db.scalars(query):
        found[row.message_id].append(part_info(row))
    return found
