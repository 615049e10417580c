"""The terminal surface: any terminal program run under tmux, read from its screen.

The program runs in a private tmux server (:mod:`harness.drivers.tmux`) at a fixed size; its
readouts are found on the captured screen by the regexes of a :class:`TerminalProfile` (data, not
code: :mod:`harness.drivers.terminal_profile`). Unless one is given, the profile is the target's
(:func:`harness.drivers.terminal_profiles.profile_for`): the reference TUI as a real subprocess
(``python -m reference_app.tui``), or a real agent's own TUI attached to its server.

- live: one tmux session ("live") started on the open session with the profile's session args.
- reload: the program in that pane is killed and started again with the same arguments (tmux
  ``respawn-pane -k``), as a person quits and reopens the agent on the same session.
- the oracle (``read_reload``): a second tmux session on the same server, started on the same
  session, read once ready and settled, then killed.

Timing: a poller captures the live screen every ``poll_interval`` seconds and stamps
``time.monotonic()`` whenever a readout's text changes, so staleness has the poll interval as its
resolution. Settle: the captured screen unchanged for the profile's quiet period, counted from the
moment settling began (a change still on its way gets its chance to land), bounded by a deadline.
``close()`` kills the tmux server, and with it every program this surface started.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
import time

from harness.drivers.base import LiveValue, TargetInfo
from harness.drivers.terminal_profile import (
    REFERENCE_TUI_PROFILE,
    TerminalProfile,
    needs_escapes,
    read_screen,
    render_command,
    render_env,
)
from harness.drivers.terminal_profiles import profile_for
from harness.drivers.tmux import Tmux, TmuxError
from harness.errors import TargetError

__all__ = ["LIVE", "Screen", "TerminalSurface"]

LIVE = "live"
"""The tmux session name of the live program."""


class Screen:
    """The last captured screen of one tmux session and when each readout last changed."""

    def __init__(self, profile: TerminalProfile) -> None:
        self._profile = profile
        self.text = ""
        self.changed_at = time.monotonic()
        """When the captured text last differed from the capture before it."""
        self.values: dict[str, str | None] = dict.fromkeys(profile.readouts)
        self.value_changed_at: dict[str, float] = {}

    def update(self, text: str, escaped: str | None, now: float) -> bool:
        if text == self.text and escaped is None:
            return False
        changed = text != self.text
        if changed:
            self.text = text
            self.changed_at = now
        for name, value in read_screen(self._profile, text, escaped).items():
            if value != self.values.get(name):
                self.values[name] = value
                self.value_changed_at[name] = now
        return changed


class TerminalSurface:
    name = "terminal"

    def __init__(
        self,
        profile: TerminalProfile | None = None,
        *,
        poll_interval: float = 0.02,
    ) -> None:
        # Without a profile, attach() picks the one for the target (a real agent's own TUI);
        # until then the readouts are the reference TUI's, which is what the runner lists for
        # a terminal surface that never attached.
        self._chosen = profile
        self.profile = profile or REFERENCE_TUI_PROFILE
        self.readouts: tuple[str, ...] = tuple(self.profile.readouts)
        self._poll_interval = poll_interval
        self._target: TargetInfo | None = None
        self._session: str | None = None
        self._tmux: Tmux | None = None
        self._live: Screen | None = None
        self._poller: asyncio.Task[None] | None = None
        self._fresh_count = 0

    # ---- the program --------------------------------------------------------------------

    def command(self, session_id: str | None) -> list[str]:
        """The argv that runs the program on ``session_id`` for the attached target."""
        assert self._target is not None, "attach() first"
        return render_command(
            self.profile,
            self._values(),
            session=session_id,
            client_fix=self._target.client_fix,
        )

    def _values(self) -> dict[str, str]:
        assert self._target is not None
        return {
            "python": sys.executable,
            "url": self._target.base_url,
            "workdir": self._target.workdir,
            "password": self._target.password or "",
        }

    @property
    def tmux(self) -> Tmux:
        if self._tmux is None:
            raise RuntimeError("the terminal surface is not attached; call attach() first")
        return self._tmux

    async def _capture(self, name: str, screen: Screen) -> bool:
        text = await self.tmux.capture(name)
        escaped = None
        if needs_escapes(self.profile):
            escaped = await self.tmux.capture(name, escapes=True)
        return screen.update(text, escaped, time.monotonic())

    async def _wait_ready(self, name: str, screen: Screen) -> None:
        """Wait for the profile's ready marker (and startup delay), then for a quiet screen."""
        profile = self.profile
        started = time.monotonic()
        give_up = started + profile.load_timeout
        ready = re.compile(profile.ready) if profile.ready else None
        weak = re.compile(profile.ready_if_quiet) if profile.ready_if_quiet else None
        while True:
            await self._capture(name, screen)
            now = time.monotonic()
            delayed = now - started >= profile.startup_delay
            if delayed and (ready is None or ready.search(screen.text)):
                break
            quiet_for = now - max(started, screen.changed_at)
            if delayed and weak and quiet_for >= profile.ready_quiet and weak.search(screen.text):
                break
            if await self.tmux.pane_dead(name):
                raise TargetError(
                    f"{profile.name} exited while starting (command: {self.command(self._session)})"
                    f"; its last screen:\n{screen.text.rstrip()}"
                )
            if now >= give_up:
                raise TargetError(
                    f"{profile.name} did not show {profile.ready!r} within {profile.load_timeout}s"
                    f"; its screen:\n{screen.text.rstrip()}"
                )
            await asyncio.sleep(self._poll_interval)
        await self._settle_screen(name, screen, poll=True)

    async def _settle_screen(self, name: str, screen: Screen, *, poll: bool) -> bool:
        """Wait until ``screen`` has not changed for the quiet period; False at the deadline.

        With ``poll`` this captures by itself; otherwise the live poller keeps ``screen`` current.
        """
        since = time.monotonic()
        give_up = since + self.profile.deadline
        while True:
            if poll:
                await self._capture(name, screen)
            now = time.monotonic()
            if now - max(since, screen.changed_at) >= self.profile.quiet:
                return True
            if now >= give_up:
                return False
            await asyncio.sleep(self._poll_interval)

    async def _poll(self) -> None:
        # Keeps the live screen's change stamps honest between checkpoints; a failed capture
        # (the pane is being respawned) is retried on the next tick.
        assert self._live is not None
        while True:
            with contextlib.suppress(TmuxError):
                await self._capture(LIVE, self._live)
            await asyncio.sleep(self._poll_interval)

    async def _stop_poller(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None

    async def _start_live(self) -> None:
        await self._stop_poller()
        env = render_env(self.profile, self._values())
        command = self.command(self._session)
        if self._live is None:
            await self.tmux.new_session(
                LIVE, command, size=self.profile.size, env=env
            )
        else:
            await self.tmux.respawn(LIVE, command, env=env)
        self._live = Screen(self.profile)
        await self._wait_ready(LIVE, self._live)
        self._poller = asyncio.create_task(self._poll(), name="terminal poller")

    # ---- Surface ------------------------------------------------------------------------

    async def attach(self, target: TargetInfo) -> None:
        self._target = target
        if self._chosen is None:
            self.profile = profile_for(target)
            self.readouts = tuple(self.profile.readouts)
        self._tmux = Tmux()

    async def show(self, session_id: str) -> None:
        # A terminal program is opened on a session from its command line; switching is a
        # restart with the other session's arguments, which every program supports.
        self._session = session_id
        await self._start_live()

    async def settle(self) -> None:
        if self._live is None:
            return
        await self._settle_screen(LIVE, self._live, poll=self._poller is None)

    async def read_live(self) -> dict[str, LiveValue]:
        if self._live is None:
            return {name: LiveValue(None) for name in self.readouts}
        await self._capture(LIVE, self._live)
        return {
            name: LiveValue(self._live.values.get(name), self._live.value_changed_at.get(name))
            for name in self.readouts
        }

    async def read_reload(self) -> dict[str, str | None]:
        if self._session is None:
            return dict.fromkeys(self.readouts)
        self._fresh_count += 1
        fresh = f"fresh-{self._fresh_count}"
        screen = Screen(self.profile)
        await self.tmux.new_session(
            fresh,
            self.command(self._session),
            size=self.profile.size,
            env=render_env(self.profile, self._values()),
        )
        try:
            await self._wait_ready(fresh, screen)
            return {readout: screen.values.get(readout) for readout in self.readouts}
        finally:
            with contextlib.suppress(TmuxError):
                await self.tmux.kill_session(fresh)

    async def reload(self) -> None:
        await self._start_live()

    async def close(self) -> None:
        await self._stop_poller()
        if self._tmux is not None:
            await self._tmux.kill_server()
        self._live = None

    # ---- for people and tests -----------------------------------------------------------

    async def send_keys(self, *keys: str) -> None:
        """Send tmux key names (``Enter``, ``C-n``) to the live program."""
        await self.tmux.send_keys(LIVE, *keys)

    async def type_text(self, text: str) -> None:
        await self.tmux.send_text(LIVE, text)

    async def screen(self, *, escapes: bool = False) -> str:
        """The live program's screen as captured now (with colour codes if asked)."""
        return await self.tmux.capture(LIVE, escapes=escapes)
