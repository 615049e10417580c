"""Run results for the report tests, built from hand-made histories and the real checks.

The project runs pytest with --import-mode=importlib, so the builders are handed out as
fixtures rather than imported from a helper module.

The histories replay scenarios/core/three-step-turn.yaml: the expected values come from the
scenario's own arithmetic, storage (the reload) is always right, and the live value of each
readout named "frozen" never moves until the final reload step, which is the bug.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path

import pytest

from harness.checks import check_history
from harness.expected import ExpectedState
from harness.history import Checkpoint, History, Reading
from harness.runner import RunResult
from harness.scenario.loader import LoadedScenario, load_scenario
from harness.scenario.model import FixMode
from harness.staleness import summarize_staleness
from harness.verdict import judge

ROOT = Path(__file__).resolve().parents[3]
SCENARIO = ROOT / "scenarios" / "core" / "three-step-turn.yaml"
SURFACE_READOUTS = {
    "store": ("sidebar.tokens", "sidebar.percent", "sidebar.cost", "sessions.cost"),
    "protocol": ("session.tokens", "session.cost"),
}
# What each fix mode leaves frozen in the reference app.
FROZEN_BY_MODE: dict[str, frozenset[str]] = {
    "none": frozenset({"sidebar.cost", "sessions.cost", "session.cost", "session.tokens"}),
    "client": frozenset({"sessions.cost", "session.cost", "session.tokens"}),
    "server": frozenset(),
    "both": frozenset(),
}

MakeHistory = Callable[..., History]
MakeResult = Callable[..., RunResult]


@pytest.fixture(scope="session")
def loaded() -> LoadedScenario:
    return load_scenario(SCENARIO)


def _history(
    loaded: LoadedScenario,
    mode: str,
    frozen: Collection[str],
    *,
    scenario: str | None = None,
    path: str | None = None,
) -> History:
    state = ExpectedState.for_scenario(loaded.scenario)
    history = History(
        scenario=scenario if scenario is not None else loaded.name,
        path=path if path is not None else "scenarios/core/three-step-turn.yaml",
        mode=mode,
        surfaces=tuple(SURFACE_READOUTS),
    )
    if mode in loaded.expect_lines:  # as the runner records it
        history.meta["expect_line"] = loaded.expect_lines[mode]
    last = len(loaded.scenario.steps)
    previous_live: dict[str, str] = {}
    for position, step in enumerate(loaded.scenario.steps):
        step.apply(state)
        expected = state.display()
        readings: dict[str, dict[str, Reading]] = {}
        for surface, names in SURFACE_READOUTS.items():
            row: dict[str, Reading] = {}
            for name in names:
                truth = expected[name]
                held = name in frozen and position + 1 < last
                live = previous_live.get(name, truth) if held else truth
                moved = name in previous_live and previous_live[name] != live
                row[name] = Reading(
                    live=live,
                    reload=truth,
                    expected=truth,
                    latency_ms=(8.0 + 3.5 * position + len(name)) if moved else None,
                )
                previous_live[name] = live
            readings[surface] = row
        history.checkpoints.append(
            Checkpoint(
                index=position + 1,
                line=loaded.step_lines[position],
                label=step.label(),
                readings=readings,
            )
        )
    return history


def _result(loaded: LoadedScenario, mode: FixMode, history: History, seconds: float) -> RunResult:
    anomalies = check_history(history)
    readouts = {surface: set(history.readouts_on(surface)) for surface in history.surfaces}
    verdict = judge(
        history.scenario,
        mode,
        anomalies,
        loaded.scenario.expectation(mode),
        readouts,
        error=history.error,
    )
    return RunResult(
        loaded=loaded,
        mode=mode,
        history=history,
        anomalies=anomalies,
        verdict=verdict,
        staleness=summarize_staleness(history),
        artifacts=Path(f".freshness/runs/{history.scenario[:20]}-{mode}-0001"),
        seconds=seconds,
    )


@pytest.fixture
def make_history(loaded: LoadedScenario) -> MakeHistory:
    def make(
        mode: str = "none",
        frozen: Collection[str] | None = None,
        scenario: str | None = None,
        path: str | None = None,
    ) -> History:
        chosen = FROZEN_BY_MODE[mode] if frozen is None else frozen
        return _history(loaded, mode, chosen, scenario=scenario, path=path)

    return make


@pytest.fixture
def make_result(loaded: LoadedScenario, make_history: MakeHistory) -> MakeResult:
    """A judged run in ``mode`` whose history freezes ``frozen`` (by default: what the mode
    really leaves frozen, so that the verdict is caught or pass)."""

    def make(
        mode: FixMode = "none",
        frozen: Collection[str] | None = None,
        *,
        scenario: str | None = None,
        path: str | None = None,
        error: str | None = None,
        seconds: float = 1.25,
    ) -> RunResult:
        history = make_history(mode, frozen, scenario, path)
        if error is not None:
            history.error = error
        return _result(loaded, mode, history, seconds)

    return make


@pytest.fixture
def matrix_results(make_result: MakeResult) -> list[RunResult]:
    """The four fix modes as the reference app really behaves: none and client caught, server
    and both pass."""
    return [make_result(mode) for mode in ("none", "client", "server", "both")]


@pytest.fixture
def mixed_results(make_result: MakeResult) -> list[RunResult]:
    """One of every status: caught, pass, failed (server regressed), missed (the bug did not
    show in mode none of a hostile-named scenario) and an error."""
    hostile = "<script>alert(1)</script>"
    return [
        make_result("none"),
        make_result("client"),
        make_result("server", frozen={"session.cost"}),
        make_result("both"),
        make_result("none", frozen=set(), scenario=hostile, path=f"scenarios/{hostile}.yaml"),
        make_result(
            "server",
            scenario="crashes",
            path="scenarios/crashes.yaml",
            error="TargetError: POST /session answered 500",
        ),
    ]
