"""Benchmark: usage writes per second with N writer processes on one SQLite file.

`python -m tests.hardening.bench_writers [TOTAL_WRITES]` prints a table. Each writer is
`tests.hardening.usage_writer` (the server's own `Database` and `record_step_usage`); all start
together, and totals are checked exact after each row. A figure, not a test: nothing asserts a
rate.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reference_app.server.db import Database
from reference_app.server.repo import Repository
from tests.hardening.usage_writer import STEP_COST

REPO_ROOT = Path(__file__).resolve().parents[2]


def run(processes: int, total: int) -> tuple[float, list[float], bool]:
    each = total // processes
    with tempfile.TemporaryDirectory() as folder:
        database = Database(Path(folder) / "agent.sqlite3")
        repo = Repository(database, directory=folder)
        session_id = repo.create_session(title="bench")["id"]
        writers = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.hardening.usage_writer", str(database.path),
                 session_id, repo.add_message(session_id, "assistant", {})["id"], str(each)],
                cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            for _ in range(processes)
        ]
        for writer in writers:
            assert writer.stdout is not None
            writer.stdout.readline()
        started = time.perf_counter()
        for writer in writers:
            assert writer.stdin is not None
            writer.stdin.write("go\n")
            writer.stdin.flush()
        own = [float(writer.communicate()[0].strip()) for writer in writers]
        wall = time.perf_counter() - started
        exact = repo.get_session(session_id)["cost"] == STEP_COST * each * processes
        database.close()
        return wall, own, exact


def main() -> None:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    print(f"{'processes':>9}  {'writes':>6}  {'wall s':>7}  {'writes/s':>8}  "
          f"{'slowest writer s':>16}  exact")
    for processes in (1, 2, 4, 8):
        wall, own, exact = run(processes, total)
        print(f"{processes:>9}  {total // processes * processes:>6}  {wall:>7.2f}  "
              f"{total / wall:>8.0f}  {max(own):>16.2f}  {exact}")


if __name__ == "__main__":
    main()
