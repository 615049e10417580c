"""Item 4: hostile scenario files through the real CLI (`python -m harness.cli run FILE`).

Each must end in exit code 2 with one line on stderr, `path:line: message`, within a time limit:
no traceback, no hang, nothing run. The CLI runs as a subprocess, as a user would meet it; all
cases start at once because interpreter start-up, not loading, is what takes time here.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CLI_TIMEOUT = 120  # seconds, a backstop against a hang; each case takes well under one

GOOD = """\
version: 1
about: A paid two-step turn.
models:
  paid:
    context: 100000
    price: {input: 3.0, output: 15.0}
sessions:
  main: {title: Work, model: paid}
steps:
  - open: main
  - prompt:
      text: go
      model_steps:
        - {tool: echo, usage: {input: 12000, output: 1000}}
        - {usage: {input: 14000, output: 1000}}
  - step
  - finish
expect:
  none: pass
  client: pass
  server: pass
  both: pass
"""


def billion_laughs() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 9):
        name, below = chr(ord("a") + level), chr(ord("a") + level - 1)
        lines.append(f"{name}: &{name} [{', '.join(['*' + below] * 9)}]")
    return "\n".join(lines) + "\n"


def write_text(text: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / "scenario.yaml"
        path.write_text(text, encoding="utf-8")
        return path
    return make


def write_bytes(data: bytes) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / "scenario.yaml"
        path.write_bytes(data)
        return path
    return make


def empty_folder(folder: Path) -> Path:
    (folder / "notes.txt").write_text("no scenarios here\n")
    return folder


def folder_named_yaml(folder: Path) -> Path:
    (folder / "looks-like.yaml").mkdir()
    return folder


def fifo(folder: Path) -> Path:
    path = folder / "pipe.yaml"
    os.mkfifo(path)  # opening it for reading would wait for a writer forever
    return path


def dev_zero(_folder: Path) -> Path:
    return Path("/dev/zero")  # endless: a read without a bound fills memory


# name -> (how to make the input, words the one-line message must contain)
CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "malformed-yaml": (write_text("version: 1\nsteps: [open: main\n"), "invalid YAML"),
    "wrong-type": (write_text(GOOD.replace("context: 100000", "context: lots")),
                   "valid integer"),
    "unknown-key": (write_text(GOOD.replace("context: 100000", "context: 100000\n    colour: red")),
                    "unknown key"),
    "negative-tokens": (write_text(GOOD.replace("input: 12000", "input: -3")),
                        "greater than or equal to 0"),
    "absurd-tokens": (write_text(GOOD.replace("input: 12000", "input: 1000000000000000000000000")),
                      "less than or equal to"),
    "absurd-float-tokens": (write_text(GOOD.replace("input: 12000", "input: .inf")),
                            "input"),
    "ten-megabytes": (write_text(GOOD + ("# padding " + "x" * 90 + "\n") * 100_000),
                      "the limit is"),
    "alias-bomb": (write_text(billion_laughs()), "too many values"),
    "deep-block-nesting": (write_text("a:\n" + "".join("  " * d + "-\n" for d in range(1, 200))),
                           "nested deeper"),
    "deep-flow-nesting": (write_text("a: " + "[" * 5_000 + "]" * 5_000 + "\n"), "nested"),
    "binary-garbage": (write_bytes(random.Random(7).randbytes(64 * 1024)), "not UTF-8"),
    "nul-bytes": (write_text("version: 1\x00\x00\nabout: x\n"), "invalid YAML"),
    "python-tag": (write_text("a: !!python/object/apply:os.system [echo pwned]\n"),
                   "unsupported tag"),
    "not-a-mapping": (write_text("- just\n- a list\n"), "Input should be"),
    "empty-file": (write_text(""), "empty"),
    "no-scenarios-in-folder": (empty_folder, "no scenario files"),
    "five-thousand-digits": (write_text(GOOD.replace("input: 12000", "input: " + "9" * 5000)),
                             "the limit is 30"),
    "base-60-number": (write_text(GOOD.replace("context: 100000", "context: " + "5:" * 300_000 + "5")),
                       "base-60"),
    "bool-as-tokens": (write_text(GOOD.replace("input: 12000", "input: true")), "valid integer"),
    "string-as-tokens": (write_text(GOOD.replace("input: 12000", 'input: "12000"')),
                         "valid integer"),
    "folder-named-yaml": (folder_named_yaml, "no scenario files"),
    "fifo": (fifo, "not a regular file"),
    "dev-zero": (dev_zero, "not a regular file"),
}


@pytest.mark.slow
def test_every_hostile_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    started: dict[str, tuple[Path, subprocess.Popen[str]]] = {}
    for name, (make, _words) in CASES.items():
        folder = tmp_path / name
        folder.mkdir()
        target = make(folder)
        started[name] = (target, subprocess.Popen(
            [sys.executable, "-m", "harness.cli", "run", str(target),
             "--runs-dir", str(tmp_path / "runs")],
            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ))
    problems: list[str] = []
    try:
        for name, (target, process) in started.items():
            try:
                _out, err = process.communicate(timeout=CLI_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
                problems.append(f"{name}: still running after {CLI_TIMEOUT}s")
                continue
            words = CASES[name][1]
            lines = err.strip().splitlines()
            pattern = rf"^(freshness: )?{re.escape(str(target))}:\d+: .*{re.escape(words)}"
            if process.returncode != 2:
                problems.append(f"{name}: exit {process.returncode}: {err[-500:]}")
            elif "Traceback" in err or len(lines) != 1:
                problems.append(f"{name}: not one line: {err[-500:]}")
            elif not re.search(pattern, lines[0]):
                problems.append(f"{name}: {lines[0]!r} is not `path:line: ...{words}...`")
    finally:
        for _target, process in started.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    assert not (tmp_path / "runs").exists(), "bad input must not start a run"
    assert problems == [], "\n".join(problems)
