"""The pytest plugin, run inside a real pytest session (pytester)."""

from __future__ import annotations

from pathlib import Path

import pytest

SCENARIO = Path("scenarios/core/three-step-turn.yaml").resolve()


def test_a_scenario_file_becomes_one_item_per_fix_mode(pytester: pytest.Pytester) -> None:
    pytester.mkdir("scenarios")
    (pytester.path / "scenarios" / "turn.yaml").write_text(SCENARIO.read_text())

    result = pytester.runpytest_subprocess("--collect-only", "-q")

    result.stdout.fnmatch_lines(
        [f"scenarios/turn.yaml::mode={mode}" for mode in ("none", "client", "server", "both")]
    )


def test_yaml_outside_the_scenario_pattern_is_left_alone(pytester: pytest.Pytester) -> None:
    pytester.mkdir("fixtures")
    (pytester.path / "fixtures" / "broken.yaml").write_text("version: [\n")

    result = pytester.runpytest_subprocess("--collect-only", "-q")

    assert "broken.yaml" not in result.stdout.str()


def test_a_broken_scenario_fails_collection_with_its_line(pytester: pytest.Pytester) -> None:
    pytester.mkdir("scenarios")
    broken = SCENARIO.read_text().replace("  - step\n", "  - leap\n", 1)
    (pytester.path / "scenarios" / "broken.yaml").write_text(broken)

    result = pytester.runpytest_subprocess("-q")

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*broken.yaml:19: steps*each step is one of*", "*- leap*"])


def test_a_missed_expectation_fails_with_the_anomaly_text(pytester: pytest.Pytester) -> None:
    pytester.mkdir("scenarios")
    wrong = SCENARIO.read_text().replace(
        "  server: pass", "  server:\n    - FROZEN-UNTIL-RELOAD: [sidebar.cost]"
    )
    (pytester.path / "scenarios" / "wrong.yaml").write_text(wrong)

    result = pytester.runpytest_subprocess(
        "-q", "--freshness-mode=server", "--freshness-surface=store", "-p", "no:cacheprovider"
    )

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*FAILED scenarios/wrong.yaml::mode=server*",
            "*MISSED  expected FROZEN-UNTIL-RELOAD on sidebar.cost (store)*",
        ]
    )


def test_an_expected_failure_caught_passes(pytester: pytest.Pytester) -> None:
    pytester.mkdir("scenarios")
    (pytester.path / "scenarios" / "turn.yaml").write_text(SCENARIO.read_text())

    result = pytester.runpytest_subprocess(
        "-q", "--freshness-mode=none", "--freshness-surface=store,protocol", "-p", "no:cacheprovider"
    )

    result.assert_outcomes(passed=1)


def test_unknown_surface_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.mkdir("scenarios")
    (pytester.path / "scenarios" / "turn.yaml").write_text(SCENARIO.read_text())

    result = pytester.runpytest_subprocess("-q", "--freshness-surface=hologram")

    assert result.ret != 0
    assert "unknown surface hologram" in result.stdout.str() + result.stderr.str()
