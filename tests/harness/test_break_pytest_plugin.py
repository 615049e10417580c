"""Plugin options that ran scenarios on no surface at all, and counted them passed."""

from __future__ import annotations

from pathlib import Path

import pytest

SCENARIO = Path("scenarios/core/three-step-turn.yaml").resolve()


def test_an_empty_surface_list_is_a_usage_error_not_a_pass(pytester: pytest.Pytester) -> None:
    # `--freshness-surface=` read no surface: mode none, which must catch the bug, passed.
    pytester.mkdir("scenarios")
    (pytester.path / "scenarios" / "turn.yaml").write_text(SCENARIO.read_text())

    result = pytester.runpytest_subprocess(
        "-q", "--freshness-mode=none", "--freshness-surface=", "-p", "no:cacheprovider"
    )

    assert result.ret != 0
    assert "passed" not in result.stdout.str()
    assert "--freshness-surface" in result.stdout.str() + result.stderr.str()


def test_a_mode_named_twice_is_one_item(pytester: pytest.Pytester) -> None:
    pytester.mkdir("scenarios")
    (pytester.path / "scenarios" / "turn.yaml").write_text(SCENARIO.read_text())

    result = pytester.runpytest_subprocess("--collect-only", "-q", "--freshness-mode=none,none")

    assert result.stdout.str().count("scenarios/turn.yaml::mode=none") == 1


def test_a_scenario_for_other_surfaces_is_skipped_not_passed(pytester: pytest.Pytester) -> None:
    pytester.mkdir("scenarios")
    web_only = SCENARIO.read_text().replace("expect:\n", "surfaces: [web]\nexpect:\n", 1)
    (pytester.path / "scenarios" / "turn.yaml").write_text(web_only)

    result = pytester.runpytest_subprocess(
        "-q", "-rs", "--freshness-mode=none", "--freshness-surface=store", "-p", "no:cacheprovider"
    )

    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*applies to web only*"])
