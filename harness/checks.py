"""The oracles: pure functions from a history to the anomalies it shows.

Each oracle looks at one property and knows nothing of the others; :func:`check_history` runs them
all and folds the symptoms under their cause (see :func:`harness.anomalies.fold_implied`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from harness.anomalies import (
    DISAGREE,
    FROZEN,
    LOCKSTEP,
    NON_MONOTONIC,
    STALE,
    WRONG,
    Anomaly,
    fold_implied,
)
from harness.display import parse_cost, parse_tokens
from harness.history import Checkpoint, History, Reading
from harness.readouts import LOCKSTEP_GROUPS, READOUTS, Kind

__all__ = [
    "ORACLES",
    "check_history",
    "cross_surface",
    "expected",
    "live_equals_reload",
    "lockstep",
    "monotonic",
]

Oracle = Callable[[History], list[Anomaly]]


def _runs(indexes: list[int]) -> Iterator[list[int]]:
    """Split positions into maximal runs of consecutive ones."""
    run: list[int] = []
    for index in indexes:
        if run and index != run[-1] + 1:
            yield run
            run = []
        run.append(index)
    if run:
        yield run


def live_equals_reload(history: History) -> list[Anomaly]:
    """At every checkpoint, live must equal what a freshly loaded client shows.

    A stretch where live differs is FROZEN when the live value never moved during it (nor since
    the checkpoint before it), STALE when it moved but never caught up.
    """
    found: list[Anomaly] = []
    for surface in history.surfaces:
        for readout in history.readouts_on(surface):
            series = history.series(surface, readout)
            behind = [
                position
                for position, (_, reading) in enumerate(series)
                if reading.live is not None
                and reading.reload is not None
                and reading.live != reading.reload
            ]
            by_code: dict[str, list[int]] = {}
            for run in _runs(behind):
                # A checkpoint where the surface showed nothing (offline, unreadable) is not a
                # move: only values it did show tell frozen from stale, so the stretch is
                # compared with the last value shown before it, past any such checkpoints.
                start = next(
                    (p for p in range(run[0] - 1, -1, -1) if series[p][1].live is not None),
                    run[0],
                )
                shown = {series[p][1].live for p in range(start, run[-1] + 1)} - {None}
                code = FROZEN if len(shown) == 1 else STALE
                by_code.setdefault(code, []).extend(series[p][0].index for p in run)
            for code, checkpoints in by_code.items():
                found.append(
                    Anomaly(
                        code=code,
                        oracle="live_equals_reload",
                        surface=surface,
                        readouts=(readout,),
                        checkpoints=tuple(checkpoints),
                    )
                )
    return found


def expected(history: History) -> list[Anomaly]:
    """Live must equal the scenario's arithmetic (and any value a `check` step states)."""
    found: list[Anomaly] = []
    for surface in history.surfaces:
        for readout in history.readouts_on(surface):
            wrong = [
                checkpoint.index
                for checkpoint, reading in history.series(surface, readout)
                if reading.live is not None
                and any(
                    truth is not None and reading.live != truth
                    for truth in (reading.expected, reading.asserted)
                )
            ]
            if wrong:
                found.append(Anomaly(WRONG, "expected", surface, (readout,), tuple(wrong)))
    return found


def _amount(readout: str, shown: str | None) -> float | None:
    if shown is None:
        return None
    if READOUTS[readout].measures == "cost":
        return parse_cost(shown)
    number = parse_tokens(shown.rstrip("%"))
    return None if number is None else float(number)


def monotonic(history: History) -> list[Anomaly]:
    """Money spent never falls: not live, and not in storage either."""
    found: list[Anomaly] = []
    for surface in history.surfaces:
        for readout in history.readouts_on(surface):
            if readout not in READOUTS or READOUTS[readout].kind is not Kind.CUMULATIVE:
                continue
            series = history.series(surface, readout)
            for field in ("live", "reload"):
                # Each amount is held against the last one shown for the same session: opening
                # another session shows another total (a switch, not a fall), and a checkpoint
                # with no amount (unreadable, offline, "unknown") hides no fall across it.
                last: dict[str | None, float] = {}
                fell: list[int] = []
                for checkpoint, reading in series:
                    amount = _amount(readout, getattr(reading, field))
                    if amount is None:
                        continue
                    before = last.get(checkpoint.session)
                    if before is not None and amount < before:
                        fell.append(checkpoint.index)
                    last[checkpoint.session] = amount
                if fell:
                    found.append(
                        Anomaly(
                            NON_MONOTONIC,
                            "monotonic",
                            surface,
                            (readout,),
                            tuple(fell),
                            detail=f"{field} value fell",
                        )
                    )
    return found


def _moved(before: Reading, after: Reading, field: str) -> bool:
    return bool(getattr(before, field) != getattr(after, field))


def lockstep(history: History) -> list[Anomaly]:
    """Readouts in one box move at the same checkpoints.

    Broken where storage says a member changed but its live value did not, while another member's
    live value did: one number ticks, its neighbour sits still.
    """
    found: list[Anomaly] = []
    for surface in history.surfaces:
        present = set(history.readouts_on(surface))
        for group in LOCKSTEP_GROUPS:
            members = [name for name in group if name in present]
            if len(members) < 2:
                continue
            series = {name: history.series(surface, name) for name in members}
            broken: list[int] = []
            stuck_names: set[str] = set()
            for position in range(1, min(len(s) for s in series.values())):
                pairs = {name: (s[position - 1][1], s[position][1]) for name, s in series.items()}
                moving = [n for n, (a, b) in pairs.items() if _moved(a, b, "live")]
                stuck = [
                    n
                    for n, (a, b) in pairs.items()
                    if _moved(a, b, "reload") and not _moved(a, b, "live")
                ]
                if moving and stuck:
                    broken.append(series[members[0]][position][0].index)
                    stuck_names.update(stuck)
            if broken:
                names = tuple(sorted(stuck_names)) + tuple(
                    n for n in members if n not in stuck_names
                )
                found.append(Anomaly(LOCKSTEP, "lockstep", surface, names, tuple(broken)))
    return found


def cross_surface(history: History) -> list[Anomaly]:
    """Every surface showing a readout shows the same value at the same checkpoint."""
    found: dict[tuple[str, tuple[str, ...]], list[int]] = {}
    for checkpoint in history.checkpoints:
        for readout, shown in _values_by_readout(checkpoint).items():
            if len(set(shown.values())) > 1:
                key = (readout, tuple(sorted(shown)))
                found.setdefault(key, []).append(checkpoint.index)
    return [
        Anomaly(DISAGREE, "cross_surface", "+".join(surfaces), (readout,), tuple(indexes))
        for (readout, surfaces), indexes in found.items()
    ]


def _values_by_readout(checkpoint: Checkpoint) -> dict[str, dict[str, str]]:
    values: dict[str, dict[str, str]] = {}
    for surface, readings in checkpoint.readings.items():
        for readout, reading in readings.items():
            if reading.live is not None:
                values.setdefault(readout, {})[surface] = reading.live
    return {readout: shown for readout, shown in values.items() if len(shown) > 1}


ORACLES: dict[str, Oracle] = {
    "live_equals_reload": live_equals_reload,
    "lockstep": lockstep,
    "expected": expected,
    "monotonic": monotonic,
    "cross_surface": cross_surface,
}


def check_history(history: History) -> list[Anomaly]:
    """Every oracle's findings, symptoms folded under their causes, most specific first."""
    found = [anomaly for oracle in ORACLES.values() for anomaly in oracle(history)]
    return fold_implied(found)
