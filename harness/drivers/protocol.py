"""The protocol surface: a session mirror built only from events, held against ``GET /session``.

This is the server-side invariant, independent of any client's code: if every write that changes a
session's totals publishes an event carrying them, a mirror that only listens stays equal to what a
fresh ``GET`` returns. It works unchanged on any opencode-compatible server.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from harness.display import format_cost, format_tokens
from harness.drivers.base import LiveValue, TargetInfo
from harness.drivers.event_stream import EventStream, ReceivedEvent
from harness.drivers.settle import quiet_for, wait_quiet
from harness.drivers.tls import shared_ssl_context
from harness.errors import TargetError

__all__ = ["ProtocolSurface", "family_cost", "session_readouts"]


def session_readouts(info: dict[str, Any]) -> dict[str, str]:
    """The protocol readouts of one session object, as the opencode API shapes it."""
    tokens = info.get("tokens") or {}
    cache = tokens.get("cache") or {}
    total = sum(
        int(value or 0)
        for value in (
            tokens.get("input"),
            tokens.get("output"),
            tokens.get("reasoning"),
            cache.get("read"),
            cache.get("write"),
        )
    )
    cost = info.get("cost")
    return {
        "session.tokens": format_tokens(total),
        "session.cost": format_cost(None if cost is None else float(cost)),
    }


def _updated_at(info: dict[str, Any]) -> float:
    stamp = (info.get("time") or {}).get("updated")
    return float(stamp) if isinstance(stamp, int | float) else 0.0


def family_cost(info: dict[str, Any], children: list[dict[str, Any]]) -> str:
    """A parent's spend plus its child sessions', each once; unknown when any is unknown."""
    total: float | None = 0.0
    for member in (info, *children):
        cost = member.get("cost")
        total = None if total is None or cost is None else total + float(cost)
    return format_cost(total)


class ProtocolSurface:
    name = "protocol"
    readouts: tuple[str, ...] = ("session.tokens", "session.cost")
    optional_readouts: dict[str, tuple[str, ...]] = {"family": ("session.family.cost",)}

    def __init__(self, quiet: float = 0.03, deadline: float = 3.0) -> None:
        self._quiet = quiet
        self._deadline = deadline
        self._mirror: dict[str, dict[str, Any]] = {}
        self._changed_at: dict[str, float] = {}
        self._shown: dict[str, str] = {}
        self._session: str | None = None
        self._events: EventStream | None = None
        self._http: httpx.AsyncClient | None = None
        self._last_event = time.monotonic()
        self._target: TargetInfo | None = None
        self._auth: httpx.Auth | None = None
        self._resume_after: int | None = None
        self._resyncs: list[asyncio.Future[None]] = []
        self.offline = False

    async def attach(self, target: TargetInfo) -> None:
        self._quiet = quiet_for(target.extra, self._quiet)
        auth = httpx.BasicAuth("opencode", target.password) if target.password else None
        self._http = httpx.AsyncClient(
            base_url=target.base_url, auth=auth, timeout=10.0, verify=shared_ssl_context()
        )
        self._target = target
        self._auth = auth
        await self._connect(resume_after=None)
        await self._bootstrap()

    async def _connect(self, resume_after: int | None) -> None:
        assert self._target is not None
        stream = EventStream(self._target.base_url, self._auth, last_event_id=resume_after)
        stream.listen(self._on_event)
        await stream.start()
        self._events = stream

    async def disconnect(self) -> None:
        """Drop the event stream and stay offline; the mirror keeps what it had."""
        if self._events is not None:
            self._resume_after = self._events.last_id
            await self._events.close()
            self._events = None
        self.offline = True

    async def reconnect(self) -> None:
        """Resume after the last event seen: the server replays the gap or says resync."""
        await self._connect(resume_after=self._resume_after)
        self.offline = False

    async def _recover(self) -> None:
        # A stream that ended under us (the server restarted) comes back the way a reconnect
        # does, without a reload: resume, and refill from REST only if the server says resync.
        if self.offline or self._events is None or not self._events.ended:
            return
        self._resume_after = self._events.last_id
        await self._events.close()
        give_up = time.monotonic() + self._deadline
        while True:
            try:
                await self._connect(resume_after=self._resume_after)
                return
            except TargetError:
                if time.monotonic() >= give_up:
                    raise
                await asyncio.sleep(0.05)

    async def _bootstrap(self) -> None:
        sessions = await self._get("/session")
        self._mirror = {info["id"]: info for info in sessions}
        self._note_change()

    async def _get(self, path: str) -> Any:
        assert self._http is not None
        try:
            response = await self._http.get(path)
            response.raise_for_status()
            return response.json()
        except httpx.HTTPError as error:
            raise TargetError(f"GET {path} failed: {error}") from None

    def _on_event(self, event: ReceivedEvent) -> None:
        self._last_event = event.t
        if event.type == "server.resync":
            # The gap is gone from the server's buffer: refill the mirror from REST, replacing it.
            self._resyncs.append(asyncio.ensure_future(self._bootstrap()))
            return
        info = event.properties.get("info")
        if event.type in ("session.created", "session.updated") and isinstance(info, dict):
            held = self._mirror.get(info["id"])
            if held is not None and _updated_at(held) > _updated_at(info):
                return  # a late event: the mirror already holds a newer row
            self._mirror[info["id"]] = info
        elif event.type == "session.deleted" and isinstance(info, dict):
            self._mirror.pop(info.get("id", ""), None)
        else:
            return
        self._note_change(event.t)

    def _note_change(self, t: float | None = None) -> None:
        if self._session is None or self._session not in self._mirror:
            return
        now = time.monotonic() if t is None else t
        for name, shown in session_readouts(self._mirror[self._session]).items():
            if self._shown.get(name) != shown:
                self._shown[name] = shown
                self._changed_at[name] = now

    async def show(self, session_id: str) -> None:
        self._session = session_id
        self._shown.clear()
        self._note_change()

    async def settle(self) -> None:
        await self._recover()
        await wait_quiet(lambda: self._last_event, self._quiet, self._deadline)
        while self._resyncs:
            await self._resyncs.pop(0)

    async def read_live(self) -> dict[str, LiveValue]:
        if self._session is None or self._session not in self._mirror:
            return {name: LiveValue(None) for name in self.readouts}
        shown = session_readouts(self._mirror[self._session])
        if "session.family.cost" in self.readouts:
            children = [
                info for info in self._mirror.values() if info.get("parentID") == self._session
            ]
            shown["session.family.cost"] = family_cost(self._mirror[self._session], children)
        return {name: LiveValue(value, self._changed_at.get(name)) for name, value in shown.items()}

    async def read_reload(self) -> dict[str, str | None]:
        if self._session is None:
            return dict.fromkeys(self.readouts)
        info = await self._get(f"/session/{self._session}")
        fresh: dict[str, str | None] = dict(session_readouts(info))
        if "session.family.cost" in self.readouts:
            children = await self._get(f"/session/{self._session}/children")
            fresh["session.family.cost"] = family_cost(info, children)
        return fresh

    async def reload(self) -> None:
        await self._bootstrap()

    async def close(self) -> None:
        if self._events is not None:
            await self._events.close()
        if self._http is not None:
            await self._http.aclose()
        await asyncio.sleep(0)
