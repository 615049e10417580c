"""The reference terminal UI against the real agent server: one widget per readout with its id
mapped from the readout name, the prompt input starting a turn with the configured model, the
transcript streaming, the session list opening a session on click, the client fix reaching the
sidebar only; and the pure pieces (ids, transcript, command line)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from reference_app.client.readouts import READOUT_NAMES
from reference_app.tui.__main__ import build_parser
from reference_app.tui.app import LIVE_MARK, FreshnessApp
from reference_app.tui.ids import READOUT_WIDGET_IDS, readout_for_widget, widget_id
from reference_app.tui.transcript import render_transcript, tool_line
from reference_app.tui.widgets import Readout, SessionEntry
from tests.reference_app.tui.tui_helpers import AFTER_STEP, Agent, start_agent, wait_for

SIZE = (160, 45)


def test_widget_ids_are_readout_names_with_hyphens() -> None:
    assert READOUT_WIDGET_IDS == {
        "sidebar.tokens": "sidebar-tokens",
        "sidebar.percent": "sidebar-percent",
        "sidebar.cost": "sidebar-cost",
        "sessions.cost": "sessions-cost",
        "footer.tokens": "footer-tokens",
        "footer.cost": "footer-cost",
    }
    assert widget_id("sidebar.cost") == "sidebar-cost"
    assert readout_for_widget("footer-cost") == "footer.cost"
    assert readout_for_widget("transcript") is None


def test_transcript_renders_prompts_text_reasoning_tools_and_errors() -> None:
    messages = [
        {"info": {"role": "user"}, "parts": [{"type": "text", "text": "Fix it"}]},
        {
            "info": {"role": "assistant", "error": {"name": "MessageAbortedError",
                                                    "data": {"message": "aborted"}}},
            "parts": [
                {"type": "step-start"},
                {"type": "reasoning", "text": "Thinking"},
                {"type": "text", "text": "Reading\n"},
                {"type": "tool", "tool": "read", "state": {"status": "completed",
                                                          "input": {"path": "a.py"},
                                                          "title": "a.py"}},
                {"type": "tool", "tool": "echo", "state": {"status": "error", "input": {},
                                                          "error": "interrupted"}},
                {"type": "step-finish", "tokens": {"input": 1}},
            ],
        },
    ]
    assert render_transcript(messages).plain == (
        "\N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} Fix it\n\n"
        "Thinking\nReading\n  ● read a.py  a.py\n  ✗ echo  interrupted\n"
        "MessageAbortedError: aborted"
    )
    assert "No messages yet" in render_transcript([]).plain
    running = {"type": "tool", "tool": "echo", "state": {"status": "running", "input": {"n": 1}}}
    assert tool_line(running).plain == "  ◐ echo 1"


def test_command_line() -> None:
    args = build_parser().parse_args(
        ["--url", "http://x", "--session", "ses_1", "--client-fix", "--model", "paid",
         "--context", "paid=100000"]
    )
    assert (args.url, args.session, args.client_fix, args.model) == (
        "http://x", "ses_1", True, "paid"
    )
    assert args.context == [("paid", 100_000)]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--url", "http://x", "--context", "paid"])


@pytest.fixture
async def agent(tmp_path: Path) -> AsyncIterator[Agent]:
    running = await asyncio.to_thread(start_agent, tmp_path / "agent", server_fix=False)
    yield running
    await asyncio.to_thread(running.stop)


def _shown(app: FreshnessApp) -> dict[str, str]:
    values: dict[str, str] = {}
    for name in READOUT_NAMES:
        widget = app.readout(name)
        values[name] = widget.value if widget is not None else "(missing)"
    return values


async def test_one_widget_per_readout_and_a_typed_prompt_starts_a_turn(agent: Agent) -> None:
    session = await asyncio.to_thread(agent.create_session)
    agent.model.extend(agent.turn.steps)
    app = FreshnessApp(agent.base_url, session_id=session, model=agent.turn.model_id)
    async with app.run_test(size=SIZE) as pilot:
        await asyncio.wait_for(app.loaded.wait(), 20)
        await pilot.pause()
        for name in READOUT_NAMES:
            widgets = app.query(f"#{widget_id(name)}")
            assert len(widgets) == 1, name
            assert isinstance(widgets.first(), Readout)
        assert app.query_one("#connection").render().plain == LIVE_MARK  # type: ignore[attr-defined]
        assert _shown(app)["sidebar.percent"] == "—"  # percent before any turn

        await pilot.press(*"Fix the failing parser test")
        await pilot.press("enter")
        arrived = await agent.model.wait_request(0, timeout=20)
        assert arrived is not None
        body = agent.model.requests[-1]
        assert body["model"] == agent.turn.model_id  # the configured model went to the provider
        await agent.step(0)
        await wait_for(lambda: _shown(app)["sidebar.tokens"] == AFTER_STEP[0][0], what="tokens")
        await wait_for(lambda: "Reading the test" in str(app.query_one("#transcript").render()),
                       what="the streamed text in the transcript")
        assert _shown(app) == {
            "sidebar.tokens": "13,000", "sidebar.percent": "13%", "sidebar.cost": "$0.00",
            "sessions.cost": "$0.00", "footer.tokens": "13,000", "footer.cost": "$0.00",
        }
        agent.model.release_all()


async def test_client_fix_reaches_the_sidebar_only(agent: Agent) -> None:
    session = await asyncio.to_thread(agent.create_session)
    app = FreshnessApp(agent.base_url, session_id=session, client_fix=True,
                       context_limits=agent.context_limits)
    async with app.run_test(size=SIZE):
        await asyncio.wait_for(app.loaded.wait(), 20)
        first = await agent.prompt(session)
        await agent.step(first)
        await wait_for(lambda: _shown(app)["sidebar.cost"] == "$0.05", what="the fixed sidebar")
        shown = _shown(app)
        assert (shown["sessions.cost"], shown["footer.cost"]) == ("$0.00", "$0.00")
        agent.model.release_all()


async def test_clicking_a_session_opens_it_and_moves_the_sessions_cost_widget(
    agent: Agent,
) -> None:
    first = await asyncio.to_thread(agent.create_session, "First")
    second = await asyncio.to_thread(agent.create_session, "Second")
    app = FreshnessApp(agent.base_url, context_limits=agent.context_limits)
    async with app.run_test(size=SIZE) as pilot:
        await asyncio.wait_for(app.loaded.wait(), 20)
        await pilot.pause()
        assert app.session_id == second  # the most recent session opens by default
        entries = {entry.session_id: entry for entry in app.query(SessionEntry)}
        assert entries[second].is_open
        assert entries[second].query_one(f"#{widget_id('sessions.cost')}")
        await pilot.click(entries[first])
        await wait_for(lambda: app.session_id == first, what="the clicked session to open")
        await pilot.pause()
        entries = {entry.session_id: entry for entry in app.query(SessionEntry)}
        assert entries[first].is_open
        assert not entries[second].is_open
        assert len(app.query(f"#{widget_id('sessions.cost')}")) == 1
        assert entries[first].query_one(f"#{widget_id('sessions.cost')}")
        assert "First" in str(app.query_one("#topbar").render())
