"""The ``freshness`` command.

Exit codes: 0 when every expectation holds (expected failures included), 1 when any does not,
2 on bad input (a scenario that does not load, an unknown mode or surface).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from harness.choices import parse_choices
from harness.errors import FreshnessError, ScenarioError
from harness.scenario.loader import LoadedScenario, load_scenarios
from harness.scenario.model import FIX_MODES, SHIPPED, SURFACES, ExpectedAnomaly, RunMode

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
DEFAULT_PATHS = [Path("scenarios")]


def _csv(choices: Sequence[str], what: str) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        try:
            return parse_choices(text, choices, what)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="freshness",
        description="Find readouts that are right after a reload but frozen while the app is live.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run scenarios in every fix mode and print the matrix")
    run.add_argument("paths", nargs="*", type=Path, help="scenario files or folders (scenarios/)")
    run.add_argument(
        "--mode",
        type=_csv(FIX_MODES, "mode"),
        default=None,
        help="fix modes of the reference agent (default: all four; a real target runs as shipped)",
    )
    run.add_argument(
        "--surface",
        type=_csv(SURFACES, "surface"),
        default=["store", "protocol"],
        help="surfaces to read (store,protocol; tui, terminal, web where installed)",
    )
    run.add_argument(
        "--report",
        type=_csv(("html", "json", "junit"), "report"),
        default=["html"],
        help="report files to write into the run folder (html,json,junit)",
    )
    run.add_argument(
        "--target", default="reference", help="the agent under test (default: reference)"
    )
    run.add_argument("--runs-dir", type=Path, default=Path(".freshness/runs"))
    run.add_argument("--jobs", "-j", type=int, default=2, help="runs at once (default 2)")
    run.add_argument("--verbose", "-v", action="store_true", help="explain caught failures too")

    commands.add_parser("schema", help="print the scenario JSON Schema (for editors)")

    listing = commands.add_parser("list", help="list scenarios and what each mode must give")
    listing.add_argument("paths", nargs="*", type=Path)

    tui = commands.add_parser(
        "tui", help="the reference terminal UI on a running agent (see `freshness serve`)",
        add_help=False,
    )
    tui.add_argument("tui_args", nargs=argparse.REMAINDER)

    serve = commands.add_parser("serve", help="start the reference agent and a scripted model")
    serve.add_argument("--port", type=_port, default=4096)
    serve.add_argument("--model-port", type=_port, default=0)
    serve.add_argument("--server-fix", action="store_true", help="publish session totals")
    serve.add_argument("--data-dir", type=Path, default=Path(".freshness/serve"))
    return parser


def _run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from harness.reports import print_report, write_reports
    from harness.session import run_matrix
    from harness.targets.registry import make_target

    # Scenarios first: a bad file is found without importing any target (the reference
    # agent's server alone takes seconds to import).
    scenarios = _load(args.paths)
    # A scenario for none of the chosen surfaces would run on nothing, judge nothing and count
    # as passed; it is left out, and said so.
    skipped = [s for s in scenarios if not set(s.scenario.surfaces) & set(args.surface)]
    scenarios = [s for s in scenarios if s not in skipped]
    if not scenarios:
        wanted = sorted({name for s in skipped for name in s.scenario.surfaces})
        raise FreshnessError(
            f"no scenario given applies to {', '.join(args.surface)}"
            f" (they apply to {', '.join(wanted)})"
        )
    # An unknown name is bad input: fail before anything starts.
    target = make_target(args.target)
    modes: list[RunMode]
    if target.applies_fixes:
        modes = list(args.mode or FIX_MODES)
    elif args.mode:
        raise FreshnessError(
            f"--mode applies to the reference agent only; {args.target} runs as shipped"
        )
    else:
        modes = [SHIPPED]
    run_id = time.strftime("%Y%m%d-%H%M%S")
    runs_dir: Path = args.runs_dir / run_id
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise FreshnessError(
            f"--runs-dir {args.runs_dir}: cannot make a run folder there ({error.strerror})"
        ) from None
    console = Console()
    console.print(
        f"[bold]freshness[/] {len(scenarios)} scenario(s) x {len(modes)} mode(s)"
        f" against {args.target}"
        f" on {', '.join(args.surface)} -> {runs_dir}",
        soft_wrap=True,
    )
    for loaded in skipped:
        console.print(
            f"skipped {loaded.path}: it applies to {', '.join(loaded.scenario.surfaces)} only",
            markup=False,
            soft_wrap=True,
        )
    results = asyncio.run(
        run_matrix(
            scenarios,
            modes,
            surfaces=args.surface,
            runs_dir=runs_dir,
            jobs=args.jobs,
            target_factory=lambda: make_target(args.target),
        )
    )
    written = write_reports(results, set(args.report), runs_dir)
    print_report(results, console, verbose=args.verbose, written=written)
    return EXIT_OK if all(result.verdict.ok for result in results) else EXIT_FAILED


def _load(given: list[Path]) -> list[LoadedScenario]:
    paths = given or DEFAULT_PATHS
    scenarios = load_scenarios(paths)
    if not scenarios:
        # Named like every other bad input (`path:line: message`), so an editor or CI log
        # links it; the folder searched is the place to fix.
        raise ScenarioError(paths[0], 1, "no scenario files found here (looked for *.yaml)")
    return scenarios


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port (0-65535; 0 picks a free one)")
    return port


def _list(args: argparse.Namespace) -> int:
    for loaded in _load(args.paths):
        scenario = loaded.scenario
        print(f"{loaded.path}  {scenario.name}")
        print(f"    about: {scenario.about}")
        for mode in FIX_MODES:
            print(f"    {mode:<9} {_said(scenario.expectation(mode))}")
        for target in scenario.expect_targets:
            print(f"    {target:<9} {_said(scenario.expectation(SHIPPED, target))} (as shipped)")
    return EXIT_OK


def _said(expected: tuple[ExpectedAnomaly, ...]) -> str:
    return ", ".join(f"{e.code}({', '.join(e.readouts)})" for e in expected) or "pass"


def _schema() -> int:
    from harness.scenario.schema import scenario_json_schema

    print(json.dumps(scenario_json_schema(), indent=2))
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    from harness.serve import serve_forever

    return serve_forever(
        port=args.port,
        model_port=args.model_port,
        server_fix=args.server_fix,
        data_dir=args.data_dir,
    )


def _tui(argv: list[str]) -> int:
    from reference_app.tui.__main__ import main as tui_main

    return int(tui_main(argv) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:1] == ["tui"]:
        # The TUI owns its flags (and its --help); argparse cannot pass a leading option through.
        return _tui(words[1:])
    args = _parser().parse_args(words)
    # A browser that reloads drops its event stream mid-write, and asyncio then prints
    # "socket.send() raised exception." once per dropped write into the matrix; a reader that
    # left is normal here, and the run's own verdicts say whether anything was lost.
    logging.getLogger("asyncio").setLevel(logging.ERROR)
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "list":
            return _list(args)
        if args.command == "schema":
            return _schema()
        if args.command == "tui":
            return _tui(args.tui_args)
        return _serve(args)
    except FreshnessError as error:
        print(f"freshness: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return EXIT_FAILED
    except BrokenPipeError:
        # The reader left (`freshness schema | head`): nothing is wrong with what was written.
        # Point stdout at nothing so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
