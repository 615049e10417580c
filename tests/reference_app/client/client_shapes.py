"""Builders for session, message, part and event dicts in the opencode 1.18.33 shapes.

The store's unit tests speak to it only through these dicts, the same ones the server sends, and
`test_client_shapes.py` checks every builder against the documented schema subset so the seam
cannot drift from the contract unnoticed.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

# The opencode server's documented shapes (sessions, messages, parts, events), kept with the
# tests so that the builders are checked against them on every machine.
SCHEMA_PATH = str(Path(__file__).parents[2] / "data" / "opencode-1.18.33-openapi-subset.json")
MODEL_ID = "scripted-1"
PROVIDER_ID = "scripted"

_event_ids = itertools.count(1)


def _event(kind: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"evt_{next(_event_ids):06d}", "type": kind, "properties": properties}


def tokens(
    input: int = 0,
    output: int = 0,
    reasoning: int = 0,
    cache_read: int = 0,
    cache_write: int = 0,
) -> dict[str, Any]:
    return {
        "input": input,
        "output": output,
        "reasoning": reasoning,
        "cache": {"read": cache_read, "write": cache_write},
    }


def session_info(
    session_id: str = "ses_1",
    *,
    cost: float | None = 0.0,
    updated: int = 1_000,
    title: str = "New session",
    model_id: str = MODEL_ID,
    usage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "id": session_id,
        "slug": session_id.removeprefix("ses_"),
        "projectID": "global",
        "directory": "/tmp/project",
        "title": title,
        "version": "0.1.0",
        "cost": cost,
        "tokens": usage or tokens(),
        "model": {"id": model_id, "providerID": PROVIDER_ID},
        "time": {"created": 1_000, "updated": updated},
    }


def assistant_info(
    message_id: str,
    session_id: str = "ses_1",
    *,
    created: int,
    cost: float | None = 0.0,
    usage: dict[str, Any] | None = None,
    model_id: str = MODEL_ID,
    parent_id: str = "msg_user",
) -> dict[str, Any]:
    return {
        "id": message_id,
        "sessionID": session_id,
        "role": "assistant",
        "time": {"created": created},
        "parentID": parent_id,
        "modelID": model_id,
        "providerID": PROVIDER_ID,
        "mode": "build",
        "agent": "build",
        "path": {"cwd": "/tmp/project", "root": "/tmp/project"},
        "cost": cost,
        "tokens": usage or tokens(),
    }


def user_info(message_id: str, session_id: str = "ses_1", *, created: int) -> dict[str, Any]:
    return {
        "id": message_id,
        "sessionID": session_id,
        "role": "user",
        "time": {"created": created},
        "agent": "build",
        "model": {"providerID": PROVIDER_ID, "modelID": MODEL_ID},
    }


def text_part(
    part_id: str, message_id: str, session_id: str = "ses_1", text: str = ""
) -> dict[str, Any]:
    return {
        "id": part_id,
        "sessionID": session_id,
        "messageID": message_id,
        "type": "text",
        "text": text,
    }


def step_finish_part(
    part_id: str,
    message_id: str,
    session_id: str = "ses_1",
    *,
    cost: float = 0.0,
    usage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "id": part_id,
        "sessionID": session_id,
        "messageID": message_id,
        "type": "step-finish",
        "reason": "stop",
        "cost": cost,
        "tokens": usage or tokens(),
    }


def with_parts(info: dict[str, Any], *parts: dict[str, Any]) -> dict[str, Any]:
    """One entry of a `GET /session/{id}/message` answer."""
    return {"info": info, "parts": list(parts)}


def session_created(info: dict[str, Any]) -> dict[str, Any]:
    return _event("session.created", {"sessionID": info["id"], "info": info})


def session_updated(info: dict[str, Any]) -> dict[str, Any]:
    return _event("session.updated", {"sessionID": info["id"], "info": info})


def session_deleted(info: dict[str, Any]) -> dict[str, Any]:
    return _event("session.deleted", {"sessionID": info["id"], "info": info})


def message_updated(info: dict[str, Any]) -> dict[str, Any]:
    return _event("message.updated", {"sessionID": info["sessionID"], "info": info})


def message_removed(session_id: str, message_id: str) -> dict[str, Any]:
    return _event("message.removed", {"sessionID": session_id, "messageID": message_id})


def part_updated(part: dict[str, Any], time: int = 2_000) -> dict[str, Any]:
    return _event(
        "message.part.updated", {"sessionID": part["sessionID"], "part": part, "time": time}
    )


def part_removed(session_id: str, message_id: str, part_id: str) -> dict[str, Any]:
    return _event(
        "message.part.removed",
        {"sessionID": session_id, "messageID": message_id, "partID": part_id},
    )


def part_delta(
    session_id: str, message_id: str, part_id: str, delta: str, field: str = "text"
) -> dict[str, Any]:
    return _event(
        "message.part.delta",
        {
            "sessionID": session_id,
            "messageID": message_id,
            "partID": part_id,
            "field": field,
            "delta": delta,
        },
    )


def session_status(session_id: str, kind: str = "busy") -> dict[str, Any]:
    return _event("session.status", {"sessionID": session_id, "status": {"type": kind}})


def session_idle(session_id: str) -> dict[str, Any]:
    return _event("session.idle", {"sessionID": session_id})


def session_error(session_id: str, message: str = "boom") -> dict[str, Any]:
    return _event(
        "session.error",
        {"sessionID": session_id, "error": {"name": "UnknownError", "data": {"message": message}}},
    )


def server_connected() -> dict[str, Any]:
    return _event("server.connected", {})
