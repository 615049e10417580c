"""Freshness benchmark: staleness per readout and surface, load, scaling and harness throughput.

    python -m bench.run                      # everything, default sizes (a few minutes)
    python -m bench.run --markdown docs/benchmarks.md
    python -m bench.run --sections scaling --sizes 10,1000,10000

Figures are wall-clock measurements on whatever else the machine is doing: the header prints the
load average before and after, and a figure taken on a busy machine says so. Targets that are
missed are printed with the amount they are missed by; nothing here asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console

from bench.tables import Table, to_markdown

__all__ = ["main"]

SECTIONS = ("freshness", "load", "scaling", "throughput")
SURFACES = ("store", "protocol", "tui", "web", "terminal")


def _csv(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--sections",
        type=_csv,
        default=list(SECTIONS),
        help=f"which sections to run (default: {','.join(SECTIONS)})",
    )
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    parser.add_argument(
        "--runs-dir",
        type=Path,
        default=None,
        help="where run folders go (default .freshness/bench/<time>)",
    )
    fresh = parser.add_argument_group("freshness")
    fresh.add_argument("--steps", type=int, default=30, help="model steps in the scenario (30)")
    fresh.add_argument("--repeat", type=int, default=2, help="runs per surface and target (2)")
    fresh.add_argument(
        "--surfaces",
        type=_csv,
        default=["store", "protocol", "tui", "web"],
        help="reference agent surfaces (store,protocol,tui,web; terminal too)",
    )
    fresh.add_argument(
        "--targets",
        type=_csv,
        default=["reference", "reference-process", "opencode"],
        help="reference (embedded, as `freshness run` has it), reference-process (its own "
        "process; store and protocol) and opencode (protocol; skipped when not installed)",
    )
    load = parser.add_argument_group("load")
    load.add_argument("--load-seconds", type=float, default=20.0, help="load duration (20)")
    load.add_argument("--sessions", type=int, default=20, help="sessions (20)")
    load.add_argument("--clients", type=int, default=2, help="clients per session (2)")
    load.add_argument("--rate", type=float, default=50.0, help="model steps/s in total (50)")
    load.add_argument(
        "--subscriber-queue",
        type=int,
        default=1000,
        help="server's per-subscriber queue, in events (1000; the server's own default is "
        "10000, which a stalled client takes over 30 s to fill at 50 steps/s)",
    )
    load.add_argument(
        "--no-stalled-client", action="store_true", help="leave out the client that stops reading"
    )
    scale = parser.add_argument_group("scaling")
    scale.add_argument(
        "--sizes",
        type=lambda text: [int(x) for x in _csv(text)],
        default=[10, 1000, 10_000],
        help="messages in the session (10,1000,10000)",
    )
    scale.add_argument("--rounds", type=int, default=5, help="interleaved rounds per size (5)")
    through = parser.add_argument_group("throughput")
    through.add_argument("--scenarios", type=Path, nargs="*", default=[Path("scenarios/core")])
    through.add_argument("--jobs", type=int, default=2, help="runs at once in run_matrix (2)")
    through.add_argument(
        "--no-cli", action="store_true", help="skip timing `freshness run` as a fresh process"
    )
    through.add_argument(
        "--suite", action="store_true", help="also time the whole test suite (long)"
    )
    return parser


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


async def _freshness(args: argparse.Namespace, runs_dir: Path, console: Console) -> list[Table]:
    from bench.freshness import (
        FreshnessResult,
        freshness_tables,
        measure_freshness,
        opencode_installed,
    )
    from bench.process_target import ReferenceProcessTarget
    from bench.scenario import write_many_steps
    from harness.targets.base import Target
    from harness.targets.registry import make_target

    loaded = write_many_steps(runs_dir, args.steps)
    notes = [
        f"scenario: {loaded.path} ({args.steps} model steps in one turn, "
        f"{args.repeat} run(s) per row; reference agent in mode `server`, opencode as "
        "shipped)"
    ]
    plan: list[tuple[str, str]] = [
        ("reference", s) for s in args.surfaces if "reference" in args.targets
    ]
    if "reference-process" in args.targets:
        plan += [("reference-process", s) for s in ("store", "protocol") if s in args.surfaces]
    if "opencode" in args.targets:
        if opencode_installed():
            plan.append(("opencode", "protocol"))
        else:
            notes.append(
                "opencode: skipped, not installed (`freshness run --target opencode` "
                "installs it into .freshness/npm)"
            )
    results: list[FreshnessResult] = []
    for target_name, surface in plan:
        console.print(f"  freshness: {target_name} / {surface} ...", highlight=False)

        def factory(name: str = target_name) -> Target:
            if name == "reference-process":
                return ReferenceProcessTarget()
            return make_target(name)

        results.append(
            await measure_freshness(
                loaded,
                target_name=target_name,
                surface=surface,
                repeat=args.repeat,
                runs_dir=runs_dir / "freshness",
                make_target=factory,
            )
        )
    return freshness_tables(results, notes)


async def _load_section(args: argparse.Namespace, console: Console) -> list[Table]:
    from bench.load import load_tables, measure_load

    console.print(f"  load: {args.sessions} x {args.clients} for {args.load_seconds:g} s ...")
    result = await measure_load(
        sessions=args.sessions,
        clients_per_session=args.clients,
        rate=args.rate,
        seconds=args.load_seconds,
        subscriber_queue=args.subscriber_queue,
        stalled=not args.no_stalled_client,
    )
    return load_tables(result)


def _scaling(args: argparse.Namespace, console: Console) -> list[Table]:
    from bench.scaling import measure_scaling, scaling_tables

    console.print(f"  scaling: {args.sizes} ...")
    return scaling_tables(measure_scaling(args.sizes, rounds=args.rounds))


async def _throughput(args: argparse.Namespace, runs_dir: Path, console: Console) -> list[Table]:
    from bench.throughput import measure_throughput, throughput_tables

    console.print("  throughput: run_matrix over " + ", ".join(map(str, args.scenarios)) + " ...")
    result = await measure_throughput(
        paths=args.scenarios,
        runs_dir=runs_dir / "throughput",
        jobs=args.jobs,
        cli=not args.no_cli,
        suite=args.suite,
    )
    return throughput_tables(result, args.jobs)


async def _run(args: argparse.Namespace, runs_dir: Path, console: Console) -> list[Table]:
    steps: dict[str, Callable[[], object]] = {
        "freshness": lambda: _freshness(args, runs_dir, console),
        "load": lambda: _load_section(args, console),
        "scaling": lambda: asyncio.to_thread(_scaling, args, console),
        "throughput": lambda: _throughput(args, runs_dir, console),
    }
    tables: list[Table] = []
    for section in SECTIONS:
        if section in args.sections:
            started = time.monotonic()
            made = await steps[section]()  # type: ignore[misc]
            assert isinstance(made, list)
            tables += made
            console.print(f"  {section}: {time.monotonic() - started:.1f} s", highlight=False)
    return tables


START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def _into_markers(path: Path, text: str) -> str:
    """A file that has the two markers keeps everything outside them (a document's prose around
    its tables); any other file is replaced by the tables."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if START in old and END in old.split(START, 1)[1]:
        before, rest = old.split(START, 1)
        return f"{before}{START}\n{text}{END}{rest.split(END, 1)[1]}"
    return text


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    unknown = [s for s in args.sections if s not in SECTIONS]
    unknown += [s for s in args.surfaces if s not in SURFACES]
    if unknown:
        print(f"error: unknown section or surface: {', '.join(unknown)}", file=sys.stderr)
        return 2
    runs_dir = args.runs_dir or Path(".freshness/bench") / time.strftime("%Y%m%d-%H%M%S")
    runs_dir.mkdir(parents=True, exist_ok=True)
    # Piped output (a log, a test) gets wide lines rather than tables wrapped at 80 columns.
    console = Console(width=None if sys.stdout.isatty() else 160)
    command = "python -m bench.run " + shlex.join(sys.argv[1:] if argv is None else list(argv))
    load_before = _load()
    console.print(
        f"[bold]freshness bench[/] load average before: {load_before} ({os.cpu_count()} cores)",
        highlight=False,
    )
    tables = asyncio.run(_run(args, runs_dir, console))
    load_after = _load()
    header = [
        f"command: `{command.strip()}`",
        f"machine: {platform.system()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        f"load average (1/5/15 min) before: {load_before}; after: {load_after}",
        f"taken: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
    ]
    console.print()
    for table in tables:
        table.print(console)
    for line in header[1:3]:
        console.print(line, highlight=False, markup=False)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        text = "\n".join(f"- {line}" for line in header) + "\n\n" + to_markdown(tables)
        args.markdown.write_text(_into_markers(args.markdown, text), encoding="utf-8")
        console.print(f"Markdown: {args.markdown}", highlight=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
