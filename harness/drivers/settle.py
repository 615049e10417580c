"""The settle rule shared by surfaces: read once nothing has arrived for a quiet period.

A surface that can only be watched from outside (a screen, a page) has no "I am done" signal; the
honest rule is to wait until it has been quiet for a short while, bounded by a deadline so that a
surface that never stops changing still gets read.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

__all__ = ["wait_quiet"]


async def wait_quiet(last_activity: Callable[[], float], quiet: float, deadline: float) -> bool:
    """Wait until ``quiet`` seconds have passed since ``last_activity()``; False at the deadline."""
    give_up = time.monotonic() + deadline
    while True:
        now = time.monotonic()
        idle_for = now - last_activity()
        if idle_for >= quiet:
            return True
        if now >= give_up:
            return False
        await asyncio.sleep(min(quiet - idle_for, give_up - now, quiet))
