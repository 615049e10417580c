"""The store surface: the reference client's own replica, read directly.

Live is the running client that bootstrapped once and has followed ``/event`` since; reload is a
brand-new client that loads everything from REST, exactly as the app does when a person reloads.
"""

from __future__ import annotations

import contextlib
import time

import httpx

from harness.drivers.base import LiveValue, TargetInfo
from harness.drivers.settle import quiet_for, wait_quiet
from reference_app.client.api import AgentApi
from reference_app.client.follow import Client
from reference_app.client.readouts import format_cost, format_tokens
from reference_app.client.store import ClientStore

__all__ = ["StoreSurface"]


class StoreSurface:
    name = "store"
    readouts: tuple[str, ...] = (
        "sidebar.tokens",
        "sidebar.percent",
        "sidebar.cost",
        "sessions.cost",
    )
    optional_readouts: dict[str, tuple[str, ...]] = {
        "family": ("sidebar.family.cost",),
        "list": ("sessions.count",),
    }

    def __init__(self, quiet: float = 0.03, deadline: float = 3.0) -> None:
        self._quiet = quiet
        self._deadline = deadline
        self._target: TargetInfo | None = None
        self._client: Client | None = None
        self._api: AgentApi | None = None
        self._session: str | None = None
        self._changed_at: dict[str, float] = {}
        self._last_activity = time.monotonic()
        self.offline = False

    def _auth(self) -> httpx.Auth | None:
        assert self._target is not None
        if self._target.password:
            return httpx.BasicAuth("opencode", self._target.password)
        return None

    def _new_client(self) -> Client:
        assert self._target is not None
        return Client(
            self._target.base_url,
            client_fix=self._target.client_fix,
            context_limits=self._target.context_limits,
            auth=self._auth(),
        )

    async def attach(self, target: TargetInfo) -> None:
        self._quiet = quiet_for(target.extra, self._quiet)
        self._target = target
        self._api = AgentApi(target.base_url, auth=self._auth())
        await self._start_live()

    async def _start_live(self) -> None:
        client = self._new_client()
        client.store.on_change(self._on_change)
        await client.bootstrap(self._session)
        await client.start()
        self._client = client
        self._changed_at.clear()

    def _on_change(self, session_id: str, names: object, t: float) -> None:
        self._last_activity = t
        if session_id != self._session or not isinstance(names, list | tuple | set | frozenset):
            return
        for name in names:
            self._changed_at[str(name)] = t

    async def show(self, session_id: str) -> None:
        self._session = session_id
        assert self._client is not None
        await self._client.bootstrap(session_id)

    async def disconnect(self) -> None:
        """Drop the live event stream and stay offline, as a laptop lid or a network blip does."""
        assert self._client is not None
        await self._client.pause()
        self.offline = True

    async def reconnect(self) -> None:
        """Back online: the client resumes by Last-Event-ID, or reloads when told to resync."""
        assert self._client is not None
        self._client.resume()
        self.offline = False

    async def _recovered(self) -> None:
        # After a reconnect or a server restart the client needs its stream back and any reload
        # it started finished before quiet means caught up; bounded, so a dead one still reads.
        client = self._client
        assert client is not None
        if self.offline:
            return
        with contextlib.suppress(TimeoutError):
            await client.wait_synced(self._deadline)

    async def settle(self) -> None:
        assert self._client is not None
        await self._recovered()
        client = self._client
        seen = client.events_applied
        seen_at = time.monotonic()

        def last_activity() -> float:
            # Quiet means: no event applied for a while, not merely no readout changed.
            nonlocal seen, seen_at
            if client.events_applied != seen:
                seen, seen_at = client.events_applied, time.monotonic()
            return max(seen_at, self._last_activity)

        await wait_quiet(last_activity, self._quiet, self._deadline)

    async def read_live(self) -> dict[str, LiveValue]:
        assert self._client is not None
        if self._session is None or not self._client.store.has_session(self._session):
            return {name: LiveValue(None) for name in self.readouts}
        shown = _with_optional(self._client.store, self._session, self.readouts)
        return {
            name: LiveValue(shown.get(name), self._changed_at.get(name)) for name in self.readouts
        }

    async def read_reload(self) -> dict[str, str | None]:
        if self._session is None:
            return dict.fromkeys(self.readouts)
        # A reloaded client is a new store filled from REST; only the HTTP connection is reused,
        # because building an HTTP client costs more than the whole bootstrap on loopback.
        assert self._target is not None
        assert self._api is not None
        fresh = ClientStore(
            client_fix=self._target.client_fix, context_limits=self._target.context_limits
        )
        fresh.load_sessions(await self._api.list_sessions())
        messages = await self._api.get_messages(self._session, limit=fresh.window)
        fresh.load_messages(self._session, messages)
        shown = _with_optional(fresh, self._session, self.readouts)
        return {name: shown.get(name) for name in self.readouts}

    async def reload(self) -> None:
        if self._client is not None:
            await self._client.close()
        await self._start_live()
        self.offline = False

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
        if self._api is not None:
            await self._api.aclose()


def _with_optional(store: ClientStore, session_id: str, names: tuple[str, ...]) -> dict[str, str]:
    shown = store.readouts(session_id)
    if "sidebar.family.cost" in names:
        shown["sidebar.family.cost"] = format_cost(store.family_cost(session_id))
    if "sessions.count" in names:
        shown["sessions.count"] = format_tokens(len(store.session_ids()))
    return shown
