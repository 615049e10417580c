"""The reference agent's terminal UI: a Textual app that follows the client store.

Layout, as in terminal coding agents: the session list on the left (each session's cost), the
transcript in the middle streaming as it arrives, the sidebar on the right (Context: tokens,
percent used, dollars spent), a prompt input, and a status line with tokens and cost.

Every readout is one :class:`~reference_app.tui.widgets.Readout` whose id is the readout name with
dots replaced by hyphens (see :mod:`reference_app.tui.ids`). Values come from
``ClientStore.readouts()``, so the UI has exactly the store's bug and the client fix behind the
same switch: the sidebar's cost may be fixed by the client, the session list and the status line
read the cached session total and only the server fix reaches them.

Nothing on screen depends on the clock (no time stamps, spinners or blinking cursor), so a
screenshot of the same state is the same picture every run.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Static

from reference_app.client.api import ApiError, AuthLike
from reference_app.client.follow import Client
from reference_app.client.readouts import READOUT_NAMES, SESSIONS_COST
from reference_app.client.store import ClientStore

from .ids import widget_id
from .transcript import render_transcript
from .widgets import Readout, SessionEntry, SessionList

__all__ = ["LIVE_MARK", "FreshnessApp"]

LIVE_MARK = "● live"
"""Shown in the status line once the app has loaded its session and follows the server; a
terminal driver waits for it before reading a freshly started app."""

_CSS = """
Screen { layout: vertical; }
#topbar { height: 1; background: $panel; color: $text; padding: 0 1; }
#body { height: 1fr; }
#sessions-panel { width: 30; border: round $primary 60%; border-title-color: $text-accent; }
#session-list { height: 1fr; scrollbar-size-vertical: 1; }
.session-entry { height: 1; }
.session-entry .title { width: 1fr; color: $text-muted; }
.session-entry.open .title { color: $text; text-style: bold; }
.session-entry .cost { width: auto; min-width: 6; padding-left: 1; color: $text-muted; }
.session-entry.open .cost { color: $text-success; }
#transcript-panel {
    width: 1fr; border: round $primary 60%; border-title-color: $text-accent; padding: 0 1;
    scrollbar-size-vertical: 1;
}
#sidebar { width: 30; border: round $primary 60%; border-title-color: $text-accent; padding: 0 1; }
#sidebar .heading { color: $text-accent; text-style: bold; margin-top: 1; }
#sidebar .heading.first { margin-top: 0; }
#sidebar-cost { color: $text-success; }
#session-info { color: $text-muted; }
#prompt { border: round $accent 70%; }
#prompt:focus { border: round $accent; }
#statusline { height: 1; background: $panel; padding: 0 1; }
#statusline Static { width: auto; padding-right: 3; }
#connection { color: $text-success; }
#connection.down { color: $text-warning; }
#keys { dock: right; color: $text-muted; }
"""


class FreshnessApp(App[None]):
    """Follow one agent server and show one session, as a person uses a coding agent."""

    TITLE = "Freshness"
    CSS = _CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "new_session", "New session"),
    ]

    def __init__(
        self,
        base_url: str,
        *,
        session_id: str | None = None,
        client_fix: bool = False,
        model: str | None = None,
        context_limits: Mapping[str, int] | None = None,
        auth: AuthLike = None,
        window: int = 100,
    ) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.session_id = session_id
        self.client_fix = client_fix
        self.model = model
        self.client: Client | None = None
        self.loaded = asyncio.Event()
        """Set once the open session (if any) is loaded and shown and the stream is followed."""
        self.load_error: str | None = None
        self._given_limits = dict(context_limits or {})
        self._auth = auth
        self._window = window
        self._models: list[str] = []
        self._sync_lock = asyncio.Lock()
        self._transcript: Text | None = None
        self._lines: dict[str, str] = {}
        self._follow_task: asyncio.Task[None] | None = None

    # ---- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(" Freshness", id="topbar")
        with Horizontal(id="body"):
            with Vertical(id="sessions-panel"):
                yield SessionList()
            with VerticalScroll(id="transcript-panel"):
                yield Static(id="transcript", markup=False)
            with Vertical(id="sidebar"):
                yield Static("Context", classes="heading first")
                yield Readout("sidebar.tokens", "{value} tokens")
                yield Readout("sidebar.percent", "{value} used")
                yield Readout("sidebar.cost", "{value} spent")
                yield Static("Model", classes="heading")
                yield Static(id="session-info", markup=False)
        yield Input(placeholder="Ask the agent… (Enter sends)", id="prompt")
        with Horizontal(id="statusline"):
            yield Static("○ connecting", id="connection", classes="down")
            yield Static(id="model-name", markup=False)
            yield Readout("footer.tokens", "tokens {value}")
            yield Readout("footer.cost", "cost {value}")
            yield Static("ctrl+n new session  ctrl+q quit", id="keys")

    def on_mount(self) -> None:
        self.query_one("#sessions-panel").border_title = "Sessions"
        self.query_one("#transcript-panel").border_title = "Transcript"
        self.query_one("#sidebar").border_title = "Session"
        prompt = self.query_one("#prompt", Input)
        # A blinking cursor is a screen that never stops changing: no quiet period to settle
        # on, and no stable snapshot.
        prompt.cursor_blink = False
        prompt.focus()
        self._follow_task = asyncio.create_task(self._follow(), name=f"tui follow {self.base_url}")

    async def on_unmount(self) -> None:
        if self._follow_task is not None:
            self._follow_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._follow_task
        if self.client is not None:
            await self.client.close()

    # ---- following the server -----------------------------------------------------------

    async def _server_models(self) -> dict[str, int]:
        """Context limits from the server's `/config/models`; {} from a server without it."""
        try:
            async with httpx.AsyncClient(
                base_url=self.base_url, auth=self._auth, timeout=5.0
            ) as http:
                response = await http.get("/config/models")
            if not response.is_success:
                return {}
            models: list[dict[str, Any]] = response.json()
        except (httpx.HTTPError, ValueError):
            return {}
        limits: dict[str, int] = {}
        for model in models:
            model_id = model.get("id")
            context = (model.get("limit") or {}).get("context")
            if isinstance(model_id, str):
                self._models.append(model_id)
                if isinstance(context, int):
                    limits[model_id] = context
        return limits

    async def _follow(self) -> None:
        try:
            limits = {**await self._server_models(), **self._given_limits}
            client = Client(
                self.base_url,
                client_fix=self.client_fix,
                window=self._window,
                context_limits=limits,
                auth=self._auth,
            )
            self.client = client
            client.store.on_change(self._on_store_change)
            # The snapshot that start() takes after subscribing then includes the messages.
            client.session_id = self.session_id
            await client.start()
            if self.session_id is None:
                self.session_id = _most_recent(client.store)
                if self.session_id is not None:
                    await client.bootstrap(self.session_id)
        except (ApiError, httpx.HTTPError, OSError, TimeoutError, ConnectionError) as error:
            self.load_error = str(error)
            self.query_one("#connection", Static).update(f"✗ {error}")
            return
        await self._sync()
        self.loaded.set()
        while True:
            mark = _progress(client)

            def moved(_store: ClientStore, mark: tuple[int, int, bool] = mark) -> bool:
                return _progress(client) != mark

            # Woken by every applied event, resync and connection change; the store's readout
            # changes are already on screen through on_change, this redraws everything else.
            with contextlib.suppress(TimeoutError):
                await client.wait_until(moved, 3600)
            await self._sync()

    def _on_store_change(self, session_id: str, changed: tuple[str, ...], t: float) -> None:
        # Called inside store.apply(): the readout widgets take the new strings at once, so
        # their change stamps measure the store-to-widget path without the redraw loop.
        if session_id == self.session_id:
            self._show_readouts()
        else:
            for entry in self.query(SessionEntry):
                if entry.session_id == session_id and self.client is not None:
                    store = self.client.store
                    if store.has_session(session_id):
                        entry.set_cost(store.readouts(session_id)[SESSIONS_COST])

    # ---- drawing ------------------------------------------------------------------------

    def readout(self, name: str) -> Readout | None:
        """The widget that shows readout ``name`` now (None while the session list rebuilds)."""
        found = self.query(f"#{widget_id(name)}")
        widget = found.first() if found else None
        return widget if isinstance(widget, Readout) else None

    def _show_readouts(self) -> None:
        values: dict[str, str] = {}
        store = self.client.store if self.client is not None else None
        if store is not None and self.session_id is not None and store.has_session(
            self.session_id
        ):
            values = store.readouts(self.session_id)
        for name in READOUT_NAMES:
            widget = self.readout(name)
            if widget is not None:
                widget.value = values.get(name, "")

    async def _sync(self) -> None:
        async with self._sync_lock:
            if self.client is None:
                return
            store = self.client.store
            rows = [
                (
                    str(info["id"]),
                    str(info.get("title") or "Untitled"),
                    store.readouts(str(info["id"]))[SESSIONS_COST],
                )
                for info in _newest_first(store)
            ]
            await self.query_one(SessionList).show(rows, self.session_id)
            self._show_readouts()
            self._draw_transcript(store)
            self._draw_status(store)

    def _draw_transcript(self, store: ClientStore) -> None:
        messages = store.messages(self.session_id) if self.session_id else []
        text = render_transcript(messages)
        if text == self._transcript:
            return
        self._transcript = text
        self.query_one("#transcript", Static).update(text)
        self.query_one("#transcript-panel", VerticalScroll).scroll_end(animate=False)

    def _draw_status(self, store: ClientStore) -> None:
        client = self.client
        live = client is not None and client.connected
        self._set_line("#connection", LIVE_MARK if live else "○ reconnecting")
        self.query_one("#connection", Static).set_class(not live, "down")
        session = store.session(self.session_id) if self.session_id else None
        title = str(session.get("title") or "Untitled") if session else "no session"
        self._set_line("#topbar", f" Freshness  ·  {title}", no_wrap=True)
        status = (store.status(self.session_id) or {}).get("type") if self.session_id else None
        state = "working" if status in ("busy", "retry") else "idle"
        model = self._model_for_prompt() or "default model"
        self._set_line("#session-info", f"{model}\n{state}")
        self._set_line("#model-name", model)

    def _set_line(self, selector: str, text: str, *, no_wrap: bool = False) -> None:
        # Static.update() always lays the whole screen out again. This runs after every event
        # and these lines rarely change: updating them regardless put a layout pass in front of
        # each next event (tens of ms on a busy machine), which is where TUI staleness went.
        if self._lines.get(selector) == text:
            return
        self._lines[selector] = text
        self.query_one(selector, Static).update(Text(text, no_wrap=True) if no_wrap else text)

    def _model_for_prompt(self) -> str | None:
        return self.model or (self._models[0] if self._models else None)

    # ---- actions ------------------------------------------------------------------------

    async def open_session(self, session_id: str) -> None:
        """Show another session, as clicking it in the list does."""
        if self.client is None:
            return
        self.session_id = session_id
        self._transcript = None
        await self.client.bootstrap(session_id)
        await self._sync()

    async def on_session_entry_selected(self, message: SessionEntry.Selected) -> None:
        await self.open_session(message.session_id)

    async def action_new_session(self) -> None:
        if self.client is None:
            return
        try:
            info = await self.client.api.create_session()
        except (ApiError, httpx.HTTPError) as error:
            self.notify(str(error), title="Could not create a session", severity="error")
            return
        await self.open_session(str(info["id"]))

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text or self.client is None:
            return
        event.input.value = ""
        try:
            if self.session_id is None:
                info = await self.client.api.create_session()
                await self.open_session(str(info["id"]))
            assert self.session_id is not None
            await self.client.api.prompt_async(
                self.session_id, text, model_id=self._model_for_prompt()
            )
        except (ApiError, httpx.HTTPError) as error:
            self.notify(str(error), title="The prompt was not sent", severity="error")


def _progress(client: Client) -> tuple[int, int, bool]:
    return client.events_applied, client.resyncs, client.connected


def _created(info: Mapping[str, Any]) -> float:
    stamp = (info.get("time") or {}).get("created")
    return float(stamp) if isinstance(stamp, int | float) else 0.0


def _updated(info: Mapping[str, Any]) -> float:
    stamp = (info.get("time") or {}).get("updated")
    return float(stamp) if isinstance(stamp, int | float) else 0.0


def _newest_first(store: ClientStore) -> list[dict[str, Any]]:
    # Children (subagent sessions) roll up into their parent and are not listed on their own.
    top = [info for info in store.sessions() if not info.get("parentID")]
    return sorted(top, key=lambda info: (_created(info), str(info["id"])), reverse=True)


def _most_recent(store: ClientStore) -> str | None:
    top = _newest_first(store)
    if not top:
        return None
    return str(max(top, key=_updated)["id"])
