"""Run many scenario x mode combinations, a few at a time, in one event loop.

Shared by the CLI and anything else that runs a batch; each run is independent (its own ports,
folders and database), so running several at once is only a question of how many cores to use.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path

from harness.runner import DEFAULT_SURFACES, RunResult, run_scenario
from harness.scenario.loader import LoadedScenario
from harness.scenario.model import RunMode
from harness.targets.base import Target

__all__ = ["run_matrix"]


async def run_matrix(
    scenarios: Sequence[LoadedScenario],
    modes: Sequence[RunMode],
    *,
    surfaces: Sequence[str] = DEFAULT_SURFACES,
    runs_dir: Path,
    jobs: int = 2,
    target_factory: Callable[[], Target] | None = None,
    on_result: Callable[[RunResult], None] | None = None,
) -> list[RunResult]:
    """Every scenario in every mode; results in scenario order, then mode order."""
    gate = asyncio.Semaphore(max(1, jobs))

    async def one(loaded: LoadedScenario, mode: RunMode) -> RunResult:
        async with gate:
            result = await run_scenario(
                loaded,
                mode,
                surfaces=surfaces,
                runs_dir=runs_dir,
                target=target_factory() if target_factory else None,
            )
        if on_result is not None:
            on_result(result)
        return result

    return list(
        await asyncio.gather(*(one(loaded, mode) for loaded in scenarios for mode in modes))
    )
