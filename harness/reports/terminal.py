"""The report a person reads in the terminal: the matrix, every failure in full, then staleness.

Statuses are words and symbols first and colours second, so the report reads the same in a log
file, on a monochrome terminal and to a colour-blind reader. Text from the data (scenario names,
readout values, error messages) is printed as plain text, never as Rich markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from harness.reports._common import (
    LOOKS,
    caught_line,
    counts,
    failure_text,
    matrix_rows,
    modes_in,
    staleness_over,
    summary_line,
)
from harness.verdict import Status

if TYPE_CHECKING:
    from harness.runner import RunResult

__all__ = ["print_report", "render_matrix", "render_matrix_lines", "render_staleness"]

_ERROR_PREVIEW = 60


def _cell(runs: list[RunResult]) -> Text:
    cell = Text()
    for number, result in enumerate(runs):
        if number:
            cell.append("\n")
        verdict = result.verdict
        if verdict.status is Status.ERROR:
            look = LOOKS[Status.ERROR]
            cell.append(look.text, style=look.rich_style)
            message = (verdict.error or "").splitlines()[0] if verdict.error else ""
            if len(message) > _ERROR_PREVIEW:
                message = message[: _ERROR_PREVIEW - 1] + "…"
            cell.append(f"\n{message}", style="dim")
        elif not verdict.surfaces:
            cell.append("no surfaces", style="dim")
        for position, (surface, surface_verdict) in enumerate(verdict.surfaces.items()):
            look = LOOKS[surface_verdict.status]
            if position:
                cell.append("\n")
            cell.append(f"{surface} ")
            cell.append(look.text, style=look.rich_style)
        cell.append(f"\n{result.seconds:.1f}s", style="dim")
    return cell


def render_matrix(results: Sequence[RunResult]) -> Table:
    """Scenarios down, fix modes across; each cell names every surface with its status."""
    modes = modes_in(results)
    table = Table(title="Freshness: scenarios x fix modes", show_lines=True, title_justify="left")
    table.add_column("scenario", overflow="fold", min_width=24)
    for mode in modes:
        table.add_column(f"mode={mode}", no_wrap=True)
    for row in matrix_rows(results):
        label = Text(row.name, style="bold")
        cells = [
            _cell(row.by_mode[mode]) if mode in row.by_mode else Text("-", style="dim")
            for mode in modes
        ]
        table.add_row(label, *cells)
    return table


def render_matrix_lines(results: Sequence[RunResult]) -> Text:
    """The matrix for a terminal too narrow for its table: a scenario, then a line per mode.
    (A table squeezed below its width dropped the scenario column to nothing.)"""
    text = Text()
    modes = modes_in(results)
    for row in matrix_rows(results):
        text.append(row.name, style="bold")
        text.append("\n")
        for mode in modes:
            if mode not in row.by_mode:
                continue
            cell = _cell(row.by_mode[mode])
            text.append(f"  mode={mode:<8} ")
            for number, line in enumerate(cell.split("\n")):
                if number:
                    text.append(" · ", style="dim")
                text.append_text(line)
            text.append("\n")
    return text


def render_staleness(results: Sequence[RunResult]) -> RenderableType:
    """How late each readout showed a step's usage, over every run given."""
    rows = staleness_over(results)
    if not rows:
        return Text("Staleness: no latency samples were recorded.", style="dim")
    table = Table(title="Staleness (ms from usage sent to live value shown)", title_justify="left")
    table.add_column("surface")
    table.add_column("readout")
    for name in ("samples", "p50 ms", "p99 ms", "max ms"):
        table.add_column(name, justify="right")
    for row in rows:
        table.add_row(
            Text(row.surface),
            Text(row.readout),
            str(row.samples),
            f"{row.p50_ms:.1f}",
            f"{row.p99_ms:.1f}",
            f"{row.max_ms:.1f}",
        )
    return table


def _failures(results: Sequence[RunResult]) -> list[RenderableType]:
    blocks: list[RenderableType] = []
    for result in results:
        if result.verdict.ok:
            continue
        text = failure_text(result)
        header, _, body = text.partition("\n")
        block = Text(header, style=LOOKS[result.verdict.status].rich_style)
        if body:
            block.append("\n" + body)
        blocks.append(block)
        blocks.append(Text(""))
    return blocks


def _natural_width(console: Console, table: Table) -> int:
    """How wide the table is when nothing has to wrap."""
    unbounded = console.options.update_width(1_000)
    return console.measure(table, options=unbounded).maximum


def print_report(
    results: Sequence[RunResult],
    console: Console,
    verbose: bool = False,
    *,
    written: Mapping[str, Path] | None = None,
) -> None:
    """The full terminal report. ``written`` names the report files already written, by format,
    so that the last lines tell the reader where to look next."""
    matrix = render_matrix(results)
    natural = _natural_width(console, matrix)
    if natural <= console.width:
        console.print(matrix)
    elif not console.is_terminal:
        # A log or a pipe has no width of its own (Rich assumes 80): it can be as wide as the
        # table needs. (print(width=) cannot widen past the console's width; the console can.)
        saved = console.width
        console.width = natural
        try:
            console.print(matrix)
        finally:
            console.width = saved
    else:
        # A narrow terminal (tox runs commands in an 80-column pseudo-terminal): squeezed, the
        # table dropped the scenario column to nothing; one line per mode fits any width.
        console.print(Text("Freshness: scenarios x fix modes", style="italic"))
        console.print(render_matrix_lines(results), soft_wrap=True)
    console.print()
    # Soft wrap: the explanation's own line breaks are the layout, and a long line stays one line
    # when it is copied out of the terminal or a CI log.
    for block in _failures(results):
        console.print(block, soft_wrap=True)
    if verbose:
        for result in results:
            if result.verdict.status is Status.CAUGHT:
                line = Text(caught_line(result), style=LOOKS[Status.CAUGHT].rich_style)
                console.print(line, soft_wrap=True)
        console.print()
    console.print(render_staleness(results))
    console.print()
    tally = counts(results)
    style = "bold green" if tally.failed == 0 else "bold red"
    console.print(Text(summary_line(results), style=style))
    for fmt, path in (written or {}).items():
        label = {"html": "HTML report", "json": "JSON report", "junit": "JUnit XML"}.get(fmt, fmt)
        console.print(Text(f"{label}: {path}"))
