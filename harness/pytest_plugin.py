"""pytest plugin: every scenario file is collected as one test item per fix mode.

Scenario files are found by glob patterns relative to the rootdir (ini ``freshness_scenarios``,
default ``scenarios/**/*.yaml``), so YAML elsewhere (fixtures of broken files in tests/) is left
alone. A file that does not load fails collection with ``path:line: message``. A run that does not
meet its expectation fails with the same anomaly text the CLI prints.

Options share the ``--freshness-`` prefix.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest

from harness.choices import parse_choices
from harness.errors import ScenarioError
from harness.explain import failure_text
from harness.runner import RunResult, run_scenario
from harness.scenario.loader import LoadedScenario, load_scenario
from harness.scenario.model import FIX_MODES, SURFACES, FixMode

__all__ = ["ScenarioFailed", "ScenarioFile", "ScenarioItem"]

DEFAULT_PATTERNS = ["scenarios/**/*.yaml", "scenarios/*.yaml"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("freshness", "Freshness scenarios")
    group.addoption(
        "--freshness-surface",
        default="store,protocol",
        help="comma-separated surfaces to read in scenario items (default: store,protocol)",
    )
    group.addoption(
        "--freshness-mode",
        default=",".join(FIX_MODES),
        help="comma-separated fix modes to collect (default: all four)",
    )
    group.addoption(
        "--freshness-runs-dir",
        default=".freshness/runs/pytest",
        help="where each run keeps its trace and artifacts",
    )
    parser.addini(
        "freshness_scenarios",
        "glob patterns (relative to rootdir) of scenario files to collect",
        type="linelist",
        default=DEFAULT_PATTERNS,
    )


def _split(value: str, allowed: tuple[str, ...], option: str) -> list[str]:
    try:
        return parse_choices(value, allowed, option.rsplit("-", 1)[-1])
    except ValueError as error:
        raise pytest.UsageError(f"{option}: {error}") from None


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> ScenarioFile | None:
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    config = parent.config
    try:
        relative = file_path.relative_to(config.rootpath).as_posix()
    except ValueError:
        return None
    patterns: list[str] = config.getini("freshness_scenarios")
    if not any(fnmatch(relative, pattern) for pattern in patterns):
        return None
    return ScenarioFile.from_parent(parent, path=file_path)


class ScenarioFailed(Exception):
    def __init__(self, result: RunResult) -> None:
        super().__init__(result.verdict.status.value)
        self.result = result


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[ScenarioItem]:
        try:
            loaded = load_scenario(self.path)
        except ScenarioError as error:
            raise self.CollectError(error.with_source()) from None
        modes = _split(self.config.getoption("freshness_mode"), FIX_MODES, "--freshness-mode")
        for mode in modes:
            yield ScenarioItem.from_parent(self, name=f"mode={mode}", loaded=loaded, mode=mode)


class ScenarioItem(pytest.Item):
    def __init__(self, *, loaded: LoadedScenario, mode: FixMode, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.loaded = loaded
        self.mode = mode
        self.add_marker(pytest.mark.freshness)

    def runtest(self) -> None:
        surfaces = _split(
            self.config.getoption("freshness_surface"), SURFACES, "--freshness-surface"
        )
        applies = self.loaded.scenario.surfaces
        if not any(surface in applies for surface in surfaces):
            # Run on none of them it would judge nothing, and nothing judged reads as a pass.
            pytest.skip(f"the scenario applies to {', '.join(applies)} only")
        runs_dir = Path(self.config.getoption("freshness_runs_dir"))
        result = asyncio.run(
            run_scenario(self.loaded, self.mode, surfaces=surfaces, runs_dir=runs_dir)
        )
        self.user_properties.append(("status", result.verdict.status.value))
        self.user_properties.append(("artifacts", str(result.artifacts)))
        if not result.verdict.ok:
            raise ScenarioFailed(result)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str:
        if isinstance(excinfo.value, ScenarioFailed):
            result = excinfo.value.result
            return failure_text(result.history, result.verdict, f"{result.artifacts}/")
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"{self.loaded.path}::{self.name}"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "freshness: a scenario x fix-mode item collected from a scenario file"
    )
