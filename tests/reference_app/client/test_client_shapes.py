"""The builders the store tests use produce the shapes the opencode subset documents."""

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from tests.reference_app.client import client_shapes as shapes

_SCHEMA = Path(shapes.SCHEMA_PATH)
_DOCUMENT = json.loads(_SCHEMA.read_text(encoding="utf-8"))

_REGISTRY = Registry().with_resource("urn:opencode", DRAFT202012.create_resource(_DOCUMENT))


def _validate(instance: dict[str, Any], schema_name: str) -> None:
    schema = {"$ref": f"urn:opencode#/components/schemas/{schema_name}"}
    jsonschema.Draft202012Validator(schema, registry=_REGISTRY).validate(instance)


_ASSISTANT = shapes.assistant_info(
    "msg_2", created=2, cost=0.05, usage=shapes.tokens(12000, 800, 200)
)
_USER = shapes.user_info("msg_1", created=1)
_TEXT = shapes.text_part("prt_1", "msg_2", text="hi")
_STEP = shapes.step_finish_part("prt_2", "msg_2", cost=0.05, usage=shapes.tokens(1, 2))


@pytest.mark.parametrize(
    ("instance", "schema_name"),
    [
        (shapes.session_info(cost=0.05), "Session"),
        (_ASSISTANT, "AssistantMessage"),
        (_USER, "UserMessage"),
        (_TEXT, "TextPart"),
        (_STEP, "StepFinishPart"),
        (shapes.session_created(shapes.session_info()), "EventSessionCreated"),
        (shapes.session_updated(shapes.session_info()), "EventSessionUpdated"),
        (shapes.session_deleted(shapes.session_info()), "EventSessionDeleted"),
        (shapes.message_updated(_ASSISTANT), "EventMessageUpdated"),
        (shapes.message_updated(_USER), "EventMessageUpdated"),
        (shapes.message_removed("ses_1", "msg_1"), "EventMessageRemoved"),
        (shapes.part_updated(_STEP), "EventMessagePartUpdated"),
        (shapes.part_removed("ses_1", "msg_2", "prt_1"), "EventMessagePartRemoved"),
        (shapes.part_delta("ses_1", "msg_2", "prt_1", "x"), "EventMessagePartDelta"),
        (shapes.session_status("ses_1"), "EventSessionStatus"),
        (shapes.session_idle("ses_1"), "EventSessionIdle"),
        (shapes.session_error("ses_1"), "EventSessionError"),
        (shapes.server_connected(), "EventServerConnected"),
    ],
)
def test_builder_matches_the_documented_shape(instance: dict[str, Any], schema_name: str) -> None:
    _validate(instance, schema_name)
