"""The benchmark's own scenario: one turn of many model steps, a checkpoint after each.

Generated rather than shipped as a file so that the step count is a flag; the text is ordinary
scenario YAML, written beside the results, so `freshness run` can replay the exact same file.
"""

from __future__ import annotations

from pathlib import Path

from harness.scenario.loader import LoadedScenario, load_scenario

__all__ = ["many_steps_yaml", "write_many_steps"]


def many_steps_yaml(steps: int) -> str:
    """`steps` model steps in one turn; every step but the last calls a tool, so the turn goes
    on. Usage differs per step so every readout moves at every checkpoint (a readout that does not
    move has no latency to measure)."""
    if steps < 1:
        raise ValueError(f"a benchmark turn needs at least one model step, got {steps}")
    lines = [
        "version: 1",
        "about: Benchmark - one long turn; every released step moves tokens, percent and cost.",
        "models:",
        "  paid:",
        "    context: 1000000",
        "    price: {input: 3.00, output: 15.00, cache_read: 0.30, cache_write: 3.75}",
        "sessions:",
        "  main: {title: Benchmark turn, model: paid}",
        "steps:",
        "  - open: main",
        "  - prompt:",
        "      text: Work through the benchmark",
        "      model_steps:",
    ]
    for index in range(steps):
        tool = ", tool: echo" if index < steps - 1 else ""
        # Input grows by 1,000 a step: occupancy (tokens, percent) and spend change every time.
        usage = f"{{input: {10_000 + 1_000 * index}, output: {200 + index}}}"
        lines.append(f"        - {{text: Step {index + 1}{tool}, usage: {usage}}}")
    lines += ["  - step"] * steps
    lines += [
        "  - finish",
        "expect:",
        "  none:",
        '    - FROZEN-UNTIL-RELOAD: ["*.cost", session.tokens]',
        "  client:",
        "    - FROZEN-UNTIL-RELOAD: [sessions.cost, footer.cost, session.cost, session.tokens]",
        "  server: pass",
        "  both: pass",
        "expect_targets:",
        "  opencode: pass",
        "  kilo:",
        '    - FROZEN-UNTIL-RELOAD: ["session.*"]',
    ]
    return "\n".join(lines) + "\n"


def write_many_steps(folder: Path, steps: int) -> LoadedScenario:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"bench-{steps}-steps.yaml"
    path.write_text(many_steps_yaml(steps), encoding="utf-8")
    return load_scenario(path)
