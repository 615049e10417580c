"""The client's replica of the server's sessions and messages, and the readouts derived from it.

This is the piece that has the frozen-cost bug. Tokens and percent derive from the last assistant
message, which the client watches live; the sidebar cost reads the cached `Session.cost`, which the
server increments without publishing anything (unless its fix is on). `client_fix=True` makes the
sidebar cost the larger of the cached total and the sum of the loaded assistant messages' cost;
the session list and the footer keep reading the cached total, as in real agents.

Derivations are incremental: applying one event touches only the messages it names. A window
keeps the running sum of its assistant messages' known costs (exact, in `Decimal`, so the order of
updates cannot change a displayed cent), a count of messages whose cost is unknown, and the id of
the last assistant message.

Snapshots (`load_*`) replace state. Passing `keep_events_after=store.event_mark()` taken before
the REST request keeps whatever events applied since then changed, because those may be newer than
the snapshot; a session whose cached `time.updated` is newer than the snapshot's also stays.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Context, Decimal
from typing import Any

from .readouts import READOUT_NAMES, ReadoutValues, render_readouts

__all__ = [
    "ChangeCallback",
    "ClientStore",
    "JSONObject",
    "UnknownSessionError",
    "message_cost",
    "total_tokens",
]

JSONObject = dict[str, Any]
ChangeCallback = Callable[[str, tuple[str, ...], float], None]

# Enough digits that summing thousands of float-derived costs is exact.
_EXACT = Context(prec=60)
_ZERO = Decimal(0)


class UnknownSessionError(KeyError):
    """The store holds neither the session nor any of its messages."""

    def __init__(self, session_id: str) -> None:
        super().__init__(session_id)
        self.session_id = session_id

    def __str__(self) -> str:
        return (
            f"session {self.session_id!r} is not in the client store; load it with "
            "load_session()/load_messages() or wait for its session.created event"
        )


def total_tokens(info: Mapping[str, Any]) -> int:
    """The occupancy the sidebar shows: every token field of an assistant message, summed."""
    tokens = info.get("tokens") or {}
    cache = tokens.get("cache") or {}
    fields = (
        tokens.get("input"),
        tokens.get("output"),
        tokens.get("reasoning"),
        cache.get("read"),
        cache.get("write"),
    )
    return sum(int(value) for value in fields if isinstance(value, int | float))


def message_cost(info: Mapping[str, Any]) -> Decimal | None:
    """An assistant message's cost; `None` when its model is unpriced (cost is JSON null).

    A missing field counts as zero, as opencode's own client does (`cost ?? 0`).
    """
    if "cost" not in info:
        return _ZERO
    return _to_decimal(info["cost"])


def _to_decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value))
    return None


def _session_cost(info: Mapping[str, Any] | None) -> float | None:
    # No cached session, or one without a cost field, reads as zero like `session()?.cost ?? 0`;
    # an explicit null is an unpriced model's unknown spend.
    if info is None or "cost" not in info:
        return 0.0
    value = info["cost"]
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _updated_at(info: Mapping[str, Any] | None) -> float:
    if not info:
        return 0.0
    stamp = (info.get("time") or {}).get("updated")
    return float(stamp) if isinstance(stamp, int | float) else 0.0


def _order_key(info: Mapping[str, Any]) -> tuple[float, str]:
    created = (info.get("time") or {}).get("created")
    return (float(created) if isinstance(created, int | float) else 0.0, str(info["id"]))


@dataclass(slots=True)
class _Message:
    info: JSONObject
    key: tuple[float, str]
    is_assistant: bool
    # An assistant message that has reported usage: the one the context readouts follow. A turn
    # just started has an empty assistant message, which must not drop the sidebar to zero.
    shows_tokens: bool
    cost: Decimal | None
    # The store's event counter when an event last wrote this message; 0 for snapshot data.
    event_seq: int


@dataclass(slots=True)
class _Window:
    """The last `size` messages of one session, with aggregates kept in step."""

    size: int
    keys: list[tuple[float, str]] = field(default_factory=list)
    messages: dict[str, _Message] = field(default_factory=dict)
    parts: dict[str, dict[str, JSONObject]] = field(default_factory=dict)
    cost_sum: Decimal = _ZERO
    unknown_costs: int = 0
    last_assistant: str | None = None
    evicted: int = 0
    may_have_older: bool = False

    def _count(self, message: _Message, sign: int) -> None:
        if not message.is_assistant:
            return
        if message.cost is None:
            self.unknown_costs += sign
        else:
            self.cost_sum = _EXACT.add(self.cost_sum, message.cost * sign)

    def _adopt_if_last(self, message: _Message) -> None:
        if not message.shows_tokens:
            return
        if self.last_assistant is None or message.key >= self.messages[self.last_assistant].key:
            self.last_assistant = message.key[1]

    def _find_last_assistant(self) -> None:
        # Runs only when the last assistant message itself leaves; the previous assistant
        # message is almost always one or two entries back.
        self.last_assistant = None
        for key in reversed(self.keys):
            if self.messages[key[1]].shows_tokens:
                self.last_assistant = key[1]
                return

    def upsert(self, message: _Message) -> bool:
        """Insert or replace one message; False when it is older than a full window."""
        previous = self.messages.get(message.key[1])
        if previous is not None and previous.key == message.key:
            self._count(previous, -1)
            self.messages[message.key[1]] = message
            self._count(message, +1)
            if previous.shows_tokens and not message.shows_tokens:
                self._find_last_assistant()
            else:
                self._adopt_if_last(message)
            return True
        if previous is not None:
            self.remove(previous.key[1])
        if len(self.keys) >= self.size and message.key < self.keys[0]:
            # The session holds a message the window does not: as good as evicted.
            self.evicted += 1
            return False
        bisect.insort(self.keys, message.key)
        self.messages[message.key[1]] = message
        self._count(message, +1)
        self._adopt_if_last(message)
        while len(self.keys) > self.size:
            oldest = self.keys[0]
            self.remove(oldest[1])
            self.evicted += 1
        return True

    def remove(self, message_id: str) -> bool:
        message = self.messages.pop(message_id, None)
        self.parts.pop(message_id, None)
        if message is None:
            return False
        index = bisect.bisect_left(self.keys, message.key)
        del self.keys[index]
        self._count(message, -1)
        if self.last_assistant == message_id:
            self._find_last_assistant()
        return True

    def last_assistant_info(self) -> JSONObject | None:
        if self.last_assistant is None:
            return None
        return self.messages[self.last_assistant].info


def _make_message(info: JSONObject, event_seq: int) -> _Message:
    is_assistant = info.get("role") == "assistant"
    return _Message(
        info=info,
        key=_order_key(info),
        is_assistant=is_assistant,
        shows_tokens=is_assistant and total_tokens(info) > 0,
        cost=message_cost(info) if is_assistant else _ZERO,
        event_seq=event_seq,
    )


class ClientStore:
    """Sessions and message windows as the client holds them, plus the readouts they show."""

    def __init__(
        self,
        client_fix: bool = False,
        window: int = 100,
        context_limits: Mapping[str, int] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if window < 1:
            raise ValueError(f"window must hold at least one message, got {window}")
        self.client_fix = client_fix
        self.window = window
        self._context_limits: dict[str, int] = dict(context_limits or {})
        self._clock = clock
        self._sessions: dict[str, JSONObject] = {}
        self._session_event_seq: dict[str, int] = {}
        self._windows: dict[str, _Window] = {}
        self._statuses: dict[str, JSONObject] = {}
        self._errors: dict[str, Any] = {}
        # Removals applied by events, by the event counter, so a snapshot taken before them
        # cannot bring the removed thing back.
        self._deleted_sessions: dict[str, int] = {}
        self._removed_messages: dict[tuple[str, str], int] = {}
        self._seq = 0
        self._rendered: dict[str, dict[str, str]] = {}
        self._changed_at: dict[str, dict[str, float]] = {}
        self._callbacks: list[ChangeCallback] = []

    # ---- subscription -------------------------------------------------------------------

    def on_change(self, callback: ChangeCallback) -> Callable[[], None]:
        """Call `callback(session_id, changed_names, time.monotonic())` when a shown string
        changes (including appearing and disappearing). Returns an unsubscribe function."""
        self._callbacks.append(callback)

        def unsubscribe() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

        return unsubscribe

    def last_changed_at(self, session_id: str) -> dict[str, float]:
        """When each readout of the session last changed its displayed string (monotonic)."""
        return dict(self._changed_at.get(session_id, {}))

    # ---- configuration ------------------------------------------------------------------

    def set_context_limits(self, context_limits: Mapping[str, int]) -> None:
        self._context_limits = dict(context_limits)
        for session_id in list(self._rendered):
            self._refresh(session_id)

    def event_mark(self) -> int:
        """How many events have been applied; pass it to `load_*` as `keep_events_after`."""
        return self._seq

    # ---- reading ------------------------------------------------------------------------

    def session_ids(self) -> list[str]:
        return list(self._sessions)

    def sessions(self) -> list[JSONObject]:
        return list(self._sessions.values())

    def session(self, session_id: str) -> JSONObject | None:
        return self._sessions.get(session_id)

    def messages(self, session_id: str) -> list[JSONObject]:
        """The loaded window, oldest first, as `{"info": ..., "parts": [...]}`."""
        window = self._windows.get(session_id)
        if window is None:
            return []
        return [
            {
                "info": window.messages[key[1]].info,
                "parts": list(window.parts.get(key[1], {}).values()),
            }
            for key in window.keys
        ]

    def status(self, session_id: str) -> JSONObject | None:
        return self._statuses.get(session_id)

    def error(self, session_id: str) -> Any:
        return self._errors.get(session_id)

    def has_session(self, session_id: str) -> bool:
        return session_id in self._sessions or session_id in self._windows

    def values(self, session_id: str) -> ReadoutValues:
        """The raw values behind `readouts()`; raises `UnknownSessionError`."""
        if not self.has_session(session_id):
            raise UnknownSessionError(session_id)
        info = self._sessions.get(session_id)
        window = self._windows.get(session_id)
        last = window.last_assistant_info() if window is not None else None
        tokens = total_tokens(last) if last is not None else 0
        session_cost = _session_cost(info)
        sidebar_cost = session_cost
        if self.client_fix and window is not None:
            if session_cost is None or window.unknown_costs:
                sidebar_cost = None
            else:
                sidebar_cost = float(max(Decimal(str(session_cost)), window.cost_sum))
        return ReadoutValues(
            tokens=tokens,
            context_limit=self._context_limit(last, info),
            sidebar_cost=sidebar_cost,
            session_cost=session_cost,
            incomplete=window is not None and (window.evicted > 0 or window.may_have_older),
        )

    def family_cost(self, session_id: str) -> float | None:
        """The session's sidebar spend plus its child sessions' (subagents') cached totals, each
        counted once; unknown when any of them is. Raises `UnknownSessionError`."""
        own = self.values(session_id).sidebar_cost
        if own is None:
            return None
        total = Decimal(str(own))
        for info in self._sessions.values():
            if info.get("parentID") == session_id:
                cost = _session_cost(info)
                if cost is None:
                    return None
                total = _EXACT.add(total, Decimal(str(cost)))
        return float(total)

    def readouts(self, session_id: str) -> dict[str, str]:
        """Every readout of the session as displayed; raises `UnknownSessionError`."""
        return render_readouts(self.values(session_id))

    def _context_limit(self, last: JSONObject | None, info: JSONObject | None) -> int | None:
        if last is not None:
            model_id, provider_id = last.get("modelID"), last.get("providerID")
        elif info is not None and isinstance(info.get("model"), dict):
            model_id, provider_id = info["model"].get("id"), info["model"].get("providerID")
        else:
            return None
        for name in (model_id, f"{provider_id}/{model_id}"):
            if isinstance(name, str) and name in self._context_limits:
                return self._context_limits[name]
        return None

    # ---- events -------------------------------------------------------------------------

    def apply(self, event: Mapping[str, Any]) -> bool:
        """Apply one `/event` payload. Returns whether it changed data a readout derives from
        (the exact displayed changes go to `on_change`). Unknown types are ignored."""
        handler = self._handlers.get(str(event.get("type")))
        if handler is None:
            return False
        self._seq += 1
        properties = event.get("properties") or {}
        session_id, changed = handler(self, properties)
        if changed and session_id is not None:
            self._refresh(session_id)
        return changed

    def _on_session_upsert(self, properties: Mapping[str, Any]) -> tuple[str | None, bool]:
        info = dict(properties["info"])
        session_id = str(info.get("id") or properties["sessionID"])
        cached = self._sessions.get(session_id)
        # Live events arrive in order, so only a snapshot read later can be newer than one.
        if cached is not None and _updated_at(cached) > _updated_at(info):
            return session_id, False
        self._sessions[session_id] = info
        self._session_event_seq[session_id] = self._seq
        self._deleted_sessions.pop(session_id, None)
        return session_id, True

    def _on_session_deleted(self, properties: Mapping[str, Any]) -> tuple[str | None, bool]:
        info = properties.get("info") or {}
        session_id = str(properties.get("sessionID") or info["id"])
        self._forget_session(session_id)
        self._deleted_sessions[session_id] = self._seq
        return session_id, True

    def _on_message_updated(self, properties: Mapping[str, Any]) -> tuple[str | None, bool]:
        info = dict(properties["info"])
        session_id = str(info.get("sessionID") or properties["sessionID"])
        window = self._window(session_id)
        self._removed_messages.pop((session_id, str(info["id"])), None)
        return session_id, window.upsert(_make_message(info, self._seq))

    def _on_message_removed(self, properties: Mapping[str, Any]) -> tuple[str | None, bool]:
        session_id, message_id = str(properties["sessionID"]), str(properties["messageID"])
        self._removed_messages[(session_id, message_id)] = self._seq
        window = self._windows.get(session_id)
        return session_id, window is not None and window.remove(message_id)

    def _on_part_updated(self, properties: Mapping[str, Any]) -> tuple[str | None, bool]:
        part = dict(properties["part"])
        session_id = str(part.get("sessionID") or properties["sessionID"])
        window = self._window(session_id)
        # Parts feed no readout (the message's own info carries its tokens and cost), but a UI
        # shows them; a part may arrive before its message, so it is kept either way.
        window.parts.setdefault(str(part["messageID"]), {})[str(part["id"])] = part
        return session_id, False

    def _on_part_removed(self, properties: Mapping[str, Any]) -> tuple[str | None, bool]:
        window = self._windows.get(str(properties["sessionID"]))
        if window is not None:
            parts = window.parts.get(str(properties["messageID"]), {})
            parts.pop(str(properties["partID"]), None)
        return None, False

    def _on_part_delta(self, properties: Mapping[str, Any]) -> tuple[str | None, bool]:
        window = self._windows.get(str(properties["sessionID"]))
        if window is None:
            return None, False
        part = window.parts.get(str(properties["messageID"]), {}).get(str(properties["partID"]))
        name = str(properties["field"])
        if part is not None and isinstance(part.get(name, ""), str):
            part[name] = part.get(name, "") + str(properties["delta"])
        return None, False

    def _on_status(self, properties: Mapping[str, Any]) -> tuple[str | None, bool]:
        self._statuses[str(properties["sessionID"])] = dict(properties["status"])
        return None, False

    def _on_idle(self, properties: Mapping[str, Any]) -> tuple[str | None, bool]:
        self._statuses[str(properties["sessionID"])] = {"type": "idle"}
        return None, False

    def _on_error(self, properties: Mapping[str, Any]) -> tuple[str | None, bool]:
        session_id = properties.get("sessionID")
        if session_id is not None:
            self._errors[str(session_id)] = properties.get("error")
        return None, False

    def _on_connected(self, properties: Mapping[str, Any]) -> tuple[str | None, bool]:
        return None, False

    _handlers: dict[str, Callable[[ClientStore, Mapping[str, Any]], tuple[str | None, bool]]] = {
        "session.created": _on_session_upsert,
        "session.updated": _on_session_upsert,
        "session.deleted": _on_session_deleted,
        "message.updated": _on_message_updated,
        "message.removed": _on_message_removed,
        "message.part.updated": _on_part_updated,
        "message.part.removed": _on_part_removed,
        "message.part.delta": _on_part_delta,
        "session.status": _on_status,
        "session.idle": _on_idle,
        "session.error": _on_error,
        "server.connected": _on_connected,
    }

    # ---- snapshots ----------------------------------------------------------------------

    def load_sessions(
        self, sessions: Iterable[Mapping[str, Any]], *, keep_events_after: int | None = None
    ) -> None:
        """Replace the session list with a `GET /session` answer.

        A session absent from it disappears with its messages, unless an event applied after
        `keep_events_after` created it (the snapshot was read before it existed).
        """
        fresh: dict[str, JSONObject] = {}
        for raw in sessions:
            info = dict(raw)
            session_id = str(info["id"])
            if self._deleted_after(session_id, keep_events_after):
                continue
            fresh[session_id] = self._newer_session(session_id, info)
        if keep_events_after is not None:
            for session_id, info in self._sessions.items():
                if session_id not in fresh and (
                    self._session_event_seq.get(session_id, 0) > keep_events_after
                ):
                    fresh[session_id] = info
        vanished = [session_id for session_id in self._sessions if session_id not in fresh]
        for session_id in vanished:
            self._forget_session(session_id)
        self._sessions = fresh
        self._session_event_seq = {
            sid: seq for sid, seq in self._session_event_seq.items() if sid in fresh
        }
        self._prune_removals(keep_events_after)
        for session_id in {*fresh, *vanished, *self._rendered}:
            self._refresh(session_id)

    def load_session(
        self, session: Mapping[str, Any], *, keep_events_after: int | None = None
    ) -> None:
        """Replace one cached session with a `GET /session/{id}` answer."""
        info = dict(session)
        session_id = str(info["id"])
        if self._deleted_after(session_id, keep_events_after):
            return
        self._sessions[session_id] = self._newer_session(session_id, info)
        self._refresh(session_id)

    def load_messages(
        self,
        session_id: str,
        messages: Iterable[Mapping[str, Any]],
        *,
        keep_events_after: int | None = None,
    ) -> None:
        """Replace a session's window with a `GET /session/{id}/message?limit=N` answer.

        Messages written or removed by events applied after `keep_events_after` keep their
        event state: messages have no silent writes, so an event is never older than a snapshot
        that missed it.
        """
        old = self._windows.get(session_id)
        window = _Window(size=self.window)
        received = 0
        chosen: dict[str, _Message] = {}
        for entry in messages:
            received += 1
            info = dict(entry["info"])
            message_id = str(info["id"])
            if self._removed_after(session_id, message_id, keep_events_after):
                continue
            chosen[message_id] = _make_message(info, 0)
            window.parts[message_id] = {
                str(part["id"]): dict(part) for part in entry.get("parts") or []
            }
        if keep_events_after is not None and old is not None:
            for message_id, message in old.messages.items():
                if message.event_seq > keep_events_after:
                    chosen[message_id] = message
                    window.parts[message_id] = old.parts.get(message_id, {})
        for message in sorted(chosen.values(), key=lambda item: item.key):
            window.upsert(message)
        window.parts = {mid: parts for mid, parts in window.parts.items() if mid in window.messages}
        window.may_have_older = received >= self.window
        self._windows[session_id] = window
        self._prune_removals(keep_events_after)
        self._refresh(session_id)

    def _newer_session(self, session_id: str, snapshot: JSONObject) -> JSONObject:
        cached = self._sessions.get(session_id)
        if cached is not None and _updated_at(cached) > _updated_at(snapshot):
            return cached
        return snapshot

    def _deleted_after(self, session_id: str, mark: int | None) -> bool:
        return mark is not None and self._deleted_sessions.get(session_id, 0) > mark

    def _removed_after(self, session_id: str, message_id: str, mark: int | None) -> bool:
        return mark is not None and self._removed_messages.get((session_id, message_id), 0) > mark

    def _prune_removals(self, mark: int | None) -> None:
        # A later snapshot is taken with a later mark, so older removals can no longer matter.
        floor = self._seq if mark is None else mark
        self._deleted_sessions = {k: v for k, v in self._deleted_sessions.items() if v > floor}
        self._removed_messages = {k: v for k, v in self._removed_messages.items() if v > floor}

    def _window(self, session_id: str) -> _Window:
        window = self._windows.get(session_id)
        if window is None:
            window = self._windows[session_id] = _Window(size=self.window)
        return window

    def _forget_session(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)
        self._session_event_seq.pop(session_id, None)
        self._windows.pop(session_id, None)
        self._statuses.pop(session_id, None)
        self._errors.pop(session_id, None)

    # ---- change detection ---------------------------------------------------------------

    def _refresh(self, session_id: str) -> None:
        before = self._rendered.get(session_id)
        after = self.readouts(session_id) if self.has_session(session_id) else None
        if before == after:
            return
        changed = tuple(
            name for name in READOUT_NAMES if (before or {}).get(name) != (after or {}).get(name)
        )
        now = self._clock()
        if after is None:
            self._rendered.pop(session_id, None)
            self._changed_at.pop(session_id, None)
        else:
            self._rendered[session_id] = after
            stamps = self._changed_at.setdefault(session_id, {})
            for name in changed:
                stamps[name] = now
        for callback in list(self._callbacks):
            callback(session_id, changed, now)
