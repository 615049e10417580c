"""Helpers both wire formats share: JSON and SSE encoding, and request-field checks.

A check failure raises `BadRequest` naming the field; each format renders it in its provider's
error shape.
"""

from __future__ import annotations

import json
import uuid
from typing import Any


class BadRequest(Exception):
    """A request the provider would reject with 400. `field` is the offending body field."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def json_bytes(value: Any) -> bytes:
    # Compact like the real providers, so byte-level tests see what a client really parses.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def sse_data(value: Any) -> bytes:
    return b"data: " + json_bytes(value) + b"\n\n"


def sse_event(name: str, value: Any) -> bytes:
    return b"event: " + name.encode() + b"\n" + sse_data(value)


def new_id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:24]


def parse_body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadRequest(None, f"the request body is not valid JSON: {error}") from error
    if not isinstance(body, dict):
        raise BadRequest(None, "the request body must be a JSON object")
    return body


def require_str(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value:
        raise BadRequest(field, f"{field}: a non-empty string is required, got {value!r}")
    return value


def require_positive_int(body: dict[str, Any], field: str) -> int:
    value = body.get(field)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise BadRequest(field, f"{field}: a positive integer is required, got {value!r}")
    return value


def require_messages(body: dict[str, Any]) -> list[Any]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages", "messages: a non-empty array of messages is required")
    for position, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise BadRequest(
                "messages",
                f"messages[{position}]: each message must be an object with a string 'role'",
            )
    return messages


def optional_bool(body: dict[str, Any], field: str, default: bool = False) -> bool:
    value = body.get(field)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise BadRequest(field, f"{field}: must be true or false, got {value!r}")
    return value


def optional_tools(body: dict[str, Any]) -> list[Any]:
    tools = body.get("tools")
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise BadRequest("tools", f"tools: must be an array, got {type(tools).__name__}")
    return tools
