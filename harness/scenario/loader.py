"""Load a scenario file into a :class:`Scenario`, or fail with ``path:line: what is wrong``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from harness.errors import ScenarioError
from harness.expected import ExpectedState, ScenarioArithmeticError
from harness.scenario.model import Scenario
from harness.scenario.steps import STEP_KIND_NAMES
from harness.scenario.yaml_lines import LineMap, load_yaml_with_lines

__all__ = ["LoadedScenario", "discover", "load_scenario", "load_scenarios"]

SCENARIO_GLOB = "*.yaml"
MAX_EXPANDED_STEPS = 100_000
"""Steps and model steps of one scenario, every `repeat` multiplied out. Nested repeats multiply
(1000 x 1000 x 1000 is within each field's bound): the dry run below would take hours, and a run
that long proves nothing a shorter one does not."""


@dataclass(frozen=True)
class LoadedScenario:
    scenario: Scenario
    path: Path
    step_lines: tuple[int, ...]
    """The line where each step was written, by step index."""
    source: str
    expect_lines: Mapping[str, int] = field(default_factory=dict)
    """Where each fix mode's (and each target's) expectation is written, so a run that does not
    meet it can point there."""

    @property
    def name(self) -> str:
        return self.scenario.name


def _readable_location(loc: tuple[str | int, ...], data: Any) -> tuple[tuple[str | int, ...], str]:
    """Drop pydantic's union tags from ``loc`` by walking the real data; name it for a reader."""
    real: list[str | int] = []
    node: Any = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
            real.append(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            real.append(part)
        # Anything else is a tag pydantic added (a union member's name), not part of the file.
    shown = ""
    for part in real:
        shown += f"[{part}]" if isinstance(part, int) else (f".{part}" if shown else str(part))
    return tuple(real), shown


def _at(data: Any, loc: tuple[str | int, ...]) -> Any:
    for part in loc:
        data = data[part]
    return data


def _step_shape_hint(raw: Any) -> str | None:
    """A step written with several keys is almost always a mis-indented argument."""
    if not isinstance(raw, dict) or len(raw) < 2:
        return None
    keys = [str(key) for key in raw]
    kinds = [key for key in keys if key in STEP_KIND_NAMES]
    if len(kinds) != 1:
        return None
    others = [key for key in keys if key != kinds[0]]
    return (
        f"a step is one key, its kind; this one has {len(keys)} ({', '.join(keys)}):"
        f" should {', '.join(f'`{key}`' for key in others)} be indented under `{kinds[0]}:`?"
    )


def _message(error: Any, field_path: str, raw: Any = None) -> str:
    text = str(error["msg"])
    hint = _step_shape_hint(raw) if error["type"] == "unknown_step" else None
    if hint is not None:
        text = hint
    elif error["type"] == "literal_error" and error.get("ctx", {}).get("expected") == "'pass'":
        text = (
            "write `pass`, or a list of the anomalies it must raise"
            " (`- FROZEN-UNTIL-RELOAD: [sidebar.cost]`)"
        )
    elif error["type"] == "extra_forbidden":
        text = "unknown key (check its spelling, or the schema: `freshness schema`)"
    elif error["type"] == "missing":
        text = "required key is missing"
    text = text.removeprefix("Value error, ")
    return f"{field_path}: {text}" if field_path else text


MAX_PROBLEMS_SHOWN = 10


def _validation_error(
    path: Path, error: ValidationError, data: Any, lines: LineMap
) -> ScenarioError:
    # A union reports every alternative it tried; the one that got furthest into the data says
    # what is wrong there, and an alternative that failed higher up the same path is noise.
    located = [(_readable_location(tuple(e["loc"]), data), e) for e in error.errors()]
    deepest: dict[tuple[str | int, ...], tuple[tuple[str | int, ...], str, Any]] = {}
    for (real_loc, where), problem in sorted(located, key=lambda item: -len(item[0][0])):
        key, shown = real_loc, where
        if problem["type"] == "missing" and real_loc == tuple(problem["loc"][:-1]):
            # A missing key is a problem of its own, not a union alternative of its parent.
            key = (*real_loc, problem["loc"][-1])
            shown = f"{where}.{problem['loc'][-1]}" if where else str(problem["loc"][-1])
        if any(other[: len(key)] == key for other in deepest):
            continue
        deepest[key] = (real_loc, shown, problem)
    found = [
        (lines.line_of(real_loc), _message(problem, shown, _at(data, real_loc)))
        for real_loc, shown, problem in deepest.values()
    ]
    found.sort(key=lambda item: item[0])
    (line, message), *rest = found
    also = rest[:MAX_PROBLEMS_SHOWN]
    if len(rest) > len(also):
        last = also.pop()
        also.append((last[0], f"{last[1]} (and {len(rest) - len(also) - 1} more problems)"))
    return ScenarioError(path, line, message, also=also)


def _source_line(text: str, line: int) -> list[str]:
    all_lines = text.splitlines()
    return [all_lines[line - 1]] if 0 < line <= len(all_lines) else []


def load_scenario(path: Path, text: str | None = None) -> LoadedScenario:
    """Parse, validate and dry-run one scenario file."""
    loaded = load_yaml_with_lines(path, text)
    data = loaded.data
    if isinstance(data, dict):
        data.setdefault("name", path.stem)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        failure = _validation_error(path, error, data, loaded.lines)
        failure.source_lines = _source_line(loaded.text, failure.line)
        raise failure from None
    for where, problem in scenario.reference_problems():
        line = loaded.lines.line_of(where)
        raise ScenarioError(path, line, problem, _source_line(loaded.text, line))
    step_lines = tuple(
        loaded.lines.line_of(("steps", index)) for index in range(len(scenario.steps))
    )
    expanded = 0
    for index, step in enumerate(scenario.steps):
        expanded += step.size()
        if expanded > MAX_EXPANDED_STEPS:
            raise ScenarioError(
                path,
                step_lines[index],
                f"steps[{index}] {step.kind}: with every `repeat` multiplied out the scenario"
                f" passes {MAX_EXPANDED_STEPS:,} steps and model steps here; repeat less",
                _source_line(loaded.text, step_lines[index]),
            )
    state = ExpectedState.for_scenario(scenario)
    for where, problem in scenario.expectation_problems(state.shows):
        line = loaded.lines.line_of(where)
        raise ScenarioError(path, line, problem, _source_line(loaded.text, line))
    for index, step in enumerate(scenario.steps):
        try:
            step.apply(state)
        except ScenarioArithmeticError as error:
            raise ScenarioError(
                path,
                step_lines[index],
                f"steps[{index}] {step.kind}: {error}",
                _source_line(loaded.text, step_lines[index]),
            ) from None
    expect_lines: dict[str, int] = {
        mode: loaded.lines.line_of(("expect", mode)) for mode in scenario.expect
    }
    expect_lines.update(
        (target, loaded.lines.line_of(("expect_targets", target)))
        for target in scenario.expect_targets
    )
    return LoadedScenario(scenario, path, step_lines, loaded.text, expect_lines)


def discover(paths: Iterable[Path]) -> Iterator[Path]:
    """Scenario files named by ``paths``: files as given, folders searched recursively; a file
    named twice (or also found in a folder given) once."""
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            # A folder that happens to be named x.yaml is not a scenario.
            found = sorted(file for file in path.rglob(SCENARIO_GLOB) if not file.is_dir())
        elif path.exists():
            found = [path]
        else:
            raise ScenarioError(path, 1, "no such file or folder")
        for file in found:
            if file.resolve() not in seen:
                seen.add(file.resolve())
                yield file


def load_scenarios(paths: Iterable[Path]) -> list[LoadedScenario]:
    return [load_scenario(path) for path in discover(paths)]
