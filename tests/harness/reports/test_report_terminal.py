"""The terminal report: matrix words, house-style failures, staleness and the summary line."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from harness.reports import print_report, render_matrix
from harness.runner import RunResult

MakeResult = Callable[..., RunResult]


def _printed(
    results: list[RunResult], verbose: bool = False, written: dict[str, Path] | None = None
) -> str:
    console = Console(record=True, width=160, color_system=None)
    print_report(results, console, verbose, written=written)
    return console.export_text()


def test_matrix_names_every_surface_with_a_word_for_its_status(
    matrix_results: list[RunResult],
) -> None:
    console = Console(record=True, width=160, color_system=None)
    console.print(render_matrix(matrix_results))
    text = console.export_text()

    assert "mode=none" in text
    assert "mode=both" in text
    assert "store ✓ caught" in text
    assert "protocol ✓ caught" in text
    assert "store ✓ pass" in text
    assert "FAIL" not in text
    assert "MISSED" not in text


def test_a_log_gets_the_whole_matrix_however_narrow_rich_thinks_it_is(
    make_result: MakeResult,
) -> None:
    # Not a terminal (a CI log, a pipe): Rich assumes 80 columns and used to crop the matrix
    # there, or squeeze the scenario column to nothing.
    name = "reconnect-resyncs-past-the-buffer"
    matrix_results = [
        make_result(mode, scenario=name, path=f"scenarios/library/{name}.yaml")
        for mode in ("none", "client", "server", "both")
    ]
    log = io.StringIO()
    print_report(matrix_results, Console(file=log, width=80, color_system=None))
    lines = log.getvalue().splitlines()
    header = next(line for line in lines if "mode=none" in line)

    assert "mode=both" in header
    assert "scenario" in header
    assert len(header) > 80
    # Every row names its scenario in full: the squeezed table had a column of width zero.
    for result in matrix_results:
        assert any(line.startswith(f"│ {result.history.scenario} ") for line in lines)


def test_a_narrow_terminal_gets_a_line_per_mode_with_every_scenario_named(
    matrix_results: list[RunResult],
) -> None:
    # tox runs commands in an 80-column pseudo-terminal: the table squeezed to that width
    # dropped the scenario column to nothing.
    screen = io.StringIO()
    console = Console(file=screen, width=60, color_system=None, force_terminal=True)
    print_report(matrix_results, console)
    lines = screen.getvalue().splitlines()

    assert max(len(line) for line in lines) <= 60
    names = {result.history.scenario for result in matrix_results}
    assert names <= set(lines)
    assert any(line.startswith("  mode=none     store ✓ caught") for line in lines)


def test_a_wide_terminal_gets_the_table(matrix_results: list[RunResult]) -> None:
    screen = io.StringIO()
    print_report(matrix_results, Console(file=screen, width=200, color_system=None,
                                         force_terminal=True))

    assert "┃ mode=none" in screen.getvalue()


def test_a_mode_that_should_fail_but_passes_reads_missed_with_the_pairs_it_missed(
    make_result: MakeResult,
) -> None:
    missed = make_result("none", frozen=set())

    text = _printed([missed])

    assert "store ✗ MISSED" in text
    assert "FAILED scenarios/core/three-step-turn.yaml::mode=none" in text
    assert (
        "expected FROZEN-UNTIL-RELOAD on sidebar.cost (store) but the run never showed it:"
        " either the harness did not catch the bug this mode reproduces, or the expectation at"
        " scenarios/core/three-step-turn.yaml:26 no longer says what this mode does." in text
    )
    assert "1 run: 0 passed, 0 expected failures caught, 1 failed" in text


def test_an_unexpected_anomaly_fails_in_house_style(make_result: MakeResult) -> None:
    regressed = make_result("server", frozen={"sidebar.cost"})

    text = _printed([regressed])
    lines = text.splitlines()
    start = lines.index("FAILED scenarios/core/three-step-turn.yaml::mode=server")

    assert lines[start + 1] == "FROZEN-UNTIL-RELOAD  sidebar.cost  checkpoints 3-7 (store)"
    assert lines[start + 2].startswith("  also: ")
    assert "LOCKSTEP-BROKEN" in lines[start + 2]
    assert "  Then: sidebar.tokens, sidebar.percent advanced over checkpoints 3-7" in text
    assert "  Witness: cp 3 (line 19). Artifacts: .freshness/runs/" in text
    assert (
        "UNEXPECTED for mode=server: FROZEN-UNTIL-RELOAD(sidebar.cost) on store. The expectation"
        " at scenarios/core/three-step-turn.yaml:30 does not name it: a regression, or, if this"
        " is what the run should give, write there"
        " `server: [{FROZEN-UNTIL-RELOAD: [sidebar.cost]}]`" in text
    )
    assert "store ✗ FAIL" in text


def test_caught_runs_get_one_line_only_when_verbose(matrix_results: list[RunResult]) -> None:
    quiet = _printed(matrix_results)
    verbose = _printed(matrix_results, verbose=True)

    assert "FAILED" not in quiet
    assert "caught scenarios/core/three-step-turn.yaml::mode=none" not in quiet
    caught = [line for line in verbose.splitlines() if line.startswith("caught ")]
    assert len(caught) == 2
    assert "FROZEN-UNTIL-RELOAD(sidebar.cost) on store" in caught[0]
    assert "4 runs: 2 passed, 2 expected failures caught, 0 failed" in verbose


def test_a_run_that_did_not_finish_is_an_error_and_counts_as_failed(
    make_result: MakeResult,
) -> None:
    crashed = make_result("server", error="TargetError: POST /session answered 500")

    text = _printed([crashed])

    assert "✗ error" in text
    assert "ERROR  the run did not finish: TargetError: POST /session answered 500." in text
    assert "1 run: 0 passed, 0 expected failures caught, 1 failed (1 did not finish)" in text


def test_staleness_table_and_written_reports_end_the_report(
    matrix_results: list[RunResult],
) -> None:
    text = _printed(matrix_results, written={"html": Path("out/report.html")})
    tail = text.rstrip().splitlines()

    assert "p50 ms" in text
    assert "p99 ms" in text
    assert "max ms" in text
    assert any("store" in line and "sidebar.cost" in line for line in text.splitlines())
    assert tail[-2].startswith("4 runs: ")
    assert tail[-1] == "HTML report: out/report.html"


def test_scenario_text_is_never_read_as_rich_markup(make_result: MakeResult) -> None:
    result = make_result(
        "none", frozen=set(), scenario="[bold red]boom[/]", path="s/[red]x[/].yaml"
    )

    text = _printed([result])

    assert "[bold red]boom[/]" in text
    assert "FAILED s/[red]x[/].yaml::mode=none" in text
