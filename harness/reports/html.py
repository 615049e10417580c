"""One self-contained HTML file: the matrix, every run's explanation and a timeline per readout.

The file must open offline and years later, from a CI artifact store: no scripts, fonts or styles
from anywhere else, charts drawn here as inline SVG. Every string that comes from a scenario or a
run (names, paths, values, error messages) is untrusted and escaped where it is written.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from harness.anomalies import FRESHNESS_CODES, Anomaly
from harness.explain import format_checkpoints
from harness.history import Checkpoint, History, Reading
from harness.readouts import READOUTS
from harness.reports._common import (
    LOOKS,
    amount,
    anomaly_label,
    caught_line,
    failure_text,
    findings_text,
    matrix_rows,
    modes_in,
    run_id,
    staleness_over,
    summary_line,
)
from harness.verdict import Status

if TYPE_CHECKING:
    from harness.runner import RunResult

__all__ = ["render_html", "write_html"]


def _e(text: object) -> str:
    return escape(str(text), quote=True)


# -- the timeline chart --------------------------------------------------------------------------

_WIDTH, _HEIGHT = 620, 250
_LEFT, _RIGHT, _TOP, _BOTTOM = 66, 14, 34, 52
_MAX_LABELS = 12
_LABEL_CHARS = 11
_CHAR_PX = 6.5


@dataclass(frozen=True)
class _Series:
    name: str
    field: str
    css: str
    marker: str


# Drawn in this order, so the live line (the one that is wrong) sits on top of the others.
_SERIES = (
    _Series("expected", "expected", "s-expected", "diamond"),
    _Series("after reload", "reload", "s-reload", "square"),
    _Series("live", "live", "s-live", "circle"),
)


def _nice_step(span: float) -> float:
    raw = span / 4
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        if multiple * magnitude >= raw:
            return multiple * magnitude
    return 10 * magnitude


def _ticks(values: list[float]) -> list[float]:
    low = min(0.0, *values) if values else 0.0
    high = max(values) if values else 1.0
    if high <= low:
        high = low + 1.0
    step = _nice_step(high - low)
    start = math.floor(low / step) * step
    ticks = [start]
    while ticks[-1] < high - step * 1e-9:
        ticks.append(ticks[-1] + step)
    return ticks


def _format_tick(readout: str, value: float) -> str:
    measures = READOUTS[readout].measures if readout in READOUTS else "tokens"
    if measures == "cost":
        return f"${value:,.2f}"
    if measures == "percent":
        return f"{value:g}%"
    return f"{value:,.0f}"


def _marker(kind: str, x: float, y: float) -> str:
    if kind == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.4"/>'
    if kind == "square":
        return f'<rect x="{x - 4.5:.1f}" y="{y - 4.5:.1f}" width="9" height="9"/>'
    return (
        f'<polygon points="{x:.1f},{y - 6:.1f} {x + 6:.1f},{y:.1f}'
        f' {x:.1f},{y + 6:.1f} {x - 6:.1f},{y:.1f}"/>'
    )


def _segments(points: list[tuple[float, float] | None]) -> Iterable[list[tuple[float, float]]]:
    """Runs of known points: an unknown value breaks the line instead of dropping to zero."""
    run: list[tuple[float, float]] = []
    for point in points:
        if point is None:
            if run:
                yield run
            run = []
        else:
            run.append(point)
    if run:
        yield run


def _shaded(anomalies: Iterable[Anomaly], surface: str, readout: str) -> list[Anomaly]:
    found = []
    for top in anomalies:
        for anomaly in (top, *top.implied):
            if (
                anomaly.code in FRESHNESS_CODES
                and surface in anomaly.surface.split("+")
                and readout in anomaly.readouts
            ):
                found.append(anomaly)
    return found


def _touching(anomalies: Iterable[Anomaly], surface: str, readout: str) -> list[Anomaly]:
    found: dict[Anomaly, None] = {}
    for top in anomalies:
        for anomaly in (top, *top.implied):
            if surface in anomaly.surface.split("+") and readout in anomaly.readouts:
                found[anomaly] = None
    return list(found)


def _tooltip(checkpoint: Checkpoint, reading: Reading) -> str:
    parts = [
        f"cp {checkpoint.index} (line {checkpoint.line}) {checkpoint.label}",
        f"live {reading.live if reading.live is not None else '?'}",
        f"after reload {reading.reload if reading.reload is not None else '?'}",
        f"expected {reading.expected if reading.expected is not None else '-'}",
    ]
    if reading.latency_ms is not None:
        parts.append(f"shown after {reading.latency_ms:.1f} ms")
    if reading.error:
        parts.append(f"error: {reading.error}")
    return " · ".join(parts)


def _legend(has_shade: bool) -> list[str]:
    parts: list[str] = []
    x = float(_LEFT)
    for series in _SERIES:
        parts.append(
            f'<g class="{series.css}"><line x1="{x:.0f}" y1="14" x2="{x + 22:.0f}" y2="14"/>'
            f"{_marker(series.marker, x + 11, 14)}</g>"
            f'<text class="legend" x="{x + 28:.0f}" y="18">{_e(series.name)}</text>'
        )
        x += 28 + 8 * len(series.name) + 18
    if has_shade:
        parts.append(
            f'<rect class="shade" x="{x:.0f}" y="7" width="16" height="14"/>'
            f'<text class="legend" x="{x + 22:.0f}" y="18">frozen / stale live value</text>'
        )
    return parts


def chart_svg(history: History, anomalies: Sequence[Anomaly], surface: str, readout: str) -> str:
    """One readout on one surface over the run: live, after reload and expected at each
    checkpoint, with the checkpoints where live sat behind storage shaded."""
    series = history.series(surface, readout)
    count = max(len(series), 1)
    plot_width = _WIDTH - _LEFT - _RIGHT
    plot_bottom = _HEIGHT - _BOTTOM
    column = plot_width / count
    x_at = {cp.index: _LEFT + column * (n + 0.5) for n, (cp, _) in enumerate(series)}

    numbers = {
        s.field: [amount(readout, getattr(reading, s.field)) for _, reading in series]
        for s in _SERIES
    }
    known = [v for values in numbers.values() for v in values if v is not None]
    ticks = _ticks(known)
    low, high = ticks[0], ticks[-1]

    def y_at(value: float) -> float:
        return plot_bottom - (value - low) / (high - low) * (plot_bottom - _TOP)

    label = f"{surface} {readout}: live, after reload and expected by checkpoint"
    parts = [
        f'<svg class="chart" viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" aria-label="{_e(label)}">'
    ]
    shaded = _shaded(anomalies, surface, readout)
    covered: dict[int, str] = {}
    for anomaly in shaded:
        for index in anomaly.checkpoints:
            covered.setdefault(index, anomaly.code)
    for index, code in covered.items():
        if index in x_at:
            left = x_at[index] - column / 2
            parts.append(
                f'<rect class="shade" x="{left:.1f}" y="{_TOP}" width="{column:.1f}"'
                f' height="{plot_bottom - _TOP}"><title>{_e(code)} at cp {index}</title></rect>'
            )
    for anomaly in shaded:
        first = [i for i in anomaly.checkpoints if i in x_at]
        if first:
            parts.append(
                f'<text class="shade-label" x="{x_at[first[0]] - column / 2 + 3:.1f}"'
                f' y="{_TOP + 11}">{_e(anomaly.code)}</text>'
            )
    for tick in ticks:
        y = y_at(tick)
        parts.append(
            f'<line class="grid" x1="{_LEFT}" y1="{y:.1f}" x2="{_WIDTH - _RIGHT}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_e(_format_tick(readout, tick))}</text>"
        )
    every = max(1, math.ceil(len(series) / _MAX_LABELS))
    for n, (checkpoint, reading) in enumerate(series):
        x = x_at[checkpoint.index]
        parts.append(
            f'<rect class="hit" x="{x - column / 2:.1f}" y="{_TOP}" width="{column:.1f}"'
            f' height="{plot_bottom - _TOP}"><title>{_e(_tooltip(checkpoint, reading))}</title>'
            "</rect>"
        )
        if n % every:
            continue
        # As many characters as the labelled columns have room for (11px text is about 6.5px a
        # character): "open main" and "prompt" ran into each other on a chart of nine steps.
        fits = min(_LABEL_CHARS, int(column * every / _CHAR_PX) - 1)
        step = checkpoint.label if fits >= 3 else ""
        if len(step) > fits:
            step = step[: fits - 1] + "…"
        parts.append(
            f'<text class="axis" x="{x:.1f}" y="{plot_bottom + 16}" text-anchor="middle">'
            f"cp {checkpoint.index}</text>"
            f'<text class="axis step" x="{x:.1f}" y="{plot_bottom + 30}" text-anchor="middle">'
            f"{_e(step)}</text>"
        )
    parts.append(
        f'<line class="frame" x1="{_LEFT}" y1="{plot_bottom}" x2="{_WIDTH - _RIGHT}"'
        f' y2="{plot_bottom}"/>'
    )
    for s in _SERIES:
        points = [
            None if value is None else (x_at[cp.index], y_at(value))
            for (cp, _), value in zip(series, numbers[s.field], strict=True)
        ]
        parts.append(f'<g class="{s.css}">')
        for run in _segments(points):
            if len(run) > 1:
                drawn = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                parts.append(f'<polyline points="{drawn}"/>')
        parts.extend(_marker(s.marker, x, y) for point in points if point for x, y in [point])
        parts.append("</g>")
    unknown = [cp.index for (cp, _), v in zip(series, numbers["live"], strict=True) if v is None]
    if unknown:
        parts.append(
            f'<text class="axis" x="{_WIDTH - _RIGHT}" y="{_HEIGHT - 6}" text-anchor="end">'
            f"live shows no number at cp {_e(format_checkpoints(tuple(unknown)))}</text>"
        )
    parts.extend(_legend(bool(covered)))
    parts.append("</svg>")
    return "".join(parts)


# -- page parts ----------------------------------------------------------------------------------

_CSS = """
:root { color-scheme: light; --fail: #b3261e; --missed: #8e24aa; --pass: #1b7f3b;
  --caught: #00697a; --error: #9a6700; --ink: #1d2125; --muted: #5f6b76; --line: #d8dee4; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
  margin: 0 auto; padding: 24px 32px 64px; max-width: 1360px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 36px 0 12px; border-bottom: 1px solid var(--line);
  padding-bottom: 4px; }
h3 { font-size: 16px; margin: 0 0 4px; }
h4 { font-size: 13px; margin: 14px 0 2px; font-weight: 600; }
code, pre, .mono { font-family: ui-monospace, "SF Mono", Menlo, Consolas, monospace;
  font-size: 12.5px; }
.summary { font-size: 15px; font-weight: 600; margin: 6px 0 18px; }
.summary.bad { color: var(--fail); } .summary.good { color: var(--pass); }
table { border-collapse: collapse; }
th, td { border: 1px solid var(--line); padding: 6px 10px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.matrix td a { color: inherit; text-decoration: none; display: block; }
.matrix td a:hover { background: #f6f8fa; }
.path { color: var(--muted); font-size: 12px; }
.st { font-weight: 600; white-space: nowrap; }
.st-pass { color: var(--pass); } .st-caught { color: var(--caught); }
.st-fail { color: var(--fail); } .st-missed { color: var(--missed); }
.st-error { color: var(--error); }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
  font-weight: 700; border: 1px solid currentColor; margin-left: 6px; }
.secs { color: var(--muted); font-size: 12px; }
.run { border: 1px solid var(--line); border-left: 6px solid var(--line); border-radius: 6px;
  padding: 14px 18px; margin: 0 0 18px; }
.run.st-fail, .run.st-missed, .run.st-error { border-left-color: currentColor; }
.run.st-caught { border-left-color: var(--caught); }
.run.st-pass { border-left-color: var(--pass); }
.run > * { color: var(--ink); }
.meta { color: var(--muted); margin: 0 0 8px; font-size: 12.5px; }
pre { background: #f6f8fa; border: 1px solid var(--line); border-radius: 4px; padding: 10px 12px;
  overflow-x: auto; white-space: pre-wrap; margin: 8px 0; }
pre.failure { border-left: 4px solid var(--fail); }
details > summary { cursor: pointer; color: var(--muted); margin: 6px 0; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr));
  gap: 6px 24px; }
.chart { width: 100%; height: auto; display: block; }
.chart text { font: 11px system-ui, sans-serif; fill: var(--muted); }
.chart text.legend { fill: var(--ink); font-size: 11.5px; }
.chart .grid { stroke: #eef1f4; } .chart .frame { stroke: #9aa4ae; }
.chart .hit { fill: transparent; }
.chart .hit:hover { fill: rgba(0, 0, 0, 0.04); }
.chart .shade { fill: #fde3e1; }
.chart text.shade-label { fill: var(--fail); font-weight: 600; font-size: 10.5px; }
.chart g line, .chart polyline { fill: none; stroke-width: 2; }
.s-live { stroke: #c62828; fill: #c62828; }
.s-live polyline, .s-live line { stroke: #c62828; }
.s-reload { stroke: #1565c0; fill: #fff; }
.s-reload polyline, .s-reload line { stroke: #1565c0; stroke-dasharray: 6 4; }
.s-expected { stroke: #6b7580; fill: #fff; }
.s-expected polyline, .s-expected line { stroke: #6b7580; stroke-dasharray: 2 3; }
.s-reload rect, .s-expected polygon { stroke-width: 1.6; }
.caption { color: var(--muted); font-size: 12px; margin: 0 0 8px; }
.values td, .values th { padding: 3px 8px; font-size: 12px; }
.values td.behind { background: #fde3e1; }
"""


def _status_span(status: Status, prefix: str = "") -> str:
    look = LOOKS[status]
    return f'<span class="st st-{look.css_class}">{_e(prefix)}{_e(look.text)}</span>'


def _anchor(number: int) -> str:
    return f"run-{number}"


def _matrix(results: Sequence[RunResult], numbers: dict[int, int]) -> str:
    modes = modes_in(results)
    head = "".join(f"<th>mode={_e(mode)}</th>" for mode in modes)
    rows = []
    for row in matrix_rows(results):
        cells = []
        for mode in modes:
            runs = row.by_mode.get(mode)
            if not runs:
                cells.append('<td class="path">&ndash;</td>')
                continue
            links = []
            for result in runs:
                verdict = result.verdict
                if verdict.status is Status.ERROR or not verdict.surfaces:
                    lines = [_status_span(verdict.status)]
                else:
                    lines = [
                        _status_span(sv.status, f"{surface} ")
                        for surface, sv in verdict.surfaces.items()
                    ]
                lines.append(f'<span class="secs">{result.seconds:.1f}s</span>')
                links.append(f'<a href="#{_anchor(numbers[id(result)])}">{"<br>".join(lines)}</a>')
            cells.append(f"<td>{''.join(links)}</td>")
        rows.append(
            f"<tr><td><strong>{_e(row.name)}</strong><br>"
            f'<span class="path">{_e(row.path)}</span></td>{"".join(cells)}</tr>'
        )
    return (
        f'<table class="matrix"><thead><tr><th>scenario</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _values_table(history: History, surface: str) -> str:
    readouts = history.readouts_on(surface)
    head = (
        "".join(f'<th colspan="3">{_e(name)}</th>' for name in readouts)
        + "</tr><tr><th></th>"
        + "<th>live</th><th>reload</th><th>expected</th>" * len(readouts)
    )
    body = []
    for checkpoint in history.checkpoints:
        readings = checkpoint.readings.get(surface, {})
        cells = []
        for name in readouts:
            reading = readings.get(name)
            if reading is None:
                cells.append("<td></td><td></td><td></td>")
                continue
            behind = (
                reading.live is not None
                and reading.reload is not None
                and reading.live != reading.reload
            )
            cells.append(
                f'<td class="mono{" behind" if behind else ""}">{_e(reading.live or "?")}</td>'
                f'<td class="mono">{_e(reading.reload or "?")}</td>'
                f'<td class="mono">{_e(reading.expected or "-")}</td>'
            )
        body.append(
            f'<tr><td class="mono">cp {checkpoint.index} · line {checkpoint.line} ·'
            f" {_e(checkpoint.label)}</td>{''.join(cells)}</tr>"
        )
    return (
        f'<table class="values"><thead><tr><th>checkpoint</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _charts(result: RunResult) -> str:
    history = result.history
    anomalies = result.verdict.anomalies
    blocks = []
    for surface in history.surfaces:
        readouts = history.readouts_on(surface)
        if not readouts:
            continue
        figures = []
        for readout in readouts:
            touching = _touching(anomalies, surface, readout)
            # A multi-readout anomaly (lockstep) names its members, so that a reader of the
            # chart of a readout that moved sees which neighbour stood still.
            caption = "; ".join(
                f"{a.code if len(a.readouts) == 1 else anomaly_label(a)}"
                f" cp {format_checkpoints(a.checkpoints)}"
                for a in touching
            )
            figures.append(
                f"<figure><h4>{_e(surface)} · {_e(readout)}</h4>"
                f'<p class="caption">{_e(caption or "no anomaly")}</p>'
                f"{chart_svg(history, anomalies, surface, readout)}</figure>"
            )
        blocks.append(
            f"<h4>surface: {_e(surface)}</h4>"
            f'<div class="charts">{"".join(figures)}</div>'
            f"<details><summary>values at every checkpoint ({_e(surface)})</summary>"
            f"{_values_table(history, surface)}</details>"
        )
    return "".join(blocks)


def _run_section(result: RunResult, number: int) -> str:
    verdict = result.verdict
    look = LOOKS[verdict.status]
    parts = [
        f'<section class="run st-{look.css_class}" id="{_anchor(number)}">',
        f"<h3>{_e(result.history.scenario)}"
        f'<span class="badge st-{look.css_class}">{_e(look.text)}</span></h3>',
        f'<p class="meta mono">{_e(run_id(result))}</p>',
        f'<p class="meta">surfaces: {_e(", ".join(result.history.surfaces) or "none")} ·'
        f" {result.seconds:.2f} s · artifacts: <code>{_e(result.artifacts)}</code></p>",
    ]
    if not verdict.ok:
        parts.append(f'<pre class="failure">{_e(failure_text(result))}</pre>')
    elif verdict.status is Status.CAUGHT:
        parts.append(f"<p>{_e(caught_line(result))}</p>")
        explained = "\n".join(findings_text(result))
        if explained:
            parts.append(
                "<details><summary>what was caught, explained</summary>"
                f"<pre>{_e(explained)}</pre></details>"
            )
    else:
        parts.append("<p>No anomaly, none expected.</p>")
    if result.history.checkpoints:
        charts = _charts(result)
        opened = " open" if verdict.status is not Status.PASS else ""
        parts.append(f"<details{opened}><summary>timelines</summary>{charts}</details>")
    parts.append("</section>")
    return "".join(parts)


def _staleness(results: Sequence[RunResult]) -> str:
    rows = staleness_over(results)
    if not rows:
        return '<p class="caption">No latency samples were recorded.</p>'
    body = "".join(
        f"<tr><td>{_e(r.surface)}</td><td>{_e(r.readout)}</td><td class='num'>{r.samples}</td>"
        f"<td class='num'>{r.p50_ms:.1f}</td><td class='num'>{r.p99_ms:.1f}</td>"
        f"<td class='num'>{r.max_ms:.1f}</td></tr>"
        for r in rows
    )
    return (
        "<table><thead><tr><th>surface</th><th>readout</th><th>samples</th><th>p50 ms</th>"
        f"<th>p99 ms</th><th>max ms</th></tr></thead><tbody>{body}</tbody></table>"
    )


def render_html(results: Sequence[RunResult]) -> str:
    numbers = {id(result): n for n, result in enumerate(results, start=1)}
    summary = summary_line(results)
    good = all(r.verdict.ok for r in results)
    # Not-ok runs first: the page is opened to find out what broke.
    ordered = sorted(results, key=lambda r: r.verdict.ok)
    sections = "".join(_run_section(r, numbers[id(r)]) for r in ordered)
    failures = [r for r in results if not r.verdict.ok]
    failed_list = "".join(
        f'<li><a href="#{_anchor(numbers[id(r)])}">{_e(run_id(r))}</a> '
        f"{_status_span(r.verdict.status)}"
        f"{''.join(' ' + _e(anomaly_label(a)) for a in r.verdict.anomalies[:3])}</li>"
        for r in failures
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        # The page needs nothing from anywhere: say so, so that a browser refuses it too.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\';'
        " style-src 'unsafe-inline'; img-src data:\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Freshness report: {_e(summary)}</title><style>{_CSS}</style></head><body>"
        "<h1>Freshness report</h1>"
        f'<p class="summary {"good" if good else "bad"}">{_e(summary)}</p>'
        f"{f'<ul>{failed_list}</ul>' if failed_list else ''}"
        f"<h2>Scenarios &times; fix modes</h2>{_matrix(results, numbers)}"
        f"<h2>Runs</h2>{sections}"
        f"<h2>Staleness</h2>{_staleness(results)}"
        "</body></html>\n"
    )


def write_html(results: Sequence[RunResult], path: Path) -> Path:
    path.write_text(render_html(results), encoding="utf-8")
    return path
