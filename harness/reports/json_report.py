"""The machine-readable report: every run with its verdict, anomalies and full history.

Keys come out in one fixed order (the order they are built in here, never a set's or a dict's
accidental order from elsewhere), so two reports of the same runs diff cleanly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.anomalies import Anomaly
from harness.history import History
from harness.reports._common import counts, staleness_over
from harness.staleness import Staleness

if TYPE_CHECKING:
    from harness.runner import RunResult

__all__ = ["FORMAT", "VERSION", "to_json", "write_json"]

FORMAT = "freshness-report"
VERSION = 1


def _anomaly(anomaly: Anomaly) -> dict[str, Any]:
    return {
        "code": anomaly.code,
        "oracle": anomaly.oracle,
        "surface": anomaly.surface,
        "readouts": list(anomaly.readouts),
        "checkpoints": list(anomaly.checkpoints),
        "witness": anomaly.witness if anomaly.checkpoints else None,
        "detail": anomaly.detail,
        "implied": [_anomaly(symptom) for symptom in anomaly.implied],
    }


def _staleness(rows: list[Staleness]) -> list[dict[str, Any]]:
    return [
        {
            "surface": row.surface,
            "readout": row.readout,
            "samples": row.samples,
            "p50_ms": row.p50_ms,
            "p99_ms": row.p99_ms,
            "max_ms": row.max_ms,
        }
        for row in rows
    ]


def _plain(value: Any) -> Any:
    # History.meta is free-form; whatever is not JSON already is written as its text.
    return json.loads(json.dumps(value, default=str))


def _checkpoints(history: History) -> list[dict[str, Any]]:
    return [
        {
            "index": checkpoint.index,
            "line": checkpoint.line,
            "label": checkpoint.label,
            "mid_turn": checkpoint.mid_turn,
            "readings": {
                surface: {name: asdict(reading) for name, reading in readings.items()}
                for surface, readings in checkpoint.readings.items()
            },
        }
        for checkpoint in history.checkpoints
    ]


def _run(result: RunResult) -> dict[str, Any]:
    verdict = result.verdict
    unexpected: dict[Anomaly, None] = {}
    for surface_verdict in verdict.surfaces.values():
        unexpected.update(dict.fromkeys(surface_verdict.unexpected))
    return {
        "scenario": result.history.scenario,
        "path": result.history.path,
        "mode": str(result.mode),
        "surfaces": list(result.history.surfaces),
        "status": verdict.status.value,
        "ok": verdict.ok,
        "seconds": round(result.seconds, 3),
        "error": verdict.error,
        "by_surface": {
            surface: {
                "status": surface_verdict.status.value,
                "missing": [
                    {"code": code, "readout": readout} for code, readout in surface_verdict.missing
                ],
                "unexpected": [_anomaly(a) for a in surface_verdict.unexpected],
            }
            for surface, surface_verdict in verdict.surfaces.items()
        },
        "anomalies": [_anomaly(a) for a in verdict.anomalies],
        "missing": [
            {"surface": surface, "code": code, "readout": readout}
            for surface, surface_verdict in verdict.surfaces.items()
            for code, readout in surface_verdict.missing
        ],
        "unexpected": [_anomaly(a) for a in unexpected],
        "staleness": _staleness(result.staleness),
        "checkpoints": _checkpoints(result.history),
        "meta": _plain(result.history.meta),
        "artifacts": str(result.artifacts),
    }


def to_json(results: Sequence[RunResult]) -> dict[str, Any]:
    """Every run as plain JSON data (lists, dicts, strings, numbers, None)."""
    tally = counts(results)
    return {
        "format": FORMAT,
        "version": VERSION,
        "summary": {
            "runs": tally.runs,
            "passed": tally.passed,
            "caught": tally.caught,
            "failed": tally.failed,
            "errors": tally.errors,
            "ok": tally.failed == 0,
        },
        "runs": [_run(result) for result in results],
        "staleness": _staleness(staleness_over(results)),
    }


def write_json(results: Sequence[RunResult], path: Path) -> Path:
    path.write_text(
        json.dumps(to_json(results), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return path
