"""Rows to wire JSON, in the shapes of the opencode API subset (Session, Message, Part).

One place decides how a row looks on the wire, so REST responses and event payloads can
never disagree about a field.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from .db import MessageRow, PartRow, SessionRow
from .types import JSON, Usage

__all__ = ["PROJECT_ID", "SERVER_VERSION", "message_info", "part_info", "session_info"]

PROJECT_ID = "global"
SERVER_VERSION = "freshness-reference-1"


def _usage(row: SessionRow | MessageRow | Row[Any]) -> Usage:
    return Usage(
        input=row.tokens_input,
        output=row.tokens_output,
        reasoning=row.tokens_reasoning,
        cache_read=row.tokens_cache_read,
        cache_write=row.tokens_cache_write,
    )


def session_info(row: SessionRow | Row[Any]) -> JSON:
    """From an ORM row or a Core row of the session table (they share attribute names)."""
    info: JSON = {
        "id": row.id,
        "slug": row.slug,
        "projectID": PROJECT_ID,
        "directory": row.directory,
        "title": row.title,
        "version": SERVER_VERSION,
        "cost": row.cost,
        "tokens": _usage(row).to_json(with_total=False),
        "time": {"created": row.time_created, "updated": row.time_updated},
    }
    if row.parent_id is not None:
        info["parentID"] = row.parent_id
    return info


def message_info(row: MessageRow | Row[Any]) -> JSON:
    time: JSON = {"created": row.time_created}
    if row.role == "user":
        return {"id": row.id, "sessionID": row.session_id, "role": "user", "time": time, **row.info}
    if row.time_completed is not None:
        time["completed"] = row.time_completed
    info: JSON = {
        "id": row.id,
        "sessionID": row.session_id,
        "role": "assistant",
        "time": time,
        **row.info,
        "cost": row.cost,
        "tokens": _usage(row).to_json(),
    }
    if row.finish is not None:
        info["finish"] = row.finish
    if row.error is not None:
        info["error"] = row.error
    return info


def part_info(row: PartRow | Row[Any]) -> JSON:
    """From an ORM row or a Core row of the part table (they share attribute names)."""
    return {
        "id": row.id,
        "sessionID": row.session_id,
        "messageID": row.message_id,
        "type": row.type,
        **row.data,
    }
