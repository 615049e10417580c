"""The HTML report: one offline file, escaped, with a timeline per readout."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from harness.history import Reading
from harness.reports import render_html, write_html
from harness.reports.html import chart_svg
from harness.runner import RunResult

MakeResult = Callable[..., RunResult]


def test_one_chart_per_surface_and_readout_of_every_run(matrix_results: list[RunResult]) -> None:
    page = render_html(matrix_results)

    # store has four readouts and protocol two, in each of the four runs.
    assert page.count("<svg") == 4 * (4 + 2)
    assert 'aria-label="store sidebar.cost: live, after reload and expected by checkpoint"' in page
    assert "<h4>protocol · session.tokens</h4>" in page


def test_the_frozen_stretch_is_shaded_and_labelled(make_result: MakeResult) -> None:
    result = make_result("none")

    frozen = chart_svg(result.history, result.verdict.anomalies, "store", "sidebar.cost")
    moving = chart_svg(result.history, result.verdict.anomalies, "store", "sidebar.tokens")

    # Checkpoints 3-7: one shaded column each, and the code written once over the stretch.
    assert frozen.count("<title>FROZEN-UNTIL-RELOAD at cp") == 5
    assert frozen.count(">FROZEN-UNTIL-RELOAD</text>") == 1
    assert "FROZEN-UNTIL-RELOAD" not in moving
    # Three series, each with a marker at every checkpoint.
    assert frozen.count("<circle") == 8 + 1  # the legend's dot
    assert frozen.count("<polygon") == 8 + 1  # the legend's diamond


def test_step_labels_fit_their_columns(make_result: MakeResult) -> None:
    # Eleven checkpoints in 540px: eleven-character labels ran into each other.
    history = make_result("none").history
    last = history.checkpoints[-1]
    history.checkpoints.extend(
        replace(last, index=last.index + n, label="rename session") for n in (1, 2, 3)
    )
    svg = chart_svg(history, (), "store", "sidebar.cost")
    labels = re.findall(r'<text class="axis step" x="([0-9.]+)"[^>]*>([^<]*)</text>', svg)
    xs = [float(x) for x, _ in labels]
    column = xs[1] - xs[0]

    assert len(labels) == 11
    assert all(len(text) * 6.5 < column for _, text in labels), labels
    assert labels[-1][1].startswith("rena")
    assert labels[-1][1].endswith("…")


def test_an_unknown_value_is_a_gap_not_a_zero(make_result: MakeResult) -> None:
    result = make_result("server")
    checkpoint = result.history.checkpoints[4]
    store = checkpoint.readings["store"]
    store["sidebar.cost"] = Reading(live="unknown", reload="$0.12", expected="$0.12")

    svg = chart_svg(result.history, (), "store", "sidebar.cost")
    live = re.search(r'<g class="s-live">(.*?)</g>', svg)

    assert live is not None
    assert live.group(1).count("<polyline") == 2
    assert live.group(1).count("<circle") == 7
    assert "live shows no number at cp 5" in svg


def test_hostile_scenario_text_is_escaped_everywhere(
    mixed_results: list[RunResult], tmp_path: Path
) -> None:
    page = write_html(mixed_results, tmp_path / "report.html").read_text(encoding="utf-8")

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page


def test_the_page_needs_nothing_from_the_network(mixed_results: list[RunResult]) -> None:
    page = render_html(mixed_results)

    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page)
    assert "url(" not in page
    assert "@import" not in page
    assert "http://" not in page
    assert "https://" not in page
    assert "default-src 'none'" in page


def test_the_page_leads_with_what_broke(mixed_results: list[RunResult]) -> None:
    page = render_html(mixed_results)

    assert "6 runs: 1 passed, 2 expected failures caught, 3 failed (1 did not finish)" in page
    assert page.index("st-missed") < page.index("<h2>Runs</h2>")
    assert "MISSED  expected FROZEN-UNTIL-RELOAD on sidebar.cost (store)" in page
    first_run = page.index('<section class="run')
    assert page.index('<section class="run st-fail"') == first_run
    assert "<h2>Staleness</h2>" in page
    assert "p99 ms" in page
