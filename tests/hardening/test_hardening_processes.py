"""Item 1: writers in several processes share one SQLite file and lose no increment.

Threads and separate engines in one process are covered in tests/reference_app/server; here
each writer is its own OS process, so nothing but SQLite's file locking and busy timeout stands
between them, while the test process writes through the server's own `Database` at the same
time (its in-process writer lock does not reach the other processes).
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from reference_app.server.db import Database
from reference_app.server.repo import Repository
from reference_app.server.usage import record_step_usage
from tests.hardening.usage_writer import STEP, STEP_COST

PROCESSES = 3
WRITES_EACH = 60
LOCAL_THREADS = 1
REPO_ROOT = Path(__file__).resolve().parents[2]


def start_writer(db_path: Path, session_id: str, message_id: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.hardening.usage_writer", str(db_path), session_id,
         message_id, str(WRITES_EACH)],
        cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )


def wait_ready(process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    ready = process.stdout.readline().strip()
    assert ready == "ready", process.stderr.read() if process.stderr else ready


@pytest.mark.slow
def test_writer_processes_sharing_the_file_lose_no_increment(tmp_path: Path) -> None:
    database = Database(tmp_path / "agent.sqlite3")
    repo = Repository(database, directory=str(tmp_path))
    try:
        session_id = repo.create_session(title="shared")["id"]
        writers = PROCESSES + LOCAL_THREADS
        message_ids = [repo.add_message(session_id, "assistant", {})["id"] for _ in range(writers)]
        processes = [start_writer(database.path, session_id, message_ids[i])
                     for i in range(PROCESSES)]
        try:
            # Started together, readied together: interpreter start-up dominates otherwise.
            for process in processes:
                wait_ready(process)
            def local_writer(message_id: str) -> None:
                for _ in range(WRITES_EACH):
                    record_step_usage(database, session_id=session_id, message_id=message_id,
                                      usage=STEP, cost=STEP_COST, reason="stop")

            threads = [threading.Thread(target=local_writer, args=(message_id,))
                       for message_id in message_ids[PROCESSES:]]
            # Every writer is past its imports and holds an open engine: release them together.
            for process in processes:
                assert process.stdin is not None
                process.stdin.write("go\n")
                process.stdin.flush()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
            outputs = [process.communicate(timeout=120) for process in processes]
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        for process, (stdout, stderr) in zip(processes, outputs, strict=True):
            assert process.returncode == 0, stderr
            assert stdout.strip(), stderr

        total = writers * WRITES_EACH
        info = repo.get_session(session_id)
        assert info["cost"] == STEP_COST * total
        assert info["tokens"] == {
            "input": STEP.input * total, "output": STEP.output * total,
            "reasoning": STEP.reasoning * total,
            "cache": {"read": STEP.cache_read * total, "write": STEP.cache_write * total},
        }
        # Every write also stored its step-finish part; none was lost or doubled either.
        parts = [part for message in repo.list_messages(session_id) for part in message["parts"]]
        assert len(parts) == total
        assert sum(part["cost"] for part in parts) == info["cost"]
        assert database.journal_mode() == "wal"
    finally:
        database.close()
