"""Snapshot baselines of the terminal UI mid-turn in scenarios/core/three-step-turn.yaml.

The app is started on the scenario's session before the turn, the turn is played with the
scripted model, and the screen is captured after a step while the next step is held at the gate:
the moment a person looks at the sidebar. With fix mode none the baseline shows the bug itself:
13,000 tokens and 13% used beside "$0.00 spent", the session list and the status line at $0.00 too.
With both fixes every cost reads $0.05 (then $0.12). Update with `pytest --snapshot-update`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from reference_app.tui.app import FreshnessApp
from tests.reference_app.tui.tui_helpers import AFTER_STEP, Agent, start_agent, wait_for

SIZE = (160, 45)


@pytest.fixture(params=["none", "both"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def agent(tmp_path: Path, mode: str) -> Iterator[Agent]:
    running = start_agent(tmp_path / "agent", server_fix=mode in ("server", "both"))
    yield running
    running.stop()


def _quiet(app: FreshnessApp) -> Any:
    """Wait until the app's client has applied no event for 0.2 s (the screen is calm)."""

    async def wait() -> None:
        assert app.client is not None
        seen, since = app.client.events_applied, asyncio.get_running_loop().time()
        while asyncio.get_running_loop().time() - since < 0.2:
            await asyncio.sleep(0.02)
            if app.client.events_applied != seen:
                seen, since = app.client.events_applied, asyncio.get_running_loop().time()

    return wait()


COSTS = ("sidebar.cost", "sessions.cost", "footer.cost")


def play_until(
    agent: Agent, app: FreshnessApp, session_id: str, steps: int, shown: dict[str, str]
) -> Any:
    """A `run_before` that plays `steps` model steps of the turn with the app live, and notes
    the cost readouts on screen in `shown`."""

    async def run_before(pilot: Pilot[None]) -> None:
        await asyncio.wait_for(app.loaded.wait(), 20)
        first = await agent.prompt(session_id)
        for index in range(first, first + steps):
            await agent.step(index)
        tokens = AFTER_STEP[steps - 1][0]
        await wait_for(
            lambda: (widget := app.readout("sidebar.tokens")) is not None
            and widget.value == tokens,
            what=f"the sidebar to show {tokens} tokens",
        )
        await _quiet(app)
        await pilot.pause()
        for name in COSTS:
            widget = app.readout(name)
            shown[name] = widget.value if widget is not None else "(no widget)"

    return run_before


@pytest.mark.parametrize("steps", [1, 2], ids=["after-step-1", "after-step-2"])
def test_mid_turn(snap_compare: Any, agent: Agent, mode: str, steps: int) -> None:
    """Mid-turn, next step held at the gate. Mode none: cost frozen at $0.00 (the bug)."""
    session_id = agent.create_session()
    app = FreshnessApp(
        agent.base_url,
        session_id=session_id,
        client_fix=mode in ("client", "both"),
        context_limits=agent.context_limits,
    )
    shown: dict[str, str] = {}
    assert snap_compare(
        app, terminal_size=SIZE, run_before=play_until(agent, app, session_id, steps, shown)
    )
    # The baseline is the picture; this says in words what it must show.
    expected_cost = "$0.00" if mode == "none" else AFTER_STEP[steps - 1][2]
    assert shown == dict.fromkeys(COSTS, expected_cost)
