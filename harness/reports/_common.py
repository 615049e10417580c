"""What every report format says the same way: status words, the failure text, the counts.

The terminal, HTML and JUnit reports all print the text built here, so a failure reads the same
wherever a reader meets it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.display import parse_cost, parse_tokens
from harness.explain import anomaly_label, group_findings
from harness.explain import failure_text as explain_failure
from harness.explain import findings_text as explain_findings
from harness.readouts import READOUTS
from harness.scenario.model import FIX_MODES
from harness.staleness import Staleness, summarize_staleness
from harness.verdict import Status

if TYPE_CHECKING:
    # Only for types: importing the runner would pull in the drivers and an HTTP client.
    from harness.runner import RunResult

__all__ = [
    "LOOKS",
    "Counts",
    "Look",
    "Row",
    "amount",
    "anomaly_label",
    "caught_line",
    "counts",
    "failure_text",
    "findings_text",
    "matrix_rows",
    "modes_in",
    "run_id",
    "staleness_over",
    "summary_line",
]


@dataclass(frozen=True)
class Look:
    """How a status is shown: a symbol and a word always, a colour only as a second cue."""

    symbol: str
    word: str
    rich_style: str
    css_class: str

    @property
    def text(self) -> str:
        return f"{self.symbol} {self.word}"


LOOKS: dict[Status, Look] = {
    Status.PASS: Look("✓", "pass", "green", "pass"),
    Status.CAUGHT: Look("✓", "caught", "cyan", "caught"),
    Status.FAIL: Look("✗", "FAIL", "bold red", "fail"),
    Status.MISSED: Look("✗", "MISSED", "bold magenta", "missed"),
    Status.ERROR: Look("✗", "error", "bold yellow", "error"),
}


def run_id(result: RunResult) -> str:
    """The run as pytest would name it, so that a reader can paste it back."""
    return f"{result.history.path}::mode={result.mode}"


def failure_text(result: RunResult) -> str:
    """The house-style failure of one run (see :func:`harness.explain.failure_text`)."""
    return explain_failure(result.history, result.verdict, f"{result.artifacts}/")


def findings_text(result: RunResult) -> list[str]:
    """The explanation of every finding in the run, each a block of lines."""
    return explain_findings(result.history, result.verdict, f"{result.artifacts}/")


def caught_line(result: RunResult) -> str:
    """One line for a run that reproduced the bug as the scenario expects."""
    findings = group_findings(result.verdict.anomalies)
    shown = "; ".join(f"{anomaly_label(f.anomaly)} on {', '.join(f.surfaces)}" for f in findings)
    return f"caught {run_id(result)}: {shown or 'as expected'}"


@dataclass(frozen=True)
class Counts:
    runs: int
    passed: int
    caught: int
    failed: int
    """Every run that is not ok: failed, missed or errored."""
    errors: int


def counts(results: Sequence[RunResult]) -> Counts:
    statuses = [r.verdict.status for r in results]
    return Counts(
        runs=len(statuses),
        passed=statuses.count(Status.PASS),
        caught=statuses.count(Status.CAUGHT),
        failed=sum(1 for s in statuses if not s.ok),
        errors=statuses.count(Status.ERROR),
    )


def summary_line(results: Sequence[RunResult]) -> str:
    tally = counts(results)
    line = (
        f"{tally.runs} run{'' if tally.runs == 1 else 's'}: {tally.passed} passed,"
        f" {tally.caught} expected failure{'' if tally.caught == 1 else 's'} caught,"
        f" {tally.failed} failed"
    )
    if tally.errors:
        line += f" ({tally.errors} did not finish)"
    return line


def staleness_over(results: Sequence[RunResult]) -> list[Staleness]:
    # Percentiles do not add up across runs, so summarise the raw latencies of every history.
    return summarize_staleness([r.history for r in results])


def modes_in(results: Iterable[RunResult]) -> list[str]:
    # Only the modes that ran: a real agent's single "shipped" column must not sit beside four
    # empty fix-mode columns, and a narrow terminal needs the room for scenario names.
    seen = {str(r.mode) for r in results}
    return [mode for mode in FIX_MODES if mode in seen] + sorted(seen - set(FIX_MODES))


@dataclass(frozen=True)
class Row:
    """One scenario in the matrix: its runs by fix mode, in the order they were given."""

    path: str
    name: str
    by_mode: dict[str, list[RunResult]]


def matrix_rows(results: Sequence[RunResult]) -> list[Row]:
    rows: dict[str, Row] = {}
    for result in results:
        row = rows.setdefault(
            result.history.path, Row(result.history.path, result.history.scenario, {})
        )
        row.by_mode.setdefault(str(result.mode), []).append(result)
    return list(rows.values())


def amount(readout: str, shown: str | None) -> float | None:
    """The number a displayed readout means, or None where it shows none ("unknown", "?")."""
    if shown is None:
        return None
    known = READOUTS.get(readout)
    if (known is not None and known.measures == "cost") or shown.strip().startswith("$"):
        return parse_cost(shown)
    tokens = parse_tokens(shown.strip().removesuffix("%"))
    return None if tokens is None else float(tokens)
