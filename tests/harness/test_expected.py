"""The scenario's own arithmetic against what the reference agent does with odd usage."""

from __future__ import annotations

from pathlib import Path

from harness.runner import run_scenario
from harness.scenario.loader import load_scenario

ZERO_STEP = """\
version: 1
about: A step that reports no usage at all.
models:
  paid: {context: 100000, price: {input: 3.00, output: 15.00}}
sessions:
  main: {title: T, model: paid}
steps:
  - open: main
  - prompt:
      text: first
      model_steps: [{usage: {input: 9000, output: 1000}}]
  - finish
  - prompt:
      text: second
      model_steps:
        - {tool: echo, usage: {input: 12000, output: 1000}}
        - {usage: {}}
  - step
  - check: {sidebar.tokens: "13,000", sidebar.percent: "13%"}
  - finish
  - check: {sidebar.tokens: "10,000", sidebar.percent: "10%", sidebar.cost: "$0.09"}
expect: {none: [{FROZEN-UNTIL-RELOAD: ["*.cost", session.tokens]}], client: [{FROZEN-UNTIL-RELOAD: [sessions.cost, footer.cost, session.cost, session.tokens]}], server: pass, both: pass}
"""


async def test_a_step_without_usage_leaves_its_turn_without_tokens(tmp_path: Path) -> None:
    # The agent's message takes each step's tokens as they are: after a step of none, the
    # context readouts fall back to the previous turn's message (10,000), as the arithmetic
    # says; it used to keep 13,000 and call the healthy agent WRONG-TOTAL.
    path = tmp_path / "zero-step.yaml"
    path.write_text(ZERO_STEP)
    loaded = load_scenario(path)

    result = await run_scenario(loaded, "both", surfaces=("store", "protocol"),
                                runs_dir=tmp_path / "runs")

    assert result.history.error is None
    assert result.verdict.ok, result.anomalies
    final = result.history.checkpoints[-1].readings["store"]
    assert (final["sidebar.tokens"].live, final["sidebar.tokens"].reload) == ("10,000", "10,000")
