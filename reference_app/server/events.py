"""Builders for event payloads in opencode's shape: `{"id": "evt_…", "type", "properties"}`.

Only these functions decide what an event carries; the bus adds the integer sequence.
"""

from __future__ import annotations

from .clock import now_ms
from .ids import new_id
from .types import JSON

__all__ = [
    "message_part_delta",
    "message_part_removed",
    "message_part_updated",
    "message_removed",
    "message_updated",
    "server_connected",
    "server_resync",
    "session_compacted",
    "session_created",
    "session_deleted",
    "session_error",
    "session_idle",
    "session_status",
    "session_updated",
]


def _event(kind: str, properties: JSON) -> JSON:
    return {"id": new_id("evt"), "type": kind, "properties": properties}


def session_created(info: JSON) -> JSON:
    return _event("session.created", {"sessionID": info["id"], "info": info})


def session_updated(info: JSON) -> JSON:
    """Carries the whole session row, totals included: the only event that moves them."""
    return _event("session.updated", {"sessionID": info["id"], "info": info})


def session_deleted(info: JSON) -> JSON:
    return _event("session.deleted", {"sessionID": info["id"], "info": info})


def session_compacted(session_id: str) -> JSON:
    """opencode's event after a compaction: the session's early history is now a summary."""
    return _event("session.compacted", {"sessionID": session_id})


def session_status(session_id: str, status: str) -> JSON:
    return _event("session.status", {"sessionID": session_id, "status": {"type": status}})


def session_idle(session_id: str) -> JSON:
    return _event("session.idle", {"sessionID": session_id})


def session_error(session_id: str, error: JSON) -> JSON:
    return _event("session.error", {"sessionID": session_id, "error": error})


def message_updated(info: JSON) -> JSON:
    return _event("message.updated", {"sessionID": info["sessionID"], "info": info})


def message_removed(session_id: str, message_id: str) -> JSON:
    return _event("message.removed", {"sessionID": session_id, "messageID": message_id})


def message_part_updated(part: JSON) -> JSON:
    return _event(
        "message.part.updated", {"sessionID": part["sessionID"], "part": part, "time": now_ms()}
    )


def message_part_removed(session_id: str, message_id: str, part_id: str) -> JSON:
    return _event(
        "message.part.removed",
        {"sessionID": session_id, "messageID": message_id, "partID": part_id},
    )


def message_part_delta(part: JSON, field: str, delta: str) -> JSON:
    return _event(
        "message.part.delta",
        {
            "sessionID": part["sessionID"],
            "messageID": part["messageID"],
            "partID": part["id"],
            "field": field,
            "delta": delta,
        },
    )


def server_connected() -> JSON:
    return _event("server.connected", {})


def server_resync(reason: str) -> JSON:
    """Not in opencode: tells a client its event history has a gap it must refill by
    reloading over REST."""
    return _event("server.resync", {"reason": reason})
