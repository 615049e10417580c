"""Wall-clock time in the unit the wire format uses (milliseconds since the epoch)."""

from __future__ import annotations

import time

__all__ = ["now_ms"]


def now_ms() -> int:
    # time.time() rather than a saved reference so time-machine can steer it in tests.
    return int(time.time() * 1000)
