"""What every report format says the same way: status words, the failure text, the counts.

The terminal, HTML and JUnit reports all print the text built here, so a failure reads the same
wherever a reader meets it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.anomalies import Anomaly
from harness.display import parse_cost, parse_tokens
from harness.explain import (
    Finding,
    explain,
    format_checkpoints,
    group_findings,
    unread_sentences,
)
from harness.readouts import READOUTS
from harness.scenario.model import FIX_MODES
from harness.staleness import Staleness, summarize_staleness
from harness.verdict import Status, Verdict

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
    "missing_sentences",
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


def anomaly_label(anomaly: Anomaly) -> str:
    return f"{anomaly.code}({', '.join(anomaly.readouts)})"


def missing_sentences(verdict: Verdict) -> list[str]:
    """One sentence per expected (code, readout) that no surface showed, surfaces named once."""
    where: dict[tuple[str, str], list[str]] = {}
    for surface, surface_verdict in verdict.surfaces.items():
        for pair in surface_verdict.missing:
            where.setdefault(pair, []).append(surface)
    return [
        f"MISSED  expected {code} on {readout} ({', '.join(surfaces)}) but the run never showed"
        " it: the harness did not catch the bug."
        for (code, readout), surfaces in where.items()
    ]


def _unexpected(verdict: Verdict) -> list[tuple[Anomaly, list[str]]]:
    found: dict[Anomaly, list[str]] = {}
    for surface, surface_verdict in verdict.surfaces.items():
        for anomaly in surface_verdict.unexpected:
            found.setdefault(anomaly, []).append(surface)
    return list(found.items())


def _explain_or_summarize(result: RunResult, finding: Finding) -> str:
    try:
        return explain(result.history, finding, artifacts=f"{result.artifacts}/")
    except (KeyError, StopIteration, IndexError):
        # A history that lost the witness's checkpoint (a run cut short, an edited trace) still
        # deserves a report; say what is known rather than lose every other finding with it.
        anomaly = finding.anomaly
        return (
            f"{anomaly.code}  {', '.join(anomaly.readouts)}  checkpoints"
            f" {format_checkpoints(anomaly.checkpoints)} ({', '.join(finding.surfaces)})\n"
            "  (the history does not hold these checkpoints, so they cannot be shown)"
        )


def findings_text(result: RunResult) -> list[str]:
    """The explanation of every finding in the run, each a block of lines."""
    return [
        _explain_or_summarize(result, finding)
        for finding in group_findings(result.verdict.anomalies)
        if finding.anomaly.checkpoints
    ]


def failure_text(result: RunResult) -> str:
    """The house-style failure: the run's id, each finding explained, then what was missed."""
    verdict = result.verdict
    lines = [f"FAILED {run_id(result)}"]
    lines.extend(unread_sentences(verdict))
    if verdict.error is not None:
        lines.append(
            f"ERROR  the run did not finish: {verdict.error}. Nothing is known about this mode;"
            " it counts as a failure, never as a pass."
        )
        lines.append(f"  Artifacts: {result.artifacts}/")
        if verdict.anomalies:
            lines.append("  Found before the run stopped:")
    lines.extend(findings_text(result))
    unexpected = _unexpected(verdict)
    if unexpected:
        named = "; ".join(
            f"{anomaly_label(anomaly)} on {', '.join(surfaces)}" for anomaly, surfaces in unexpected
        )
        lines.append(
            f"UNEXPECTED for mode={result.mode}: {named}. The scenario does not expect it."
        )
    lines.extend(missing_sentences(verdict))
    return "\n".join(lines)


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
