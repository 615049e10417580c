"""Loading scenarios: every mistake is reported as path:line with the line that is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.scenario.loader import load_scenario
from harness.scenario.steps import CheckStep, PromptStep, StepStep

GOOD = """\
version: 1
about: A paid three-step turn whose cost freezes.
models:
  paid:
    context: 100000
    price: {input: 3.0, output: 15.0}
sessions:
  main: {title: Work, model: paid}
steps:
  - open: main
  - prompt:
      text: go
      model_steps:
        - {tool: echo, usage: {input: 12000, output: 1000}}
        - {usage: {input: 14000, output: 1000}}
  - step
  - check: {sidebar.cost: "$0.05", sidebar.percent: "13%"}
  - finish
expect:
  none:
    - FROZEN-UNTIL-RELOAD: [sidebar.cost]
  client: pass
  server: pass
  both: pass
"""


def load(text: str, tmp_path: Path) -> object:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return load_scenario(path)


def error_for(text: str, tmp_path: Path) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        load(text, tmp_path)
    return caught.value


def test_a_good_scenario_loads_with_the_line_of_every_step(tmp_path: Path) -> None:
    loaded = load(GOOD, tmp_path)

    assert loaded.name == "s"  # type: ignore[attr-defined]
    assert loaded.step_lines == (10, 11, 16, 17, 18)  # type: ignore[attr-defined]
    steps = loaded.scenario.steps  # type: ignore[attr-defined]
    assert isinstance(steps[1], PromptStep)
    assert isinstance(steps[2], StepStep)
    assert isinstance(steps[3], CheckStep)


@pytest.mark.parametrize(
    ("change", "line", "words"),
    [
        (("input: 12000", "input: -3"), 14, "greater than or equal to 0"),
        (("  - step\n", "  - stride\n"), 16, "each step is one of"),
        (("context: 100000", "context: 100000\n    colour: red"), 6, "unknown key"),
        (("model: paid}", "model: free}"), 8, "which `models` does not define"),
        (('"$0.05"', '"$0.07"'), 17, "the scenario's usage and prices give '$0.05'"),
        (("  client: pass\n", ""), 19, "missing: client"),
        (("  - finish\n", "  - finish\n  - step\n"), 19, "the turn has 0 left"),
        (("FROZEN-UNTIL-RELOAD", "FROZEN"), 21, "unknown anomaly code"),
        (("version: 1", "version: 2"), 1, "version"),
        (("  - open: main\n", "  - open: nobody\n"), 10, "unknown session 'nobody'"),
        (("sidebar.percent", "sidebar.percentage"), 17, "unknown readout"),
    ],
)
def test_each_mistake_names_its_line(
    tmp_path: Path, change: tuple[str, str], line: int, words: str
) -> None:
    error = error_for(GOOD.replace(*change, 1), tmp_path)

    assert error.line == line, str(error)
    assert words in error.message
    assert str(error).startswith(f"{tmp_path / 's.yaml'}:{line}: ")


def test_an_argument_dedented_out_of_its_step_is_named(tmp_path: Path) -> None:
    text = GOOD.replace("      model_steps:\n        - {tool", "    model_steps:\n      - {tool")
    text = text.replace("        - {usage: {input: 14000", "      - {usage: {input: 14000")

    error = error_for(text, tmp_path)

    assert error.line == 11, str(error)
    assert "this one has 2 (prompt, model_steps)" in error.message
    assert "should `model_steps` be indented under `prompt:`?" in error.message


def test_every_problem_of_one_pass_is_listed_each_at_its_line(tmp_path: Path) -> None:
    text = (
        GOOD.replace("sessions:", "sesions:")
        .replace("input: 12000", "input: -3")
        .replace("  client: pass", "  client: pas")
    )

    error = error_for(text, tmp_path)
    lines = str(error).splitlines()

    assert lines == [
        f"{tmp_path / 's.yaml'}:1: sessions: required key is missing",
        f"{tmp_path / 's.yaml'}:7: sesions: unknown key (check its spelling, or the schema:"
        " `freshness schema`)",
        f"{tmp_path / 's.yaml'}:14: steps[1].prompt.model_steps[0].usage.input: Input should be"
        " greater than or equal to 0",
        f"{tmp_path / 's.yaml'}:22: expect.client: write `pass`, or a list of the anomalies it"
        " must raise (`- FROZEN-UNTIL-RELOAD: [sidebar.cost]`)",
    ]
    assert "more problem" not in str(error)


@pytest.mark.parametrize(
    ("expectation", "words"),
    [
        # Readouts this scenario never shows: the expectation would require nothing, so a run
        # that cannot show the bug read as caught, and a wrong `server:` read as pass.
        ("[{FROZEN-UNTIL-RELOAD: [sidebar.family.cost]}]", "shown only by a scenario with subagents"),
        ("[{WRONG-TOTAL: [sessions.count]}]", "shown only by a scenario that deletes a session"),
        ("[{FROZEN-UNTIL-RELOAD: []}]", "at least 1 item"),
        ("[]", "write `pass`, or a list of the anomalies"),
    ],
)
def test_an_expectation_that_requires_nothing_is_refused(
    tmp_path: Path, expectation: str, words: str
) -> None:
    error = error_for(GOOD.replace("  server: pass", f"  server: {expectation}"), tmp_path)

    assert error.line == 23, str(error)
    assert words in error.message


def test_two_turns_at_once_are_refused_where_the_second_starts(tmp_path: Path) -> None:
    # Each `step` releases the model's next answer whichever session asked: it used to load and
    # then time out at the first step of the second session.
    text = GOOD.replace("  main: {title: Work, model: paid}\n",
                        "  main: {title: Work, model: paid}\n  other: {model: paid}\n")
    text = text.replace("  - step\n", "  - step\n  - prompt:\n      session: other\n"
                        "      text: also\n      model_steps: [{usage: {input: 1}}]\n", 1)

    error = error_for(text, tmp_path)

    assert error.line == 18, str(error)
    assert "a turn is still running in 'main'; `finish` it before prompting 'other'" in error.message


def test_a_scenario_for_no_surface_is_refused(tmp_path: Path) -> None:
    error = error_for(GOOD.replace("expect:", "surfaces: []\nexpect:"), tmp_path)

    assert error.line == 19, str(error)
    assert "surfaces" in error.message


def test_cache_write_over_the_openai_wire_is_refused_where_it_is_written(tmp_path: Path) -> None:
    # The OpenAI chunk has no cache-write field: the tokens would be dropped on the way and
    # every mode would fail WRONG-TOTAL against arithmetic that counted them.
    text = GOOD.replace("{usage: {input: 14000, output: 1000}}",
                        "{usage: {input: 14000, output: 1000, cache_write: 500}}")
    error = error_for(text, tmp_path)
    assert error.line == 15, str(error)
    assert "steps[1].prompt.model_steps[1].usage" not in error.message  # said in words, not paths
    assert "agent: {provider: anthropic}" in error.message

    fixed = text.replace("expect:", "agent: {provider: anthropic}\nexpect:")
    assert load(fixed, tmp_path).scenario.agent.provider == "anthropic"  # type: ignore[attr-defined]


def test_the_error_shows_the_offending_source_line(tmp_path: Path) -> None:
    error = error_for(GOOD.replace("input: 12000", "input: -3"), tmp_path)

    assert "input: -3" in error.with_source()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("version: [1\n", "invalid YAML"),
        ("a: 1\na: 2\n", "duplicate key 'a'"),
        ("a: !!python/object/apply:os.system [echo hi]\n", "unsupported tag"),
        ("a: !!python/name:os.system x\n", "cannot read this value"),
        (
            'a: &a ["x","x","x","x","x","x","x","x","x","x"]\n'
            + "".join(
                f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n"
                for i in range(8)
            ),
            "too many values",
        ),
        ("a:\n" + "".join("  " * depth + "- \n" for depth in range(1, 60)), "nested deeper"),
        ("- just\n- a list\n", "Input should be"),
    ],
)
def test_hostile_files_fail_cleanly(tmp_path: Path, text: str, words: str) -> None:
    error = error_for(text, tmp_path)

    assert words in str(error)


def test_a_file_over_the_size_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    error = error_for("# " + "x" * 1_100_000 + "\n", tmp_path)

    assert "limit" in error.message
    assert error.line == 1


def test_the_shipped_scenarios_all_load() -> None:
    shipped = sorted(Path("scenarios").rglob("*.yaml"))

    assert shipped, "no scenarios shipped"
    for path in shipped:
        load_scenario(path)
