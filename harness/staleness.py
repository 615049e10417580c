"""How late each readout was: from the model server sending a step's usage to the live value
showing it. Pure: summarised from the latencies recorded in a history."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from harness.history import History

__all__ = ["Staleness", "percentile", "summarize_staleness"]


@dataclass(frozen=True)
class Staleness:
    surface: str
    readout: str
    samples: int
    p50_ms: float
    p99_ms: float
    max_ms: float


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted ``values`` (no interpolation: a real observed value)."""
    rank = max(1, math.ceil(fraction * len(values)))
    return values[rank - 1]


def summarize_staleness(histories: History | Iterable[History]) -> list[Staleness]:
    if isinstance(histories, History):
        histories = [histories]
    samples: dict[tuple[str, str], list[float]] = {}
    for history in histories:
        for checkpoint in history.checkpoints:
            for surface, readings in checkpoint.readings.items():
                for readout, reading in readings.items():
                    if reading.latency_ms is not None:
                        samples.setdefault((surface, readout), []).append(reading.latency_ms)
    summary = []
    for (surface, readout), values in sorted(samples.items()):
        values.sort()
        summary.append(
            Staleness(
                surface=surface,
                readout=readout,
                samples=len(values),
                p50_ms=percentile(values, 0.50),
                p99_ms=percentile(values, 0.99),
                max_ms=values[-1],
            )
        )
    return summary
