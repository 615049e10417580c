"""The harness's own cost formatting must round as a person reads the amount: half up on the
decimal digits. Binary rounding turned a healthy $0.13 readout into a WRONG-TOTAL."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.display import format_cost
from harness.scenario.loader import load_scenario


@pytest.mark.parametrize(
    ("cost", "shown"),
    [
        (0.005, "$0.01"),
        (0.015, "$0.02"),
        (0.125, "$0.13"),
        (0.145, "$0.15"),
        (1.005, "$1.01"),
        (2.675, "$2.68"),
        (0.1 + 0.2, "$0.30"),
        (1234.565, "$1,234.57"),
        (0.0, "$0.00"),
        (0.004999, "$0.00"),
        (0.001049 + 0.003951, "$0.01"),  # 0.004999999999999999: float noise below a nano-dollar
        (0.00499999, "$0.00"),  # a real amount below the half stays below it
        (1_000_000.0, "$1,000,000.00"),
        (1e-20, "$0.00"),
        (5e14 + 0.125, "$500,000,000,000,000.10"),
        (None, "unknown"),
    ],
)
def test_half_cent_rounds_up_on_the_decimal_digits(cost: float | None, shown: str) -> None:
    assert format_cost(cost) == shown


def test_check_on_a_half_cent_step_agrees_with_what_the_client_shows(tmp_path: Path) -> None:
    # input 125,000 tokens at $1.00/M is exactly $0.125: every reference surface shows $0.13.
    path = tmp_path / "half-cent.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            version: 1
            about: a step costing exactly an eighth of a dollar
            models:
              paid: {context: 1000000, price: {input: 1.00, output: 0}}
            sessions:
              main: {model: paid}
            steps:
              - open: main
              - prompt:
                  text: go
                  model_steps:
                    - {usage: {input: 125000}}
              - finish
              - check: {sidebar.cost: "$0.13"}
            expect: {none: pass, client: pass, server: pass, both: pass}
            """
        ),
        encoding="utf-8",
    )
    load_scenario(path)


def test_amounts_a_hostile_server_could_send_still_format() -> None:
    assert format_cost(1e300).startswith("$1,000,000,")
    assert format_cost(float("inf")) == "$inf"
