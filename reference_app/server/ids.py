"""Opencode-style identifiers: `ses_…`, `msg_…`, `prt_…`, `evt_…`.

An id is a prefix, 12 hex digits of (milliseconds * 4096 + counter) and 14 random base62
characters. The hex part makes ids of one kind sort in creation order, which the message
and part listings rely on (they ORDER BY id).
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import Literal

__all__ = ["Prefix", "new_id"]

Prefix = Literal["ses", "msg", "prt", "evt"]

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_COUNTER_SPAN = 0x1000


class _Sequence:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def next(self) -> int:
        with self._lock:
            candidate = int(time.time() * 1000) * _COUNTER_SPAN
            # Never go backwards: a clock step (or a time-machine jump in tests) must not
            # make a later id sort before an earlier one.
            self._last = max(candidate, self._last + 1)
            return self._last


_sequence = _Sequence()


def new_id(prefix: Prefix) -> str:
    """A new id of the given kind, greater than every id this process made before."""
    value = _sequence.next() % (1 << 48)
    random_tail = "".join(secrets.choice(_BASE62) for _ in range(14))
    return f"{prefix}_{value:012x}{random_tail}"
