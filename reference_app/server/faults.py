"""Event faults for tests and the harness: deliver one event twice, or one event late.

Real event streams duplicate (at-least-once delivery, a replay that overlaps what was seen) and
reorder (a slow path, a retry); a client must count nothing twice and never let an older event
overwrite newer state. This injector, switched on only by `event_faults` in the config, arms one
fault at a time for the next event of a type, on the server side of the stream.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from .types import JSON

__all__ = ["EventFaults"]


@dataclass
class EventFaults:
    _duplicate: list[str] = field(default_factory=list)
    _delay: list[str] = field(default_factory=list)
    _held: list[JSON] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def duplicate(self, event_type: str) -> None:
        """The next event of this type is delivered twice (the same event, two sequences)."""
        with self._lock:
            self._duplicate.append(event_type)

    def delay(self, event_type: str) -> None:
        """The next event of this type is held back and delivered right after the next one of
        the same type for the same session, so the two arrive in the wrong order."""
        with self._lock:
            self._delay.append(event_type)

    def rewrite(self, payload: JSON) -> list[JSON]:
        """What to deliver, in order, in place of `payload`."""
        kind = str(payload.get("type"))
        session = _session_of(payload)
        with self._lock:
            if kind in self._delay:
                self._delay.remove(kind)
                self._held.append(payload)
                return []
            # An idle session publishes nothing more of its own: whatever it still holds goes.
            late = [
                held
                for held in self._held
                if _session_of(held) == session and (kind == "session.idle" or held["type"] == kind)
            ]
            for held in late:
                self._held.remove(held)
            out = [payload, *late]
            if kind in self._duplicate:
                self._duplicate.remove(kind)
                out.insert(1, payload)
            return out


def _session_of(payload: JSON) -> object:
    return (payload.get("properties") or {}).get("sessionID")
