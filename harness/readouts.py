"""The readouts the harness knows: their names, their kind of number, and which move together.

Names are stable: scenarios, snapshots and reports use them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from fnmatch import fnmatchcase

__all__ = [
    "LOCKSTEP_GROUPS",
    "OPTIONAL_GROUPS",
    "READOUTS",
    "Kind",
    "Readout",
    "expand_patterns",
    "readout",
]


class Kind(Enum):
    OCCUPANCY = "occupancy"
    """How full the context is now: may fall (compaction, a new turn with a smaller context)."""
    CUMULATIVE = "cumulative"
    """Money billed so far: never falls (revert, compaction, windowing do not un-spend)."""


@dataclass(frozen=True)
class Readout:
    name: str
    kind: Kind
    measures: str
    """What the value is: "tokens", "percent" or "cost"."""
    group: str | None = None
    """The optional group it belongs to: shown only by a scenario that needs it (see
    ``OPTIONAL_GROUPS``); None for the readouts every run shows."""


READOUTS: dict[str, Readout] = {
    r.name: r
    for r in (
        Readout("sidebar.tokens", Kind.OCCUPANCY, "tokens"),
        Readout("sidebar.percent", Kind.OCCUPANCY, "percent"),
        Readout("sidebar.cost", Kind.CUMULATIVE, "cost"),
        Readout("sessions.cost", Kind.CUMULATIVE, "cost"),
        Readout("footer.tokens", Kind.OCCUPANCY, "tokens"),
        Readout("footer.cost", Kind.CUMULATIVE, "cost"),
        Readout("session.tokens", Kind.CUMULATIVE, "tokens"),
        Readout("session.cost", Kind.CUMULATIVE, "cost"),
        # A parent session's spend with its subagents' (child sessions') added, each once. Shown
        # only where a scenario has subagents.
        Readout("sidebar.family.cost", Kind.CUMULATIVE, "cost", group="family"),
        Readout("session.family.cost", Kind.CUMULATIVE, "cost", group="family"),
        # How many sessions the session list holds: shown where scenarios delete sessions, so a
        # list that merges a resync into stale state (instead of replacing it) shows.
        Readout("sessions.count", Kind.OCCUPANCY, "count", group="list"),
    )
}

OPTIONAL_GROUPS: dict[str, str] = {
    "family": "a scenario with subagents (a session with `parent:`)",
    "list": "a scenario that deletes a session (`delete_session`)",
}
"""What makes a scenario show each optional group of readouts."""

# Readouts shown in one box: a user expects them to move at the same checkpoints.
LOCKSTEP_GROUPS: tuple[tuple[str, ...], ...] = (
    ("sidebar.tokens", "sidebar.percent", "sidebar.cost"),
    ("footer.tokens", "footer.cost"),
)


def readout(name: str) -> Readout:
    try:
        return READOUTS[name]
    except KeyError:
        known = ", ".join(sorted(READOUTS))
        raise KeyError(f"unknown readout {name!r}; known readouts: {known}") from None


def expand_patterns(patterns: list[str] | tuple[str, ...], available: set[str]) -> set[str]:
    """The readouts among ``available`` that any of the glob ``patterns`` names."""
    return {name for name in available if any(fnmatchcase(name, p) for p in patterns)}
