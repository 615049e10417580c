"""The core three-step scenario on the protocol surface against the real agents.

What the runs show (opencode 1.18.33, Kilo CLI 7.7.7):
- opencode writes the session total at each step finish and publishes ``session.updated`` with
  it 90-150 ms later, so the event-built mirror catches up without a reload: it behaves like the
  reference agent with the server fix, and the scenario's ``server`` expectation (pass) holds.
- Kilo writes the same total (a fresh GET shows it) but publishes no ``session.updated`` during or
  after the turn: the mirror stays at $0.00 / 0 until reload, the scenario's ``none`` expectation.

The protocol surface settles on 300 ms of quiet here: opencode's ``session.updated`` trails the
step-finish part by more than the 30 ms default, which would read its short lag as a freeze.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import runner
from harness.drivers.base import Surface
from harness.drivers.protocol import ProtocolSurface
from harness.scenario.loader import load_scenarios
from harness.targets.kilo import KiloTarget
from harness.targets.opencode import OpencodeTarget

pytestmark = [pytest.mark.real, pytest.mark.timeout(900)]

SCENARIO = Path(__file__).parents[3] / "scenarios" / "core" / "three-step-turn.yaml"


@pytest.fixture
def patient_protocol(monkeypatch: pytest.MonkeyPatch) -> None:
    def make() -> Surface:
        return ProtocolSurface(quiet=0.3, deadline=3.0)

    monkeypatch.setitem(runner.SURFACE_FACTORIES, "protocol", make)


def live(result: runner.RunResult, readout: str) -> list[str | None]:
    return [cp.readings["protocol"][readout].live for cp in result.history.checkpoints]


def reload(result: runner.RunResult, readout: str) -> list[str | None]:
    return [cp.readings["protocol"][readout].reload for cp in result.history.checkpoints]


EXPECTED_COST = ["$0.00", "$0.00", "$0.05", "$0.05", "$0.12", "$0.19", "$0.19", "$0.19"]


@pytest.mark.usefixtures("patient_protocol")
async def test_opencode_publishes_the_session_total_at_each_step(tmp_path: Path) -> None:
    [loaded] = load_scenarios([SCENARIO])
    result = await runner.run_scenario(
        loaded, "server", surfaces=["protocol"], target=OpencodeTarget(), runs_dir=tmp_path
    )
    assert result.history.error is None
    assert reload(result, "session.cost") == EXPECTED_COST
    assert live(result, "session.cost") == EXPECTED_COST
    assert live(result, "session.tokens")[-3:] == ["48,200"] * 3
    assert result.anomalies == []
    assert result.verdict.ok


@pytest.mark.usefixtures("patient_protocol")
async def test_kilo_leaves_the_session_total_frozen_until_reload(tmp_path: Path) -> None:
    [loaded] = load_scenarios([SCENARIO])
    result = await runner.run_scenario(
        loaded, "none", surfaces=["protocol"], target=KiloTarget(), runs_dir=tmp_path
    )
    assert result.history.error is None
    assert reload(result, "session.cost") == EXPECTED_COST
    # Live until the reload step (the last checkpoint): never moved from zero.
    assert set(live(result, "session.cost")[:-1]) == {"$0.00"}
    assert set(live(result, "session.tokens")[:-1]) == {"0"}
    assert live(result, "session.cost")[-1] == "$0.19"
    codes = {(a.code, a.readouts) for a in result.anomalies}
    assert ("FROZEN-UNTIL-RELOAD", ("session.cost",)) in codes
    assert ("FROZEN-UNTIL-RELOAD", ("session.tokens",)) in codes
    assert result.verdict.ok  # the scenario expects exactly this in mode "none"
