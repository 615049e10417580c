"""Scenario files that loaded but could not run: each must be `path:line: message` at load."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.scenario.loader import load_scenario

TEMPLATE = """\
version: 1
about: x
models:
  paid: {{context: 100000, price: {{input: 3.0, output: 15.0}}}}
sessions:
  main: {{title: Work, model: paid}}
  other: {{title: Other, model: paid}}
  kid: {{title: Helper, model: paid, parent: main}}
steps:
{steps}
{tail}expect:
  none:
    - {expected}
  client: pass
  server: pass
  both: pass
"""


def error_for(
    tmp_path: Path,
    steps: str,
    *,
    tail: str = "",
    expected: str = "FROZEN-UNTIL-RELOAD: [sidebar.cost]",
) -> ScenarioError:
    path = tmp_path / "s.yaml"
    path.write_text(TEMPLATE.format(steps=steps, tail=tail, expected=expected), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return caught.value


def test_rename_of_an_unknown_session_is_refused_at_load(tmp_path: Path) -> None:
    # Loaded fine, then the runner died with a ScenarioArithmeticError traceback.
    error = error_for(tmp_path, "  - open: main\n  - rename: {session: nope, title: x}")

    assert error.line == 11
    assert "unknown session 'nope'" in str(error)


def test_rename_before_any_session_is_open_is_refused_at_load(tmp_path: Path) -> None:
    error = error_for(tmp_path, "  - rename: New title")

    assert error.line == 10
    assert "no session is open" in str(error)


def test_rename_of_a_deleted_session_is_refused_at_load(tmp_path: Path) -> None:
    error = error_for(
        tmp_path, "  - open: main\n  - delete_session: other\n  - rename: {session: other, title: x}"
    )

    assert error.line == 12
    assert "deleted" in str(error)


def test_rename_of_a_subagent_session_not_started_yet_is_refused_at_load(tmp_path: Path) -> None:
    error = error_for(tmp_path, "  - open: main\n  - rename: {session: kid, title: x}")

    assert error.line == 11
    assert "subagent" in str(error)


def test_a_prompt_to_a_subagent_session_not_started_yet_is_refused_at_load(
    tmp_path: Path,
) -> None:
    error = error_for(
        tmp_path,
        "  - open: main\n  - prompt: {session: kid, text: go, model_steps: [{usage: {input: 1}}]}",
    )

    assert error.line == 11
    assert "subagent" in str(error)


def test_a_check_before_any_session_is_open_says_so(tmp_path: Path) -> None:
    # Was "unknown readout 'sidebar.tokens'; known: " (an empty list).
    error = error_for(tmp_path, "  - check: {sidebar.tokens: '0'}")

    assert error.line == 10
    assert "no session is open" in str(error)


def test_a_misspelt_scenario_surface_is_refused(tmp_path: Path) -> None:
    # `surfaces: [stroe]` made every run skip the scenario, counted as passed.
    error = error_for(tmp_path, "  - open: main", tail="surfaces: [stroe]\n")

    assert error.line == 11
    assert "unknown surface 'stroe'" in str(error)


@pytest.mark.parametrize("pattern", ["sidebar.cots", "*.price", "Sidebar.cost"])
def test_an_expected_readout_that_names_no_readout_is_refused(
    tmp_path: Path, pattern: str
) -> None:
    # A typo made the expectation require nothing: mode none then passed instead of MISSED.
    error = error_for(tmp_path, "  - open: main", expected=f"FROZEN-UNTIL-RELOAD: ['{pattern}']")

    assert error.line == 13
    assert repr(pattern) in str(error)


def test_glob_patterns_that_name_readouts_still_load(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        TEMPLATE.format(
            steps="  - open: main",
            tail="",
            expected='FROZEN-UNTIL-RELOAD: ["*.cost", "session.*", "sidebar.[ct]*"]',
        ),
        encoding="utf-8",
    )
    load_scenario(path)


def test_nested_repeats_that_multiply_past_any_useful_run_are_refused_quickly(
    tmp_path: Path,
) -> None:
    # 1000 x 1000 x 1000 reloads: the dry run at load took hours instead of failing.
    import time

    inner = "{repeat: {times: 1000, steps: [reload]}}"
    middle = f"{{repeat: {{times: 1000, steps: [{inner}]}}}}"
    started = time.monotonic()
    error = error_for(
        tmp_path, f"  - open: main\n  - repeat: {{times: 1000, steps: [{middle}]}}"
    )

    assert time.monotonic() - started < 5
    assert error.line == 11
    assert "repeat" in str(error)


def test_model_step_repeats_inside_repeat_are_counted_too(tmp_path: Path) -> None:
    prompt = (
        "{prompt: {text: go, model_steps: [{usage: {input: 1}, repeat: 1000}]}}"
    )
    error = error_for(
        tmp_path, f"  - open: main\n  - repeat: {{times: 1000, steps: [{prompt}, finish]}}"
    )

    assert error.line == 11
