"""The script, gate and records without HTTP: `assign` and `pass_gate` are what the app calls."""

from __future__ import annotations

import asyncio
import logging

import pytest

from harness.model_server import TOOLLESS_ANSWER, ModelStep, ScriptedModel, ToolCall, Usage

REQUEST = {"model": "scripted-1", "messages": []}


def steps(count: int) -> list[ModelStep]:
    return [ModelStep(text=f"step {n}", usage=Usage(input=n)) for n in range(count)]


def test_steps_answer_tool_requests_in_order_and_side_requests_bypass_the_script() -> None:
    model = ScriptedModel()
    model.load(steps(2))
    first = model.assign(REQUEST, has_tools=True)
    title = model.assign({"title": True}, has_tools=False)
    second = model.assign(REQUEST, has_tools=True)
    assert (first.kind, first.step_index, first.step.text) == ("scripted", 0, "step 0")
    assert (title.kind, title.step_index, title.step) == ("toolless", None, TOOLLESS_ANSWER)
    assert (second.kind, second.step_index) == ("scripted", 1)
    assert model.requests == [REQUEST, {"title": True}, REQUEST]
    assert [a.step_index for a in model.arrived] == [0, 1]
    assert model.toolless_requests == 1


def test_a_request_after_the_script_ran_out_is_answered_empty_and_flagged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    model = ScriptedModel(model_id="m")
    model.load(steps(1))
    model.assign(REQUEST, has_tools=True)
    with caplog.at_level(logging.WARNING):
        extra = model.assign(REQUEST, has_tools=True)
    assert extra.kind == "exhausted"
    assert extra.step_index is None
    assert extra.step == ModelStep()
    assert extra.step.usage == Usage()
    assert model.unscripted_requests == 1
    assert "all 1 scripted steps were used" in model.warnings[0]
    assert "all 1 scripted steps were used" in caplog.text


def test_extend_continues_the_script_after_an_exhausted_request() -> None:
    model = ScriptedModel()
    model.load(steps(1))
    model.assign(REQUEST, has_tools=True)
    model.assign(REQUEST, has_tools=True)
    model.extend([ModelStep(text="more")])
    later = model.assign(REQUEST, has_tools=True)
    assert (later.step_index, later.step.text) == (1, "more")


def test_load_replaces_the_script_and_starts_a_fresh_run() -> None:
    model = ScriptedModel()
    model.load(steps(3))
    model.release(2)
    model.assign(REQUEST, has_tools=True)
    model.record_usage_sent(0)
    model.load(steps(1))
    state = model.state()
    assert state["steps_total"] == 1
    assert (state["arrived"], state["released"], state["sent"], state["requests"]) == (0, 0, [], 0)
    assert model.assign(REQUEST, has_tools=True).step_index == 0


def test_tool_call_ids_are_filled_in_once_and_never_repeat_across_loads() -> None:
    model = ScriptedModel()
    model.load([ModelStep(tool_calls=(ToolCall("read"), ToolCall("grep", id="mine")))])
    model.load([ModelStep(tool_calls=(ToolCall("read"),))])
    model.extend([ModelStep(tool_calls=(ToolCall("read"),))])
    ids = [call.id for step in model.steps for call in step.tool_calls]
    assert ids == ["call_0002", "call_0003"]


async def test_a_gated_step_waits_until_released() -> None:
    model = ScriptedModel(gated=True)
    model.load(steps(2))
    index = model.assign(REQUEST, has_tools=True).step_index
    assert index == 0
    passing = asyncio.create_task(model.pass_gate(index))
    await model.wait_request(0, timeout=1)
    await asyncio.sleep(0.01)
    assert not passing.done()
    assert model.served == 0
    model.release()
    await asyncio.wait_for(passing, timeout=1)
    assert (model.served, model.released) == (1, 1)


async def test_a_release_given_before_the_request_arrives_is_kept() -> None:
    model = ScriptedModel(gated=True)
    model.load(steps(1))
    model.release(1)
    model.assign(REQUEST, has_tools=True)
    await asyncio.wait_for(model.pass_gate(0), timeout=1)


async def test_closing_the_gate_again_holds_the_step_after_those_already_let_through() -> None:
    model = ScriptedModel(gated=True)
    model.load(steps(3))
    model.release_all()
    assert model.gated is False
    for index in (0, 1):
        model.assign(REQUEST, has_tools=True)
        await asyncio.wait_for(model.pass_gate(index), timeout=1)
    model.gated = True
    model.assign(REQUEST, has_tools=True)
    held = asyncio.create_task(model.pass_gate(2))
    await asyncio.sleep(0.01)
    assert not held.done()
    model.release()
    await asyncio.wait_for(held, timeout=1)


async def test_waiting_too_long_says_what_was_awaited_and_what_state_the_model_is_in() -> None:
    model = ScriptedModel(model_id="m", gated=True)
    model.load(steps(1))
    with pytest.raises(TimeoutError, match=r"usage of step 0 of model 'm'.*released=0"):
        await model.wait_usage_sent(0, timeout=0.01)
    with pytest.raises(TimeoutError, match="request step 3"):
        await model.wait_request(3, timeout=0.01)


async def test_wait_usage_sent_returns_the_record_for_that_step() -> None:
    model = ScriptedModel()
    model.load(steps(2))
    waiting = asyncio.create_task(model.wait_usage_sent(1, timeout=1))
    model.record_usage_sent(0)
    model.record_usage_sent(1, in_stream=False)
    sent = await waiting
    assert (sent.step_index, sent.in_stream) == (1, False)
    assert [s.step_index for s in model.sent] == [0, 1]


def test_release_rejects_a_negative_count() -> None:
    with pytest.raises(ValueError, match="non-negative integer"):
        ScriptedModel().release(-1)
