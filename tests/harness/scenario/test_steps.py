"""The arithmetic of step kinds, pure: what each step does to the scenario's expected readouts."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.expected import ExpectedState
from harness.scenario.loader import LoadedScenario, load_scenario

HEAD = """\
version: 1
about: Step arithmetic.
models:
  paid: {context: 100000, price: {input: 3.0, output: 15.0}}
  local: {context: 20000}
sessions:
  main: {title: Work, model: paid}
  other: {title: Other, model: paid}
expect: {none: pass, client: pass, server: pass, both: pass}
steps:
  - open: main
"""


def load(steps: str, tmp_path: Path) -> LoadedScenario:
    path = tmp_path / "s.yaml"
    path.write_text(HEAD + steps)
    return load_scenario(path)


def play(steps: str, tmp_path: Path) -> ExpectedState:
    loaded = load(steps, tmp_path)
    state = ExpectedState.for_scenario(loaded.scenario)
    for step in loaded.scenario.steps:
        step.apply(state)
    return state


def test_repeat_on_a_model_step_writes_it_out(tmp_path: Path) -> None:
    state = play(
        """\
  - prompt:
      text: go
      model_steps:
        - {tool: echo, usage: {input: 10000, output: 1000}, repeat: 3}
        - {usage: {input: 1000}}
  - step: {count: 3}
""",
        tmp_path,
    )

    assert state.display()["sidebar.cost"] == "$0.14"
    assert len(state.sessions["main"].pending) == 1


def test_a_repeat_block_applies_its_steps_that_many_times(tmp_path: Path) -> None:
    loaded = load(
        """\
  - repeat:
      times: 4
      steps:
        - prompt: {text: go, model_steps: [{usage: {input: 1000, output: 100}}]}
        - finish
""",
        tmp_path,
    )
    state = ExpectedState.for_scenario(loaded.scenario)
    for step in loaded.scenario.steps:
        step.apply(state)

    assert loaded.scenario.steps[1].label() == "repeat x4"
    assert state.sessions["main"].steps_done == 4
    assert state.display()["sidebar.tokens"] == "1,100"
    assert state.display()["session.tokens"] == "4,400"


def test_a_repeat_block_that_cannot_happen_names_its_line(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        load("  - repeat: {times: 2, steps: [step]}\n", tmp_path)

    assert caught.value.line == 12


def test_a_turn_on_an_unpriced_model_makes_a_priced_total_unknown(tmp_path: Path) -> None:
    state = play(
        """\
  - prompt: {text: a, model_steps: [{usage: {input: 10000}}]}
  - finish
  - prompt: {text: b, model: local, model_steps: [{usage: {input: 5000}}]}
  - finish
""",
        tmp_path,
    )

    shown = state.display()
    assert shown["sidebar.cost"] == "unknown"
    # Percent follows the model of the last message, not the session's default.
    assert shown["sidebar.percent"] == "25%"


def test_a_prompt_on_an_unknown_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        load("  - prompt: {text: a, model: gone, model_steps: [{usage: {input: 1}}]}\n", tmp_path)

    assert "unknown model 'gone'" in caught.value.message


def test_revert_drops_the_last_turn_from_context_but_not_from_spend(tmp_path: Path) -> None:
    state = play(
        """\
  - prompt: {text: a, model_steps: [{usage: {input: 10000}}]}
  - finish
  - prompt: {text: b, model_steps: [{usage: {input: 30000}}, {usage: {input: 40000}}]}
  - finish
  - revert
""",
        tmp_path,
    )

    shown = state.display()
    assert shown["sidebar.tokens"] == "10,000"
    assert shown["sidebar.percent"] == "10%"
    assert shown["sidebar.cost"] == "$0.24"
    assert shown["session.tokens"] == "80,000"


def test_reverting_every_turn_leaves_no_context(tmp_path: Path) -> None:
    state = play(
        """\
  - prompt: {text: a, model_steps: [{usage: {input: 10000}}]}
  - finish
  - revert
""",
        tmp_path,
    )

    assert state.display()["sidebar.tokens"] == "0"
    assert state.display()["sidebar.percent"] == "—"
    assert state.display()["sidebar.cost"] == "$0.03"


def test_revert_needs_an_idle_session_with_a_turn(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no turn to revert"):
        load("  - revert\n", tmp_path)
    with pytest.raises(ScenarioError, match="before `revert`"):
        load("  - prompt: {text: a, model_steps: [{usage: {input: 1}}]}\n  - revert\n", tmp_path)


def test_compaction_bills_the_summary_and_context_falls_to_it(tmp_path: Path) -> None:
    state = play(
        """\
  - prompt: {text: a, model_steps: [{usage: {input: 60000}}]}
  - finish
  - compact: {usage: {input: 61000, output: 2000}}
""",
        tmp_path,
    )

    shown = state.display()
    assert shown["sidebar.tokens"] == "63,000"
    assert shown["sidebar.cost"] == "$0.39"
    # The next turn's context follows the newest message again; a revert leaves the summary.
    state.start_turn(None, [])
    state.revert(None)
    assert state.display()["sidebar.tokens"] == "63,000"


FAMILY = """\
version: 1
about: Subagents.
models:
  paid: {context: 100000, price: {input: 3.0, output: 15.0}}
sessions:
  main: {title: Work, model: paid}
  scout: {title: Scout, model: paid, parent: main}
expect: {none: pass, client: pass, server: pass, both: pass}
steps:
  - open: main
  - prompt:
      text: go
      model_steps:
        - {tool: task, usage: {input: 10000}}
        - {session: scout, usage: {input: 20000}}
        - {usage: {input: 5000}}
"""


def test_a_subagents_steps_bill_its_child_and_roll_up_into_the_family(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(FAMILY + "  - step: {count: 2}\n")
    loaded = load_scenario(path)
    state = ExpectedState.for_scenario(loaded.scenario)
    for step in loaded.scenario.steps:
        step.apply(state)

    shown = state.display()
    assert shown["sidebar.cost"] == "$0.03"
    assert shown["sidebar.tokens"] == "10,000"  # the parent's context is its own
    assert shown["sidebar.family.cost"] == "$0.09"
    state.finish(None)
    state.open_session("scout")
    assert state.display()["sidebar.cost"] == "$0.06"
    assert state.display()["sidebar.family.cost"] == "$0.06"


def test_a_child_cannot_be_opened_before_its_subagent_ran(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(FAMILY + "  - open: scout\n")
    with pytest.raises(ScenarioError, match="does not exist until"):
        load_scenario(path)


def test_a_step_billed_to_a_session_that_is_not_a_child_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(FAMILY.replace("parent: main", "parent: null"))
    with pytest.raises(ScenarioError, match="not a child session"):
        load_scenario(path)


def test_deleting_a_session_shrinks_the_list_and_shows_the_list_readout(tmp_path: Path) -> None:
    state = play("  - disconnect\n  - delete_session: other\n  - reconnect\n", tmp_path)

    assert "list" in state.shows
    assert state.display()["sessions.count"] == "1"
    assert state.sessions["other"].deleted


def test_the_open_session_cannot_be_deleted_nor_a_deleted_one_opened(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="is open; open another"):
        load("  - delete_session: main\n", tmp_path)
    with pytest.raises(ScenarioError, match="was deleted"):
        load("  - delete_session: other\n  - open: other\n", tmp_path)


def test_scenarios_without_deletions_or_subagents_show_no_optional_readouts(
    tmp_path: Path,
) -> None:
    state = play("  - disconnect\n  - reconnect\n", tmp_path)

    assert state.shows == frozenset()
    assert "sessions.count" not in state.display()


def test_a_restart_cuts_the_turn_at_the_held_step_which_is_never_billed(tmp_path: Path) -> None:
    state = play(
        """\
  - prompt: {text: a, model_steps: [{usage: {input: 10000}}, {usage: {input: 90000}}]}
  - step
  - restart_server
  - attach_client
""",
        tmp_path,
    )

    assert state.display()["sidebar.cost"] == "$0.03"
    assert not state.turn_running("main")


def test_a_restart_with_steps_beyond_the_held_one_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="write it as the turn's last"):
        load(
            "  - prompt: {text: a, model_steps: [{usage: {input: 1}, repeat: 3}]}\n"
            "  - step\n  - restart_server\n",
            tmp_path,
        )


def test_another_writer_adds_a_whole_turn_to_the_session(tmp_path: Path) -> None:
    state = play(
        "  - external_write: {text: a, model_steps: [{usage: {input: 10000}, repeat: 2}]}\n",
        tmp_path,
    )

    assert state.display()["sidebar.cost"] == "$0.06"
    assert not state.turn_running("main")


def test_another_writer_waits_for_the_running_turn(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="before another process writes"):
        load(
            "  - prompt: {text: a, model_steps: [{usage: {input: 1}}]}\n"
            "  - external_write: {session: other, text: b, model_steps: [{usage: {input: 1}}]}\n",
            tmp_path,
        )


def test_event_faults_change_no_arithmetic_and_name_a_real_event_type(tmp_path: Path) -> None:
    state = play("  - duplicate_event: session.updated\n  - delay_event: message.updated\n",
                 tmp_path)

    assert state.display()["sidebar.cost"] == "$0.00"
    with pytest.raises(ScenarioError):
        load("  - delay_event: not an event\n", tmp_path)
