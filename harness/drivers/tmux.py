"""A private tmux server for running terminal programs at a fixed size and reading their screens.

Every :class:`Tmux` owns one server on a socket of its own, started with a config file it writes
(no status bar, panes stay after their program exits so a crash can be read), so it never touches a
person's tmux. The socket lives in a temporary folder of its own (``tmux -S``, the path form of
``-L``): tmux leaves its socket file behind after ``kill-server``, and :meth:`Tmux.kill_server`
removes the folder with it, so nothing this module started outlives it. Commands run through
asyncio subprocesses; nothing here blocks the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import shutil
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from harness.errors import FreshnessError

__all__ = ["TerminalUnavailableError", "Tmux", "TmuxError", "tmux_executable"]

# status off: the pane gets every row of the window. remain-on-exit: a program that dies leaves
# its last screen (a traceback) to read. exit-empty off: the server outlives its last session
# between a kill and a restart.
_CONFIG = """\
set -g status off
set -g remain-on-exit on
set -g exit-empty off
set -g history-limit 0
set -g escape-time 0
"""


class TerminalUnavailableError(FreshnessError):
    """tmux is missing; says how to install it."""


class TmuxError(FreshnessError):
    """A tmux command failed; carries the command and what tmux said."""


def tmux_executable() -> str:
    """The tmux to run, or an error that says how to get one."""
    found = shutil.which("tmux")
    if found is None:
        raise TerminalUnavailableError(
            "the terminal surface runs programs under tmux and no `tmux` is on PATH; install it "
            "(`apt-get install -y tmux`, 3.0 or later) and run again"
        )
    return found


# Variables that describe the harness's own terminal, not the pane. COLUMNS/LINES win over the
# tty's size in shutil.get_terminal_size(), so a harness run under pytest-xdist (which sets them
# to 80x24) would make a program draw 80x24 inside a 160x45 pane. TMUX would make tmux think it
# is nested in a person's session.
_NOT_THE_PANES = ("COLUMNS", "LINES", "TMUX", "TMUX_PANE")


def _utf8_environment() -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in _NOT_THE_PANES}
    # tmux decides whether cells hold UTF-8 from the locale of the client that starts it;
    # without one, box drawing and "—" come back from capture-pane as underscores.
    locale = environment.get("LC_ALL") or environment.get("LC_CTYPE") or environment.get("LANG")
    if not locale or "utf" not in locale.lower().replace("-", ""):
        environment["LC_ALL"] = "C.UTF-8"
    return environment


class Tmux:
    """One private tmux server; sessions on it are addressed by name."""

    def __init__(self, label: str = "freshness") -> None:
        self.executable = tmux_executable()
        # Short: a unix socket path must fit in about 100 bytes.
        self._dir = Path(tempfile.mkdtemp(prefix=f"{label}-tmux-"))
        self.socket = str(self._dir / f"s{os.getpid()}-{uuid.uuid4().hex[:6]}")
        self._config = self._dir / "tmux.conf"
        self._config.write_text(_CONFIG)
        self._environment = _utf8_environment()
        self.started = False

    async def run(self, *args: str) -> str:
        """Run one tmux command on this server and return its output."""
        process = await asyncio.create_subprocess_exec(
            self.executable,
            "-S",
            self.socket,
            "-f",
            str(self._config),
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._environment,
        )
        out, err = await process.communicate()
        if process.returncode != 0:
            raise TmuxError(
                f"tmux {shlex.join(args)} failed ({process.returncode}): "
                f"{err.decode(errors='replace').strip() or 'no message'}"
            )
        return out.decode("utf-8", errors="replace")

    async def new_session(
        self,
        name: str,
        command: Sequence[str],
        *,
        size: tuple[int, int],
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """Start ``command`` in a new detached session of ``size`` (columns, rows)."""
        args = ["new-session", "-d", "-s", name, "-x", str(size[0]), "-y", str(size[1])]
        if cwd is not None:
            args += ["-c", cwd]
        for key, value in (env or {}).items():
            args += ["-e", f"{key}={value}"]
        await self.run(*args, _shell_command(command))
        self.started = True

    async def respawn(
        self, name: str, command: Sequence[str], *, env: Mapping[str, str] | None = None
    ) -> None:
        """Kill the program in the session's pane and start ``command`` in its place."""
        args = ["respawn-pane", "-k", "-t", name]
        for key, value in (env or {}).items():
            args += ["-e", f"{key}={value}"]
        await self.run(*args, _shell_command(command))

    async def capture(self, name: str, *, escapes: bool = False) -> str:
        """The visible screen of the session's pane; with ``escapes``, SGR colour codes kept."""
        args = ["capture-pane", "-p", "-t", name]
        if escapes:
            args.insert(2, "-e")
        return await self.run(*args)

    async def send_keys(self, name: str, *keys: str) -> None:
        """Send key names as tmux knows them (``Enter``, ``C-c``, ``Up``)."""
        await self.run("send-keys", "-t", name, *keys)

    async def send_text(self, name: str, text: str) -> None:
        """Type ``text`` literally (no key-name lookup)."""
        await self.run("send-keys", "-t", name, "-l", text)

    async def pane_dead(self, name: str) -> bool:
        """Whether the program in the session's pane has exited."""
        return (await self.run("display-message", "-p", "-t", name, "#{pane_dead}")).strip() == "1"

    async def kill_session(self, name: str) -> None:
        await self.run("kill-session", "-t", name)

    async def kill_server(self) -> None:
        """Stop the server and every program it runs; safe to call twice."""
        if self.started:
            with contextlib.suppress(TmuxError):  # already gone
                await self.run("kill-server")
            self.started = False
        shutil.rmtree(self._dir, ignore_errors=True)


def _shell_command(command: Sequence[str]) -> str:
    # tmux hands the command to the shell; exec makes the program the pane's process, so
    # respawn-pane -k and kill-server signal it directly rather than a shell around it.
    return "exec " + shlex.join(command)
