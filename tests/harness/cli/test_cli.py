"""The freshness command, run as a user runs it: exit codes, one-line errors, the matrix."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCENARIO = Path("scenarios/core/three-step-turn.yaml")


def freshness(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        check=False,
    )


def test_a_broken_scenario_is_one_line_with_its_line_number_and_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(SCENARIO.read_text().replace("input: 12000", "input: lots"))

    done = freshness("run", str(broken))

    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"freshness: {broken}:16: steps[1].prompt.model_steps[0].usage.input:"
        " Input should be a valid integer"
    ]
    assert "Traceback" not in done.stderr


def test_unknown_mode_is_bad_input() -> None:
    done = freshness("run", "--mode", "sometimes", str(SCENARIO))

    assert done.returncode == 2
    assert "unknown mode sometimes" in done.stderr


def test_schema_is_json_that_validates_a_shipped_scenario() -> None:
    import jsonschema
    import yaml

    done = freshness("schema")
    schema = json.loads(done.stdout)

    jsonschema.validate(yaml.safe_load(SCENARIO.read_text()), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": 1, "steps": "nope"}, schema)


@pytest.mark.parametrize("command", ["schema", "list"])
def test_a_reader_that_leaves_early_is_no_error(command: str) -> None:
    # `freshness schema | head`: the pipe is closed before the command has written.
    child = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None
    assert child.stderr is not None
    child.stdout.close()
    errors = child.stderr.read().decode()
    assert child.wait(timeout=60) == 0, errors
    assert "Traceback" not in errors
    assert "Broken pipe" not in errors


def test_list_shows_each_mode_expectation() -> None:
    done = freshness("list", str(SCENARIO))

    assert done.returncode == 0
    assert "none      FROZEN-UNTIL-RELOAD(*.cost, session.tokens)" in done.stdout
    assert "server    pass" in done.stdout


def test_run_prints_the_matrix_and_counts_the_caught_failure_as_success(tmp_path: Path) -> None:
    done = freshness(
        "run",
        str(SCENARIO.resolve()),
        "--mode",
        "none,server",
        "--report",
        "html,json,junit",
        "--runs-dir",
        str(tmp_path),
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "caught" in done.stdout
    assert "2 runs: 1 passed, 1 expected failure caught, 0 failed" in done.stdout
    [run_dir] = list(tmp_path.iterdir())
    report = json.loads((run_dir / "report.json").read_text())
    statuses = {run["mode"]: run["status"] for run in report["runs"]}
    assert statuses == {"none": "caught", "server": "pass"}
    assert (run_dir / "report.html").read_text().count("<svg") > 0


def test_a_scenario_expecting_a_failure_the_harness_does_not_see_fails_the_run(
    tmp_path: Path,
) -> None:
    # Claim the server fix still leaves the sidebar frozen: the run cannot show that, so the
    # expectation is missed and the command must fail.
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(
        SCENARIO.read_text().replace(
            "  server: pass", "  server:\n    - FROZEN-UNTIL-RELOAD: [sidebar.cost]"
        )
    )

    done = freshness("run", str(wrong), "--mode", "server", "--runs-dir", str(tmp_path / "runs"))

    assert done.returncode == 1
    assert "MISSED" in done.stdout
    assert "FROZEN-UNTIL-RELOAD on sidebar.cost" in done.stdout
    server_line = wrong.read_text().splitlines().index("  server:") + 1
    assert f"the expectation at {wrong}:{server_line} no longer says" in done.stdout


def test_an_unexpected_anomaly_suggests_the_expectation_that_would_state_it(
    tmp_path: Path,
) -> None:
    # A new scenario that says mode none passes: the run shows the bug, and the failure says
    # what to write instead. Written back as suggested, the same run meets its expectation.
    text = SCENARIO.read_text()
    stated = text[text.index("  none:"):text.index("  client:")]
    naive = tmp_path / "naive.yaml"
    naive.write_text(text.replace(stated, "  none: pass\n"))
    args = ("--mode", "none", "--surface", "store,protocol", "--runs-dir", str(tmp_path / "runs"))

    done = freshness("run", str(naive), *args)

    assert done.returncode == 1
    none_line = naive.read_text().splitlines().index("  none: pass") + 1
    [unexpected] = [line for line in done.stdout.splitlines() if line.startswith("UNEXPECTED")]
    assert f"The expectation at {naive}:{none_line} does not name them" in unexpected
    suggestion = unexpected.split("write there `", 1)[1].rstrip("`")
    assert suggestion.startswith("none: [{FROZEN-UNTIL-RELOAD: [")

    naive.write_text(naive.read_text().replace("  none: pass", f"  {suggestion}"))
    again = freshness("run", str(naive), *args)
    assert again.returncode == 0, again.stdout


def test_a_scenario_for_other_surfaces_is_skipped_and_said_not_counted_passed(
    tmp_path: Path,
) -> None:
    web_only = tmp_path / "web-only.yaml"
    web_only.write_text(SCENARIO.read_text().replace("expect:", "surfaces: [web]\nexpect:", 1))
    runs = ("--runs-dir", str(tmp_path / "runs"), "--surface", "store", "--mode", "server")

    alone = freshness("run", str(web_only), *runs)
    assert alone.returncode == 2
    assert "no scenario given applies to store (they apply to web)" in alone.stderr

    beside = freshness("run", str(web_only), str(SCENARIO), *runs)
    assert beside.returncode == 0, beside.stdout
    assert f"skipped {web_only}: it applies to web only" in beside.stdout
    assert "1 run: 1 passed" in beside.stdout


def test_a_runs_dir_that_cannot_hold_runs_is_bad_input(tmp_path: Path) -> None:
    occupied = tmp_path / "a-file"
    occupied.write_text("")

    done = freshness("run", str(SCENARIO), "--mode", "none", "--runs-dir", str(occupied))

    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"freshness: --runs-dir {occupied}: cannot make a run folder there (Not a directory)"
    )


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--port", "99999"], "99999 is not a port (0-65535"),
        (["--port", "0", "--data-dir", "{file}"], "cannot use data folder {file} (Not a directory)"),
    ],
)
def test_serve_refuses_what_it_cannot_use_in_one_line(
    tmp_path: Path, args: list[str], words: str
) -> None:
    occupied = tmp_path / "a-file"
    occupied.write_text("")

    done = freshness("serve", *(a.format(file=occupied) for a in args))

    assert done.returncode == 2
    assert words.format(file=occupied) in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_on_a_port_in_use_says_so(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = freshness("serve", "--port", str(port), "--data-dir", str(tmp_path / "data"))

    assert done.returncode == 2
    assert f"cannot use port {port} (Address already in use)" in done.stderr


def test_list_of_a_folder_without_scenarios_is_bad_input(tmp_path: Path) -> None:
    done = freshness("list", str(tmp_path))

    assert done.returncode == 2
    assert f"{tmp_path}:1: no scenario files found here" in done.stderr


def test_the_console_script_is_installed() -> None:
    assert (
        shutil.which("freshness") is not None
        or Path(sys.executable).with_name("freshness").exists()
    )
