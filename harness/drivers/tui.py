"""The tui surface: the reference terminal UI run in-process under Textual's pilot.

Live is one :class:`~reference_app.tui.app.FreshnessApp` started with ``app.run_test()`` on the
target's server, which has followed ``/event`` since; readouts are read from its widgets (one per
readout, ids from :mod:`reference_app.tui.ids`). Reload replaces it with a freshly started app on
the same session, as a person restarts the program; the oracle (``read_reload``) starts another
app, reads its widgets once it has loaded, and shuts it down.

Each app runs in a task of its own (:class:`AppHost`): ``run_test()`` installs the app in the
context of the task that enters it, so hosting it elsewhere keeps the caller's context clean and
lets any task close it.

Settle: the app counts as caught up once nothing has happened for a quiet period counted from the
moment settling began: no event applied by its client, no readout widget changed. A deadline bounds
it. Timing: every readout widget stamps ``time.monotonic()`` in its reactive's watcher, which runs
only when the displayed string changes, so a frozen readout keeps its old stamp.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import httpx
from textual._context import active_app
from textual.pilot import Pilot

from harness.drivers.base import LiveValue, TargetInfo
from harness.drivers.settle import wait_quiet
from harness.errors import TargetError
from reference_app.client.readouts import READOUT_NAMES
from reference_app.tui.app import FreshnessApp

__all__ = ["TUI_SIZE", "AppHost", "TuiSurface"]

TUI_SIZE: tuple[int, int] = (160, 45)
"""Columns x rows, the same as the terminal surface's tmux window."""


class AppHost:
    """One app running under ``run_test()`` in its own task until :meth:`stop`."""

    def __init__(self, app: FreshnessApp, size: tuple[int, int] = TUI_SIZE) -> None:
        self.app = app
        self._size = size
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._pilot: Pilot[None] | None = None

    @property
    def pilot(self) -> Pilot[None]:
        assert self._pilot is not None, "start() first"
        return self._pilot

    async def start(self, timeout: float) -> None:
        """Run the app and return once it has loaded its session and follows the server."""
        self._task = asyncio.create_task(self._run(), name=f"tui host {self.app.base_url}")
        # asyncio.wait() on a task from outside the app's context does not wake while the app
        # runs (measured: it sleeps to its timeout), so this waits on an event with wait_for.
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            await self.stop()
            raise TargetError(
                f"the TUI did not load {self.app.base_url} within {timeout}s "
                f"(error: {self.app.load_error or 'none reported'})"
            ) from None
        if self._task.done():
            self._task.result()  # the app died while starting: its exception says why
        if self.app.load_error is not None or not self.app.loaded.is_set():
            await self.stop()
            raise TargetError(f"the TUI could not load {self.app.base_url}: {self.app.load_error}")

    async def _run(self) -> None:
        try:
            async with self.app.run_test(size=self._size, headless=True) as pilot:
                self._pilot = pilot
                while not self.app.loaded.is_set() and self.app.load_error is None:
                    if self._stop.is_set():
                        return
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(asyncio.shield(self.app.loaded.wait()), 0.05)
                # Let the first full frame draw before anyone reads it.
                await pilot.pause()
                self._ready.set()
                await self._stop.wait()
        finally:
            self._ready.set()  # wakes start() if the app died before loading

    async def pause(self) -> None:
        """``pilot.pause()`` from the harness's task. It may draw a frame, and drawing some
        content reads the app from a context variable that only the app's own task has set: a
        long transcript raised LookupError(active_app) here."""
        token = active_app.set(self.app)
        try:
            await self.pilot.pause()
        finally:
            active_app.reset(token)

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self._task
            self._task = None


class TuiSurface:
    name = "tui"
    readouts: tuple[str, ...] = READOUT_NAMES

    def __init__(
        self,
        quiet: float = 0.05,
        deadline: float = 3.0,
        *,
        size: tuple[int, int] = TUI_SIZE,
        load_timeout: float = 15.0,
    ) -> None:
        self._quiet = quiet
        self._deadline = deadline
        self._size = size
        self._load_timeout = load_timeout
        self._target: TargetInfo | None = None
        self._session: str | None = None
        self._live: AppHost | None = None

    # ---- apps -------------------------------------------------------------------------------

    def _new_app(self, session_id: str | None) -> FreshnessApp:
        assert self._target is not None, "attach() first"
        target = self._target
        auth = httpx.BasicAuth("opencode", target.password) if target.password else None
        return FreshnessApp(
            target.base_url,
            session_id=session_id,
            client_fix=target.client_fix,
            context_limits=target.context_limits,
            auth=auth,
        )

    async def _start(self, session_id: str | None) -> AppHost:
        host = AppHost(self._new_app(session_id), self._size)
        await host.start(self._load_timeout)
        return host

    @property
    def app(self) -> FreshnessApp:
        """The live app (for screenshots and tests)."""
        if self._live is None:
            raise RuntimeError("the tui surface has no live app; call attach() first")
        return self._live.app

    def screenshot(self) -> str:
        """The live screen as SVG, for a run's artifacts."""
        return self.app.export_screenshot(title="Freshness")

    # ---- Surface ----------------------------------------------------------------------------

    async def attach(self, target: TargetInfo) -> None:
        self._target = target
        self._live = await self._start(None)

    async def show(self, session_id: str) -> None:
        self._session = session_id
        assert self._live is not None, "attach() first"
        # What clicking the session in the list does.
        await self._live.app.open_session(session_id)
        await self._live.pause()

    async def settle(self) -> None:
        if self._live is None:
            return
        app = self._live.app
        client = app.client
        applied = client.events_applied if client is not None else 0
        applied_at = time.monotonic()

        def last_activity() -> float:
            nonlocal applied, applied_at
            now_applied = app.client.events_applied if app.client is not None else 0
            if now_applied != applied:
                applied, applied_at = now_applied, time.monotonic()
            stamps = [
                widget.changed_at
                for name in READOUT_NAMES
                if (widget := app.readout(name)) is not None and widget.changed_at is not None
            ]
            return max([applied_at, *stamps])

        await wait_quiet(last_activity, self._quiet, self._deadline)
        # Whatever the last event queued (a redraw, a remount of the session list) lands now.
        await self._live.pause()

    async def read_live(self) -> dict[str, LiveValue]:
        if self._live is None or self._session is None:
            return {name: LiveValue(None) for name in self.readouts}
        return _read_widgets(self._live.app)

    async def read_reload(self) -> dict[str, str | None]:
        if self._session is None:
            return dict.fromkeys(self.readouts)
        fresh = await self._start(self._session)
        try:
            values = _read_widgets(fresh.app)
        finally:
            await fresh.stop()
        return {name: value.shown for name, value in values.items()}

    async def reload(self) -> None:
        if self._live is not None:
            await self._live.stop()
            self._live = None
        self._live = await self._start(self._session)

    async def close(self) -> None:
        if self._live is not None:
            await self._live.stop()
            self._live = None


def _read_widgets(app: FreshnessApp) -> dict[str, LiveValue]:
    values: dict[str, LiveValue] = {}
    for name in READOUT_NAMES:
        widget = app.readout(name)
        if widget is None:
            values[name] = LiveValue(None)
        else:
            values[name] = LiveValue(widget.value or None, widget.changed_at)
    return values
