"""A separate process that hammers one session's usage through reference_app's own modules.

`python -m tests.hardening.usage_writer DB SESSION MESSAGE COUNT` opens the database the way
the server does (`Database`, so WAL, busy timeout and BEGIN IMMEDIATE), prints `ready`, waits
for a line on stdin so that every writer starts at once, writes COUNT step usages, and prints
the seconds it took. Its only lock against the other writers is SQLite's own.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from reference_app.server.db import Database
from reference_app.server.types import Usage
from reference_app.server.usage import record_step_usage

# Each kind of token differs, so a lost or doubled column shows in its own total.
STEP = Usage(input=3, output=2, reasoning=1, cache_read=5, cache_write=7)
# 1/8 is exact in binary floating point, so the expected cost total is exact too.
STEP_COST = 0.125


def main(argv: list[str]) -> int:
    db_path, session_id, message_id, count = argv[0], argv[1], argv[2], int(argv[3])
    database = Database(Path(db_path))
    try:
        print("ready", flush=True)
        sys.stdin.readline()
        started = time.perf_counter()
        for _ in range(count):
            record_step_usage(database, session_id=session_id, message_id=message_id,
                              usage=STEP, cost=STEP_COST, reason="stop")
        print(f"{time.perf_counter() - started:.6f}", flush=True)
    finally:
        database.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
