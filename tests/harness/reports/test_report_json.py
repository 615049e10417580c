"""The JSON report: plain data that round-trips, with every run's anomalies and history."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from harness.reports import to_json, write_json
from harness.runner import RunResult

MakeResult = Callable[..., RunResult]


def test_json_round_trips_and_names_the_caught_anomaly(
    matrix_results: list[RunResult], tmp_path: Path
) -> None:
    path = write_json(matrix_results, tmp_path / "report.json")
    data = json.loads(path.read_text(encoding="utf-8"))

    assert data == to_json(matrix_results)
    assert data["summary"] == {
        "runs": 4,
        "passed": 2,
        "caught": 2,
        "failed": 0,
        "errors": 0,
        "ok": True,
    }
    none = data["runs"][0]
    assert (none["mode"], none["status"], none["ok"]) == ("none", "caught", True)
    frozen = next(a for a in none["anomalies"] if a["readouts"] == ["sidebar.cost"])
    assert frozen == {
        "code": "FROZEN-UNTIL-RELOAD",
        "oracle": "live_equals_reload",
        "surface": "store",
        "readouts": ["sidebar.cost"],
        "checkpoints": [3, 4, 5, 6, 7],
        "witness": 3,
        "detail": "",
        "implied": frozen["implied"],
    }
    assert {a["code"] for a in frozen["implied"]} == {"WRONG-TOTAL", "LOCKSTEP-BROKEN"}


def test_json_carries_the_full_history_and_the_verdict_per_surface(make_result: MakeResult) -> None:
    missed = make_result("none", frozen=set())

    [run] = to_json([missed])["runs"]

    assert list(run) == [
        "scenario",
        "path",
        "mode",
        "surfaces",
        "status",
        "ok",
        "seconds",
        "error",
        "by_surface",
        "anomalies",
        "missing",
        "unexpected",
        "staleness",
        "checkpoints",
        "meta",
        "artifacts",
    ]
    assert run["status"] == "missed"
    assert run["ok"] is False
    assert {"surface": "store", "code": "FROZEN-UNTIL-RELOAD", "readout": "sidebar.cost"} in run[
        "missing"
    ]
    assert run["by_surface"]["protocol"]["status"] == "missed"
    assert len(run["checkpoints"]) == 8
    third = run["checkpoints"][2]
    assert (third["index"], third["line"], third["label"]) == (3, 19, "step")
    assert third["readings"]["store"]["sidebar.cost"]["reload"] == "$0.05"
    assert run["artifacts"].startswith(".freshness/runs/")


def test_unexpected_anomalies_are_listed_once(make_result: MakeResult) -> None:
    regressed = make_result("server", frozen={"sidebar.cost"})

    [run] = to_json([regressed])["runs"]

    assert run["status"] == "fail"
    assert [(a["code"], a["readouts"]) for a in run["unexpected"]] == [
        ("FROZEN-UNTIL-RELOAD", ["sidebar.cost"])
    ]


def test_the_same_runs_give_byte_identical_json(
    matrix_results: list[RunResult], tmp_path: Path
) -> None:
    first = write_json(matrix_results, tmp_path / "a.json").read_bytes()
    second = write_json(matrix_results, tmp_path / "b.json").read_bytes()

    assert first == second
