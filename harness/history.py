"""A run's history: what every surface showed at every checkpoint, live and after a reload.

Records only; the runner writes them, the checks read them. A history round-trips through JSON
Lines (one header line, then one line per checkpoint) so that a run can be checked again later.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Checkpoint", "History", "Reading", "read_trace", "write_trace"]


@dataclass(frozen=True)
class Reading:
    """One readout on one surface at one checkpoint."""

    live: str | None
    """What the running app shows; None when the surface could not read it."""
    reload: str | None
    """What a freshly loaded client shows: storage's truth, as this surface renders it."""
    expected: str | None
    """What the scenario's arithmetic gives; None where the scenario cannot know."""
    asserted: str | None = None
    """What a `check` step states at this checkpoint, if any."""
    latency_ms: float | None = None
    """From the model server sending this checkpoint's usage to the live value showing it."""
    error: str | None = None


@dataclass(frozen=True)
class Checkpoint:
    index: int
    """1-based position in the run."""
    line: int
    """Scenario line of the step this checkpoint follows."""
    label: str
    readings: dict[str, dict[str, Reading]]
    """surface -> readout -> reading."""
    mid_turn: bool = False
    session: str | None = None
    """The scenario session open here: a cumulative readout may only be compared within one."""


@dataclass
class History:
    scenario: str
    path: str
    mode: str
    surfaces: tuple[str, ...]
    checkpoints: list[Checkpoint] = field(default_factory=list)
    error: str | None = None
    """Set when the run could not finish; its verdict is then unknown, never a pass."""
    meta: dict[str, Any] = field(default_factory=dict)

    def readouts_on(self, surface: str) -> list[str]:
        names: dict[str, None] = {}
        for checkpoint in self.checkpoints:
            names.update(dict.fromkeys(checkpoint.readings.get(surface, {})))
        return list(names)

    def series(self, surface: str, readout: str) -> list[tuple[Checkpoint, Reading]]:
        return [
            (checkpoint, checkpoint.readings[surface][readout])
            for checkpoint in self.checkpoints
            if readout in checkpoint.readings.get(surface, {})
        ]


def _checkpoint_from_json(raw: dict[str, Any]) -> Checkpoint:
    readings = {
        surface: {name: Reading(**values) for name, values in by_readout.items()}
        for surface, by_readout in raw["readings"].items()
    }
    return Checkpoint(
        index=raw["index"],
        line=raw["line"],
        label=raw["label"],
        readings=readings,
        mid_turn=raw.get("mid_turn", False),
        session=raw.get("session"),
    )


def write_trace(history: History, path: Path) -> None:
    header = {
        "scenario": history.scenario,
        "path": history.path,
        "mode": history.mode,
        "surfaces": list(history.surfaces),
        "error": history.error,
        "meta": history.meta,
    }
    lines: Iterable[str] = (
        json.dumps(record, sort_keys=True)
        for record in [header, *(asdict(cp) for cp in history.checkpoints)]
    )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_trace(path: Path) -> History:
    lines = path.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    return History(
        scenario=header["scenario"],
        path=header["path"],
        mode=header["mode"],
        surfaces=tuple(header["surfaces"]),
        checkpoints=[_checkpoint_from_json(json.loads(line)) for line in lines[1:] if line],
        error=header.get("error"),
        meta=header.get("meta", {}),
    )
