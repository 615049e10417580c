"""Anomalies: what the checks find, as data first.

An anomaly names a code from a short stable vocabulary, the readouts and surface it concerns, the
checkpoints where it shows and a minimal witness (the first checkpoint where it shows). Prose is
rendered from the record elsewhere (:mod:`harness.explain`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

__all__ = [
    "ANOMALY_CODES",
    "EXPECTABLE_CODES",
    "FRESHNESS_CODES",
    "NOT_SHOWN",
    "SPECIFICITY",
    "Anomaly",
    "fold_implied",
]

FROZEN = "FROZEN-UNTIL-RELOAD"
STALE = "STALE-UNTIL-RELOAD"
LOCKSTEP = "LOCKSTEP-BROKEN"
WRONG = "WRONG-TOTAL"
NON_MONOTONIC = "NON-MONOTONIC"
DISAGREE = "SURFACE-DISAGREE"

# Most specific first: a report leads with the first of these that a run shows.
ANOMALY_CODES: tuple[str, ...] = (FROZEN, STALE, NON_MONOTONIC, WRONG, DISAGREE, LOCKSTEP)
SPECIFICITY = {code: rank for rank, code in enumerate(ANOMALY_CODES)}
FRESHNESS_CODES = frozenset({FROZEN, STALE})

NOT_SHOWN = "NOT-SHOWN"
"""Not an anomaly but what a scenario may expect instead: this surface never shows the readout
in this run (opencode's status row has no dollars while the session's cost is zero). Without it
a readout never read is an error, since a pattern that stopped matching looks the same."""
EXPECTABLE_CODES: tuple[str, ...] = (*ANOMALY_CODES, NOT_SHOWN)


@dataclass(frozen=True)
class Anomaly:
    code: str
    oracle: str
    surface: str
    readouts: tuple[str, ...]
    checkpoints: tuple[int, ...]
    """Checkpoint indexes (1-based) where the anomaly shows, ascending."""
    detail: str = ""
    implied: tuple[Anomaly, ...] = field(default=())
    """Anomalies this one explains ("also"), folded under it."""

    @property
    def witness(self) -> int:
        return self.checkpoints[0]

    @property
    def readout(self) -> str:
        return self.readouts[0]

    def sort_key(self) -> tuple[int, str, tuple[str, ...], int]:
        return (SPECIFICITY[self.code], self.surface, self.readouts, self.witness)


def _related(primary: Anomaly, other: Anomaly) -> bool:
    """Whether ``other`` can be a symptom of ``primary`` (a live value behind storage)."""
    if primary.code not in FRESHNESS_CODES or other.code in FRESHNESS_CODES:
        return False
    if other.code == WRONG:
        # Live differs from the expected total because it never caught up with storage.
        return other.surface == primary.surface and other.readouts == primary.readouts
    if other.code == LOCKSTEP:
        return other.surface == primary.surface and primary.readout in other.readouts
    if other.code == DISAGREE:
        return primary.surface in other.surface.split("+") and primary.readout in other.readouts
    return False


def fold_implied(anomalies: list[Anomaly]) -> list[Anomaly]:
    """Put what a freshness anomaly explains under it, most specific first.

    A symptom is folded only at the checkpoints its cause covers; whatever is left over stays at
    the top level, because it needs an explanation of its own. What remains at the top level is
    what a reader must act on; the folded ones are the "also" lines beneath.
    """
    primaries: list[Anomaly] = []
    for candidate in sorted(anomalies, key=Anomaly.sort_key):
        remaining = set(candidate.checkpoints)
        for index, primary in enumerate(primaries):
            if not remaining or not _related(primary, candidate):
                continue
            covered = remaining & set(primary.checkpoints)
            if covered:
                symptom = replace(candidate, checkpoints=tuple(sorted(covered)))
                primaries[index] = replace(primary, implied=(*primary.implied, symptom))
                remaining -= covered
        if remaining:
            primaries.append(replace(candidate, checkpoints=tuple(sorted(remaining))))
    return primaries
