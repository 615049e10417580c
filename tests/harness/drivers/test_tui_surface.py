"""The tui surface: the reference Textual app in-process under the pilot, read from its widgets
live, after a restart and from a freshly started copy; its change stamps; and the same verdicts and
values as the store surface on the shipped scenario in fix modes none and both."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from harness.drivers.base import TargetInfo
from harness.drivers.tui import TuiSurface
from harness.errors import TargetError
from harness.runner import SURFACE_FACTORIES, run_scenario
from harness.scenario.loader import load_scenario
from harness.verdict import Status
from reference_app.tui.ids import widget_id
from tests.reference_app.tui.tui_helpers import AFTER_STEP, THREE_STEP_TURN, Agent, start_agent

ALL_AT_STEP_1 = {
    "sidebar.tokens": "13,000", "sidebar.percent": "13%", "sidebar.cost": "$0.05",
    "sessions.cost": "$0.05", "footer.tokens": "13,000", "footer.cost": "$0.05",
}


def test_tui_is_registered_lazily() -> None:
    surface = SURFACE_FACTORIES["tui"]()
    assert surface.name == "tui"
    assert surface.readouts == (
        "sidebar.tokens", "sidebar.percent", "sidebar.cost", "sessions.cost",
        "footer.tokens", "footer.cost",
    )


@pytest.fixture
async def agent(tmp_path: Path) -> AsyncIterator[Agent]:
    running = await asyncio.to_thread(start_agent, tmp_path / "agent", server_fix=False)
    yield running
    await asyncio.to_thread(running.stop)


async def test_live_reload_and_change_stamps_from_the_widgets(agent: Agent) -> None:
    surface = TuiSurface()
    other = await asyncio.to_thread(agent.create_session, "Another session")
    session = await asyncio.to_thread(agent.create_session)
    await surface.attach(TargetInfo(agent.base_url, False, agent.context_limits))
    try:
        await surface.show(other)
        await surface.show(session)  # switching moves the sessions.cost widget to this entry
        assert surface.app.session_id == session
        await surface.settle()
        before = await surface.read_live()
        assert {name: v.shown for name, v in before.items()} == {
            "sidebar.tokens": "0", "sidebar.percent": "—", "sidebar.cost": "$0.00",
            "sessions.cost": "$0.00", "footer.tokens": "0", "footer.cost": "$0.00",
        }

        first = await agent.prompt(session)
        await agent.step(first)
        await surface.settle()
        live = await surface.read_live()
        sent = next(s for s in agent.model.sent if s.step_index == first)
        assert live["sidebar.tokens"].shown == AFTER_STEP[0][0]
        tokens_at = live["sidebar.tokens"].changed_at
        assert tokens_at is not None
        assert sent.t < tokens_at < time.monotonic()
        for name in ("sidebar.cost", "sessions.cost", "footer.cost"):
            assert live[name].shown == "$0.00"
            stamp = live[name].changed_at
            assert stamp is not None
            assert stamp < sent.t  # the watcher never ran: the screen never changed

        assert await surface.read_reload() == ALL_AT_STEP_1
        # Reading a fresh copy leaves the live app alone.
        assert (await surface.read_live())["sidebar.cost"].shown == "$0.00"

        await surface.reload()
        await surface.settle()
        assert {n: v.shown for n, v in (await surface.read_live()).items()} == ALL_AT_STEP_1
        assert surface.app.query_one(f"#{widget_id('sidebar.cost')}") is not None
        assert "$0.05&#160;spent" in surface.screenshot()
    finally:
        await surface.close()


async def test_an_unreachable_server_is_a_target_error() -> None:
    surface = TuiSurface(load_timeout=2)
    with pytest.raises(TargetError, match=r"127\.0\.0\.1:9"):
        await surface.attach(TargetInfo("http://127.0.0.1:9", False, {}))
    await surface.close()


@pytest.mark.timeout(300)
@pytest.mark.parametrize(("mode", "status"), [("none", Status.CAUGHT), ("both", Status.PASS)])
async def test_same_verdict_and_values_as_the_store_on_the_shipped_scenario(
    tmp_path: Path, mode: str, status: Status
) -> None:
    loaded = load_scenario(THREE_STEP_TURN)
    result = await run_scenario(
        loaded, mode, surfaces=("store", "tui"), runs_dir=tmp_path / "runs"  # type: ignore[arg-type]
    )
    assert result.history.error is None
    assert {name: v.status for name, v in result.verdict.surfaces.items()} == {
        "store": status,
        "tui": status,
    }
    assert not [a for a in result.anomalies if a.code == "SURFACE-DISAGREE"]
    for checkpoint in result.history.checkpoints:
        store, tui = checkpoint.readings["store"], checkpoint.readings["tui"]
        for name, reading in store.items():
            assert (tui[name].live, tui[name].reload) == (reading.live, reading.reload), (
                f"checkpoint {checkpoint.index} ({checkpoint.label}): {name}"
            )
