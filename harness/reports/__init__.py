"""Reports of a set of runs: a terminal report, JSON, JUnit XML and one offline HTML file.

Every format tells a failure in the same words (built in :mod:`harness.reports._common` from
:mod:`harness.explain`), and none of them imports a UI driver or touches anything but the files
it is asked to write.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from harness.reports.html import render_html, write_html
from harness.reports.json_report import to_json, write_json
from harness.reports.junit import to_junit, write_junit
from harness.reports.terminal import print_report, render_matrix, render_staleness

if TYPE_CHECKING:
    from harness.runner import RunResult

__all__ = [
    "FILENAMES",
    "print_report",
    "render_html",
    "render_matrix",
    "render_staleness",
    "to_json",
    "to_junit",
    "write_html",
    "write_json",
    "write_junit",
    "write_reports",
]

FILENAMES: dict[str, str] = {"html": "report.html", "json": "report.json", "junit": "junit.xml"}

_WRITERS: dict[str, Callable[[Sequence[RunResult], Path], Path]] = {
    "html": write_html,
    "json": write_json,
    "junit": write_junit,
}


def write_reports(
    results: Sequence[RunResult], formats: set[str], out_dir: Path
) -> dict[str, Path]:
    """Write each requested format into ``out_dir``; return the path written, by format."""
    unknown = sorted(formats - set(_WRITERS))
    if unknown:
        raise ValueError(
            f"unknown report format {', '.join(map(repr, unknown))};"
            f" choose from: {', '.join(sorted(_WRITERS))}"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    return {fmt: _WRITERS[fmt](results, out_dir / FILENAMES[fmt]) for fmt in sorted(formats)}
