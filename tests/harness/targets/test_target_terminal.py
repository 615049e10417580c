"""The core three-step scenario on the terminal surface against the real agents' own TUIs.

Each agent's TUI (``<binary> attach URL --session ID``, under tmux at 160x45, in the server's
isolated environment) is read live at every checkpoint and again from a freshly started copy. What
the runs show (opencode 1.18.33, Kilo CLI 7.7.7): the sidebar's tokens, percent and dollars move
at every step in both, a few hundred ms after the usage is sent, and equal the fresh copy's; the
only difference from the scenario's arithmetic is "0% used" before the first usage where the
harness has no percent yet ("—"), which the scenario records for the terminal surface.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness import runner
from harness.scenario.loader import load_scenarios
from harness.targets.base import Target
from harness.targets.kilo import KiloTarget
from harness.targets.opencode import OpencodeTarget

pytestmark = [pytest.mark.real, pytest.mark.timeout(900)]

SCENARIO = Path(__file__).parents[3] / "scenarios" / "core" / "three-step-turn.yaml"

# Checkpoints: open, prompt, step, check, step, step, finish, reload.
COST = ["$0.00", "$0.00", "$0.05", "$0.05", "$0.12", "$0.19", "$0.19", "$0.19"]
TOKENS = ["0", "0", "13,000", "13,000", "16,000", "19,200", "19,200", "19,200"]
PERCENT = ["0%", "0%", "13%", "13%", "16%", "19%", "19%", "19%"]


def series(result: runner.RunResult, readout: str, field: str) -> list[str | None]:
    return [
        getattr(cp.readings["terminal"][readout], field) for cp in result.history.checkpoints
    ]


@pytest.mark.parametrize("make", [OpencodeTarget, KiloTarget], ids=["opencode", "kilo"])
async def test_the_tui_sidebar_is_live(make: Callable[[], Target], tmp_path: Path) -> None:
    [loaded] = load_scenarios([SCENARIO])
    result = await runner.run_scenario(
        loaded, "shipped", surfaces=["terminal"], target=make(), runs_dir=tmp_path
    )
    assert result.history.error is None
    for readout, want in (
        ("sidebar.cost", COST),
        ("sidebar.tokens", TOKENS),
        ("sidebar.percent", PERCENT),
    ):
        assert series(result, readout, "live") == want, readout
        assert series(result, readout, "reload") == want, readout
    # Every step's usage reached the screen live, each within a few seconds.
    latencies = [
        cp.readings["terminal"]["sidebar.cost"].latency_ms
        for cp in result.history.checkpoints
        if cp.label.startswith("step")
    ]
    assert len(latencies) == 3
    assert all(ms is not None and 0 < ms < 5000 for ms in latencies)
    codes = {(a.code, a.readouts) for a in result.anomalies}
    assert codes == {("WRONG-TOTAL", ("sidebar.percent",))}
    assert result.verdict.ok  # the scenario states exactly that for the terminal surface
