"""Verdicts: a run's anomalies held against what the scenario says its fix mode must give.

A mode expected to fail that passes is itself a failure (MISSED): the harness must show it can
catch the bug before it is trusted to guard against it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

from harness.anomalies import NOT_SHOWN, Anomaly
from harness.readouts import expand_patterns
from harness.scenario.model import ExpectedAnomaly

__all__ = ["Status", "SurfaceVerdict", "Verdict", "judge"]


class Status(Enum):
    PASS = "pass"
    """No anomaly, none expected."""
    CAUGHT = "caught"
    """Exactly the anomalies the scenario expects for this mode: the bug is reproduced."""
    FAIL = "fail"
    """An anomaly the scenario does not expect."""
    MISSED = "missed"
    """An expected anomaly did not show: the harness failed to catch the bug."""
    ERROR = "error"
    """The run did not finish; nothing is known (never a pass)."""

    @property
    def ok(self) -> bool:
        return self in (Status.PASS, Status.CAUGHT)


_SEVERITY = [Status.PASS, Status.CAUGHT, Status.MISSED, Status.FAIL, Status.ERROR]


@dataclass(frozen=True)
class SurfaceVerdict:
    surface: str
    status: Status
    anomalies: tuple[Anomaly, ...] = ()
    missing: tuple[tuple[str, str], ...] = ()
    """(code, readout) pairs the scenario expects here that the run did not show."""
    unexpected: tuple[Anomaly, ...] = ()
    unread: tuple[str, ...] = ()
    """Readouts this surface never managed to read: nothing about them is known."""


@dataclass(frozen=True)
class Verdict:
    scenario: str
    mode: str
    surfaces: dict[str, SurfaceVerdict] = field(default_factory=dict)
    anomalies: tuple[Anomaly, ...] = ()
    error: str | None = None

    @property
    def status(self) -> Status:
        if self.error is not None:
            return Status.ERROR
        statuses = [v.status for v in self.surfaces.values()] or [Status.PASS]
        return max(statuses, key=_SEVERITY.index)

    @property
    def ok(self) -> bool:
        return self.status.ok


def _belongs(anomaly: Anomaly, surface: str) -> bool:
    return surface in anomaly.surface.split("+")


def _seen(anomaly: Anomaly) -> Iterable[tuple[str, str]]:
    for found in (anomaly, *anomaly.implied):
        for name in found.readouts:
            yield (found.code, name)


def judge(
    scenario: str,
    mode: str,
    anomalies: list[Anomaly],
    expectation: tuple[ExpectedAnomaly, ...],
    readouts_by_surface: dict[str, set[str]],
    *,
    error: str | None = None,
    unread: dict[str, tuple[str, ...]] | None = None,
) -> Verdict:
    """Compare what was found on each surface with what the expectation requires there.

    A surface that never read one of its readouts cannot pass: a pattern that stopped matching
    a screen would otherwise look exactly like a healthy, quiet readout."""
    if error is not None:
        return Verdict(scenario, mode, anomalies=tuple(anomalies), error=error)
    verdicts: dict[str, SurfaceVerdict] = {}
    for surface, available in readouts_by_surface.items():
        required: set[tuple[str, str]] = set()
        # A second window ("store#2") is the same kind of surface: it is held to what the
        # scenario says of "store".
        kind = surface.split("#", 1)[0]
        for entry in expectation:
            if entry.surfaces is None or kind in entry.surfaces:
                required.update((entry.code, r) for r in expand_patterns(entry.readouts, available))
        here = tuple(a for a in anomalies if _belongs(a, surface))
        unread_here = (unread or {}).get(surface, ())
        seen = {pair for anomaly in here for pair in _seen(anomaly)}
        seen.update((NOT_SHOWN, name) for name in unread_here)
        missing = tuple(sorted(required - seen))
        unexpected = tuple(
            a for a in here if not any((a.code, name) in required for name in a.readouts)
        )
        never_read = tuple(name for name in unread_here if (NOT_SHOWN, name) not in required)
        if never_read:
            status = Status.ERROR
        elif unexpected:
            status = Status.FAIL
        elif missing:
            status = Status.MISSED
        elif any(code != NOT_SHOWN for code, _ in required):
            status = Status.CAUGHT
        else:
            status = Status.PASS
        verdicts[surface] = SurfaceVerdict(surface, status, here, missing, unexpected, never_read)
    return Verdict(scenario, mode, verdicts, tuple(anomalies))
