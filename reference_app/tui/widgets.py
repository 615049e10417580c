"""Widgets of the reference terminal UI: one widget per readout, and the session list.

A :class:`Readout` holds its displayed string in a reactive. Textual skips a reactive's watcher
when the new value equals the old one, so ``changed_at`` moves only when the screen really
changes: a readout fed from a stale cache keeps its old stamp, which is how the harness measures
how long a value took to reach the screen (and sees that a frozen one never did).
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Label, Static

from .ids import widget_id

__all__ = ["PLACEHOLDER", "Readout", "SessionEntry", "SessionList"]

PLACEHOLDER = "…"
"""Shown in place of a value the app does not have yet (no session open, still loading)."""


class Readout(Static):
    """One readout on screen: ``template`` with ``{value}`` replaced by the readout's string."""

    value: reactive[str] = reactive("", init=False, layout=True)
    """The readout string exactly as the client store renders it; "" while there is none."""

    def __init__(self, readout: str, template: str = "{value}", *, classes: str = "") -> None:
        self.readout = readout
        self.template = template
        self.changed_at: float | None = None
        """time.monotonic() when ``value`` last changed (None until it first holds a value)."""
        self.text = template.format(value=PLACEHOLDER)
        """The full line as displayed, label included."""
        super().__init__(self.text, id=widget_id(readout), classes=classes, markup=False)

    def watch_value(self, value: str) -> None:
        self.changed_at = time.monotonic()
        self.text = self.template.format(value=value or PLACEHOLDER)
        self.update(self.text)


class SessionEntry(Horizontal):
    """A session in the list: its title and its cost. The open session's cost is the
    ``sessions.cost`` readout; the others are plain labels (they have no readout name)."""

    class Selected(Message):
        """A person clicked this entry to open its session."""

        def __init__(self, session_id: str) -> None:
            super().__init__()
            self.session_id = session_id

    def __init__(self, session_id: str, title: str, cost: str, *, is_open: bool) -> None:
        super().__init__(classes="session-entry open" if is_open else "session-entry")
        self.session_id = session_id
        self.is_open = is_open
        self._title = title
        self._cost = cost

    def compose(self) -> ComposeResult:
        marker = "▸ " if self.is_open else "  "
        yield Label(Text(marker + self._title, no_wrap=True, overflow="ellipsis"), classes="title")
        if self.is_open:
            # Its value arrives from the app right after mounting, through the watcher, so its
            # change time is stamped like every other readout's.
            yield Readout("sessions.cost", classes="cost")
        else:
            yield Label(self._cost or PLACEHOLDER, classes="cost")

    def set_title(self, title: str) -> None:
        if title != self._title:
            self._title = title
            marker = "▸ " if self.is_open else "  "
            self.query_one(".title", Label).update(
                Text(marker + title, no_wrap=True, overflow="ellipsis")
            )

    def set_cost(self, cost: str) -> None:
        """Update a closed session's cost label (the open one's goes through its readout)."""
        if not self.is_open and cost != self._cost:
            self._cost = cost
            self.query_one(".cost", Label).update(cost or PLACEHOLDER)

    def on_click(self) -> None:
        self.post_message(self.Selected(self.session_id))


class SessionList(VerticalScroll):
    """Every session the store holds, oldest first, the open one marked."""

    def __init__(self) -> None:
        super().__init__(id="session-list")
        self._layout: tuple[tuple[str, ...], str | None] = ((), None)

    async def show(
        self, sessions: list[tuple[str, str, str]], open_id: str | None
    ) -> None:
        """Bring the list up to date with ``(session_id, title, cost)`` rows.

        Entries are rebuilt only when the set of sessions or the open one changes (the
        ``sessions.cost`` id must move to the newly open entry); titles and costs of existing
        entries are updated in place so a calm list does not repaint.
        """
        layout = (tuple(row[0] for row in sessions), open_id)
        if layout != self._layout:
            self._layout = layout
            await self.remove_children()
            await self.mount_all(
                SessionEntry(sid, title, cost, is_open=sid == open_id)
                for sid, title, cost in sessions
            )
            return
        for entry, (_sid, title, cost) in zip(
            self.query(SessionEntry), sessions, strict=False
        ):
            entry.set_title(title)
            entry.set_cost(cost)
