"""Section a: how late each readout is, per surface and target, on the benchmark scenario.

Every figure comes from the runner's own latency record (harness.runner: a reading's change time
minus the model server's usage-sent time), so the benchmark measures exactly what a scenario run
reports, only over more steps. Each surface runs on its own: a browser next to the store would
take CPU from the very thing being timed.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.tables import Table, fmt_ms, fmt_ratio, percentile
from harness.history import History
from harness.runner import RunResult, run_scenario
from harness.scenario.loader import LoadedScenario
from harness.scenario.model import SHIPPED, RunMode
from harness.staleness import Staleness, summarize_staleness
from harness.targets.base import Target

__all__ = [
    "TARGET_P99_MS",
    "FreshnessResult",
    "freshness_tables",
    "measure_freshness",
    "opencode_installed",
]

# p99 targets from the issue, per surface: protocol session totals, and what a person sees.
TARGET_P99_MS: dict[str, float] = {"protocol": 5.0, "tui": 50.0, "web": 50.0, "terminal": 50.0}


@dataclass
class FreshnessResult:
    target: str
    surface: str
    histories: list[History] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    stages: dict[str, list[float]] = field(default_factory=dict)

    @property
    def staleness(self) -> list[Staleness]:
        return summarize_staleness(self.histories)


def opencode_installed() -> bool:
    """True when the pinned opencode is in the npm cache; the benchmark never installs it."""
    from harness.targets.npm_cache import cache_root
    from harness.targets.opencode import OPENCODE, OPENCODE_VERSION

    prefix = cache_root() / f"{OPENCODE.package}@{OPENCODE_VERSION}"
    return (prefix / ".freshness-installed").exists()


@contextlib.contextmanager
def _stage_marks() -> Iterator[dict[str, list[float]]]:
    """Time stamps inside the embedded reference agent: when it parsed a step's usage chunk, and
    when the usage transaction was written and its events published. Wrappers are put back on
    exit; they add one `time.monotonic()` call per stage and step."""
    from harness.model_server.scripted_model import ScriptedModel, UsageSent
    from reference_app.server import agent, usage
    from reference_app.server.providers import openai_compat

    marks: dict[str, list[float]] = {"sent": [], "parsed": [], "published": []}
    parse = openai_compat.usage_from_openai
    apply = usage.apply_step_usage  # the agent module's own reference is the one replaced
    record = ScriptedModel.record_usage_sent

    def sent(self: ScriptedModel, step_index: int, *, in_stream: bool = True) -> UsageSent:
        stamp = record(self, step_index, in_stream=in_stream)
        marks["sent"].append(stamp.t)
        return stamp

    def parsed(raw: Any) -> Any:
        marks["parsed"].append(time.monotonic())
        return parse(raw)

    def published(*args: Any, **kwargs: Any) -> Any:
        result = apply(*args, **kwargs)
        marks["published"].append(time.monotonic())
        return result

    openai_compat.usage_from_openai = parsed
    setattr(agent, "apply_step_usage", published)  # noqa: B010 - not in agent's __all__
    ScriptedModel.record_usage_sent = sent  # type: ignore[method-assign]
    try:
        yield marks
    finally:
        openai_compat.usage_from_openai = parse
        setattr(agent, "apply_step_usage", apply)  # noqa: B010
        ScriptedModel.record_usage_sent = record  # type: ignore[method-assign]


def _stages(result: RunResult, marks: dict[str, list[float]]) -> dict[str, list[float]]:
    """Split each protocol latency into: model server -> agent parsed the usage, -> usage written
    and published, -> the surface saw session.updated. One session, one step at a time, so the
    n-th mark of each kind belongs to the n-th released step."""
    shown = [
        reading.latency_ms
        for checkpoint in result.history.checkpoints
        for name, reading in checkpoint.readings.get("protocol", {}).items()
        if name == "session.cost" and reading.latency_ms is not None
    ]
    sent = marks["sent"]
    count = min(len(sent), len(marks["parsed"]), len(marks["published"]), len(shown))
    stages: dict[str, list[float]] = {"usage parsed": [], "written+published": [], "delivered": []}
    for i in range(count):
        parsed = (marks["parsed"][i] - sent[i]) * 1000
        published = (marks["published"][i] - sent[i]) * 1000
        stages["usage parsed"].append(parsed)
        stages["written+published"].append(published - parsed)
        stages["delivered"].append(shown[i] - published)
    return stages


async def measure_freshness(
    loaded: LoadedScenario,
    *,
    target_name: str,
    surface: str,
    repeat: int,
    runs_dir: Path,
    make_target: Callable[[], Target],
) -> FreshnessResult:
    mode: RunMode = "server" if target_name.startswith("reference") else SHIPPED
    outcome = FreshnessResult(target_name, surface)
    started = time.monotonic()
    for _ in range(repeat):
        profile = target_name == "reference" and surface == "protocol"
        stage_marks: contextlib.AbstractContextManager[dict[str, list[float]]] = (
            _stage_marks() if profile else contextlib.nullcontext({})
        )
        with stage_marks as marks:
            result = await run_scenario(
                loaded, mode, surfaces=[surface], runs_dir=runs_dir, target=make_target()
            )
            if marks:
                for name, values in _stages(result, marks).items():
                    outcome.stages.setdefault(name, []).extend(values)
        outcome.histories.append(result.history)
        if result.history.error:
            outcome.errors.append(result.history.error)
        elif not result.verdict.ok:
            outcome.errors.append(f"verdict {result.verdict}")
    outcome.seconds = time.monotonic() - started
    return outcome


def _verdict(surface: str, readout: str, p99: float) -> str:
    limit = TARGET_P99_MS.get(surface)
    if limit is None or (surface == "protocol" and not readout.startswith("session.")):
        return "-"
    if p99 <= limit:
        return f"met (<= {limit:g})"
    return f"MISSED by {p99 - limit:.1f} ms ({p99 / limit:.1f}x of {limit:g})"


def freshness_tables(results: list[FreshnessResult], notes: list[str]) -> list[Table]:
    table = Table(
        "Freshness: ms from the model server sending a step's usage to the readout showing it",
        ["target", "surface", "readout", "samples", "p50 ms", "p99 ms", "max ms", "p99 target"],
        notes=list(notes),
    )
    by_key: dict[tuple[str, str], Staleness] = {}  # (target, readout) on the protocol surface
    for result in results:
        for row in result.staleness:
            if row.surface == "protocol":
                by_key[(result.target, row.readout)] = row
            table.add(
                result.target,
                row.surface,
                row.readout,
                row.samples,
                fmt_ms(row.p50_ms),
                fmt_ms(row.p99_ms),
                fmt_ms(row.max_ms),
                _verdict(row.surface, row.readout, row.p99_ms),
            )
        for error in result.errors:
            table.notes.append(f"{result.target}/{result.surface}: {error}")
    tables = [table]
    ratio = Table(
        "opencode vs the reference agent (protocol surface, same scenario and model)",
        [
            "readout",
            "reference",
            "p50 ms",
            "opencode p50",
            "p50 ratio",
            "p99 ms",
            "opencode p99",
            "p99 ratio",
        ],
    )
    for ours_label in ("reference", "reference-process"):
        for readout in ("session.tokens", "session.cost"):
            ours = by_key.get((ours_label, readout))
            theirs = by_key.get(("opencode", readout))
            if ours is None or theirs is None:
                continue
            ratio.add(
                readout,
                ours_label,
                fmt_ms(ours.p50_ms),
                fmt_ms(theirs.p50_ms),
                fmt_ratio(theirs.p50_ms / ours.p50_ms if ours.p50_ms else None),
                fmt_ms(ours.p99_ms),
                fmt_ms(theirs.p99_ms),
                fmt_ratio(theirs.p99_ms / ours.p99_ms if ours.p99_ms else None),
            )
    if ratio.rows:
        ratio.notes.append("ratio = opencode / reference: above 1x the reference agent is fresher")
        tables.append(ratio)
    staged = [result for result in results if result.stages.get("delivered")]
    if staged:
        stages = Table(
            "Where the time goes (reference agent, protocol surface, session.cost)",
            ["stage", "samples", "p50 ms", "p99 ms", "max ms"],
            notes=[
                "usage parsed: model server wrote the usage chunk -> the agent parsed it",
                "written+published: -> the SQLite usage transaction committed and its events "
                "were handed to the bus",
                "delivered: -> the protocol surface (another event loop, same process) had "
                "session.updated over SSE",
            ],
        )
        for result in staged:
            for name, values in result.stages.items():
                if values:
                    stages.add(
                        name,
                        len(values),
                        fmt_ms(percentile(values, 0.5), 2),
                        fmt_ms(percentile(values, 0.99), 2),
                        fmt_ms(max(values), 2),
                    )
        tables.append(stages)
    return tables
