"""JUnit XML: one testcase per scenario and mode; caught passes, missed and failed fail."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from harness.reports import write_junit
from harness.runner import RunResult

MakeResult = Callable[..., RunResult]


def _cases(path: Path) -> dict[tuple[str | None, str | None], ET.Element]:
    root = ET.parse(path).getroot()
    return {(c.get("classname"), c.get("name")): c for c in root.iter("testcase")}


def test_caught_passes_with_a_note_and_a_failure_carries_the_explanation(
    mixed_results: list[RunResult], tmp_path: Path
) -> None:
    path = write_junit(mixed_results, tmp_path / "junit.xml")
    root = ET.parse(path).getroot()
    [suite] = root.findall("testsuite")
    cases = _cases(path)

    assert suite.get("name") == "freshness"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("6", "2", "1")
    core = "scenarios/core/three-step-turn.yaml"

    caught = cases[(core, "mode=none")]
    assert caught.find("failure") is None
    assert caught.find("error") is None
    note = caught.findtext("system-out") or ""
    assert "FROZEN-UNTIL-RELOAD(sidebar.cost) on store" in note

    assert list(cases[(core, "mode=both")]) == []

    failed = cases[(core, "mode=server")].find("failure")
    assert failed is not None
    assert failed.get("type") == "fail"
    assert failed.get("message") == "FROZEN-UNTIL-RELOAD  session.cost  checkpoints 3-7 (protocol)"
    assert (failed.text or "").startswith(f"FAILED {core}::mode=server\nFROZEN-UNTIL-RELOAD")
    assert "Witness: cp 3 (line 19)" in (failed.text or "")


def test_missed_is_a_failure_and_a_crash_is_an_error(
    mixed_results: list[RunResult], tmp_path: Path
) -> None:
    cases = _cases(write_junit(mixed_results, tmp_path / "junit.xml"))

    missed = cases[("scenarios/<script>alert(1)</script>.yaml", "mode=none")].find("failure")
    assert missed is not None
    assert missed.get("type") == "missed"
    assert "the harness did not catch the bug this mode reproduces" in (missed.text or "")

    crashed = cases[("scenarios/crashes.yaml", "mode=server")]
    error = crashed.find("error")
    assert crashed.find("failure") is None
    assert error is not None
    assert error.get("message") == "the run did not finish: TargetError: POST /session answered 500"


def test_control_characters_from_an_error_do_not_break_the_xml(
    make_result: MakeResult, tmp_path: Path
) -> None:
    crashed = make_result("none", error="stderr said \x1b[31mboom\x00")

    path = write_junit([crashed], tmp_path / "junit.xml")

    error = ET.parse(path).getroot().find("testsuite/testcase/error")
    assert error is not None
    assert "boom" in (error.get("message") or "")
