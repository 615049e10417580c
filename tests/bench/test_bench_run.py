"""The benchmark script runs end to end in a tiny configuration and prints every table.

Only the shape of the output is checked: figures are wall-clock measurements and asserting on
them would make the suite flaky on a busy machine.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

TITLES = (
    "Freshness: ms from the model server sending",
    "Where the time goes",
    "Load: 2 sessions x 1 clients",
    "Scaling: per-event cost",
    "Harness throughput",
)


def test_bench_prints_every_table_and_writes_markdown(tmp_path: Path) -> None:
    markdown = tmp_path / "bench.md"
    command = [
        sys.executable, "-m", "bench.run",
        "--steps", "3", "--repeat", "1", "--surfaces", "store,protocol", "--targets", "reference",
        "--load-seconds", "1", "--sessions", "2", "--clients", "1", "--rate", "10",
        "--subscriber-queue", "50",
        "--sizes", "10,100", "--rounds", "1",
        "--scenarios", "scenarios/core/unpriced-model.yaml", "--no-cli",
        "--runs-dir", str(tmp_path / "runs"), "--markdown", str(markdown),
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for title in TITLES:
        assert title in done.stdout, f"{title!r} missing from:\n{done.stdout[-3000:]}"
    assert "events lost (must be 0)" in done.stdout
    written = markdown.read_text(encoding="utf-8")
    assert written.startswith("- command: `python -m bench.run --steps 3")
    assert written.count("\n### ") + written.startswith("### ") >= len(TITLES)
    assert "| reference | store | sidebar.cost |" in written
