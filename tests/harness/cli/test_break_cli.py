"""Option combinations that ran the same thing twice, or read a surface twice as one."""

from __future__ import annotations

from pathlib import Path

from harness.cli import _parser
from harness.scenario.loader import discover

SCENARIO = Path("scenarios/core/three-step-turn.yaml")


def test_a_surface_or_mode_named_twice_is_read_once() -> None:
    # `--surface store,store` attached two store surfaces under one name: one overwrote the
    # other's readings and every oracle ran over the surface twice.
    args = _parser().parse_args(
        ["run", "--surface", "store,protocol,store", "--mode", "none,none", "--report", "json,json"]
    )

    assert args.surface == ["store", "protocol"]
    assert args.mode == ["none"]
    assert args.report == ["json"]


def test_a_file_also_inside_a_folder_given_is_one_scenario() -> None:
    found = list(discover([SCENARIO, SCENARIO.parent, Path("./") / SCENARIO]))

    assert found.count(SCENARIO) == 1
    assert len(found) == len({p.resolve() for p in found})
