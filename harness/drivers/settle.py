"""The settle rule shared by surfaces: read once nothing has arrived for a quiet period.

A surface that can only be watched from outside (a screen, a page) has no "I am done" signal; the
honest rule is to wait until it has been quiet for a short while, bounded by a deadline so that a
surface that never stops changing still gets read.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

__all__ = ["quiet_for", "wait_quiet"]


def quiet_for(extra: dict[str, str], default: float) -> float:
    """The quiet period a target asks for (``settle_quiet_s``): a real agent may publish a
    session's totals a few hundred ms after the step, and a shorter spell reads that as a freeze."""
    try:
        return max(default, float(extra.get("settle_quiet_s", default)))
    except ValueError:
        return default


async def wait_quiet(last_activity: Callable[[], float], quiet: float, deadline: float) -> bool:
    """Wait until ``quiet`` seconds have passed since ``last_activity()``, counted from no earlier
    than the call: an event already in flight when we are asked must get its chance to land.
    False at the deadline."""
    asked = time.monotonic()
    give_up = asked + max(deadline, quiet * 3)
    while True:
        now = time.monotonic()
        idle_for = now - max(last_activity(), asked)
        if idle_for >= quiet:
            return True
        if now >= give_up:
            return False
        await asyncio.sleep(min(quiet - idle_for, give_up - now, quiet))
