from __future__ import annotations

from typing import Any

import pytest

from harness.model_server import ModelStep, ScriptError, ToolCall, Usage


def test_finish_defaults_to_tool_calls_when_the_step_calls_tools() -> None:
    assert ModelStep(tool_calls=(ToolCall("read", {"path": "a"}),)).finish_reason == "tool_calls"
    assert ModelStep(text="done").finish_reason == "stop"
    assert ModelStep(text="cut", finish="length").finish_reason == "length"


def test_tool_calls_given_as_a_list_are_stored_as_a_tuple() -> None:
    step = ModelStep(tool_calls=[ToolCall("read")])  # type: ignore[arg-type]
    assert step.tool_calls == (ToolCall("read"),)


def test_arguments_json_is_compact() -> None:
    assert ToolCall("edit", {"path": "a", "n": [1, 2]}).arguments_json == '{"path":"a","n":[1,2]}'


@pytest.mark.parametrize(
    ("build", "names"),
    [
        (lambda: Usage(input=-1), "Usage.input"),
        (lambda: Usage(output=True), "Usage.output"),
        (lambda: Usage(reasoning=1.5), "Usage.reasoning"),
        (lambda: ToolCall(""), "ToolCall.name"),
        (lambda: ToolCall("read", {"when": object()}), "JSON-serialisable"),
        (lambda: ModelStep(finish="done"), "ModelStep.finish"),
        (lambda: ModelStep(fault="explode"), "ModelStep.fault"),
        (lambda: ModelStep(chunk_delay=-0.1), "ModelStep.chunk_delay"),
        (lambda: ModelStep(tool_calls=("read",)), "expected ToolCall"),
    ],
)
def test_a_step_that_cannot_be_streamed_is_rejected_naming_the_field(
    build: Any, names: str
) -> None:
    with pytest.raises(ScriptError, match=names):
        build()
