"""Section d: how fast the harness itself goes.

- scenario-mode runs per second: `run_matrix` over scenarios/core, every fix mode, in this
  process, at the store and at the protocol level;
- the wall time of the shipped matrix as a person runs it (`freshness run scenarios/core
  --surface store`, a fresh process, target under 20 s);
- optionally the wall time of the whole test suite (`pytest`, long).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.tables import Table
from harness.scenario.loader import load_scenarios
from harness.scenario.model import FIX_MODES
from harness.session import run_matrix

__all__ = ["MATRIX_LIMIT_S", "ThroughputResult", "measure_throughput", "throughput_tables"]

MATRIX_LIMIT_S = 20.0
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class ThroughputResult:
    # surface level -> (runs, seconds, failures)
    matrix: dict[str, tuple[int, float, int]] = field(default_factory=dict)
    cli_seconds: float | None = None
    cli_status: int | None = None
    suite_seconds: float | None = None
    suite_status: int | None = None
    suite_tail: str = ""


async def _matrix(
    level: str, paths: list[Path], runs_dir: Path, jobs: int
) -> tuple[int, float, int]:
    scenarios = load_scenarios(paths)
    started = time.monotonic()
    results = await run_matrix(
        scenarios, list(FIX_MODES), surfaces=[level], runs_dir=runs_dir, jobs=jobs
    )
    seconds = time.monotonic() - started
    return len(results), seconds, sum(1 for result in results if not result.verdict.ok)


async def measure_throughput(
    *, paths: list[Path], runs_dir: Path, jobs: int, cli: bool, suite: bool
) -> ThroughputResult:
    result = ThroughputResult()
    for level in ("store", "protocol"):
        result.matrix[level] = await _matrix(level, paths, runs_dir / f"matrix-{level}", jobs)
    if cli:
        started = time.monotonic()
        done = await asyncio.to_thread(
            subprocess.run,
            [
                sys.executable,
                "-m",
                "harness.cli",
                "run",
                *map(str, paths),
                "--surface",
                "store",
                "--runs-dir",
                str(runs_dir / "cli"),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        result.cli_seconds, result.cli_status = time.monotonic() - started, done.returncode
    if suite:
        started = time.monotonic()
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        result.suite_seconds, result.suite_status = time.monotonic() - started, done.returncode
        result.suite_tail = (done.stdout.strip().splitlines() or [""])[-1]
    return result


def throughput_tables(result: ThroughputResult, jobs: int) -> list[Table]:
    table = Table("Harness throughput", ["measure", "value", "target"])
    for level, (runs, seconds, failures) in result.matrix.items():
        table.add(
            f"run_matrix scenarios/core x 4 modes at {level} level (jobs={jobs})",
            f"{runs} runs in {seconds:.1f} s = {runs / seconds:.2f} runs/s"
            + (f", {failures} not ok" if failures else ""),
            "-",
        )
    if result.cli_seconds is not None:
        if result.cli_seconds <= MATRIX_LIMIT_S:
            verdict = f"met (< {MATRIX_LIMIT_S:g} s)"
        else:
            verdict = f"MISSED by {result.cli_seconds - MATRIX_LIMIT_S:.1f} s"
        table.add(
            "freshness run scenarios/core --surface store (wall, new process)",
            f"{result.cli_seconds:.1f} s (exit {result.cli_status})",
            verdict,
        )
    if result.suite_seconds is not None:
        table.add(
            "whole test suite: python -m pytest (wall)",
            f"{result.suite_seconds:.0f} s (exit {result.suite_status}: {result.suite_tail})",
            "-",
        )
    return [table]
