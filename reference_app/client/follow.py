"""`Client`: bootstraps the store from REST and keeps it live from `/event`.

Ordering is what keeps the replica honest. The stream is subscribed before the REST snapshot is
taken, so no event can fall between the two; the snapshot is loaded with the store's event mark
from before the request, so events applied while it was in flight are not overwritten by it.
On a reconnect the client sends `Last-Event-ID` and the server replays the gap; when the server
cannot (`server.resync`), or on the first connect after `start()`, the client reloads from REST,
which replaces its state.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

import httpx
from httpx_sse import ServerSentEvent, SSEError, aconnect_sse

from ..tls import shared_ssl_context
from .api import AgentApi, ApiError, AuthLike
from .store import ClientStore, UnknownSessionError

__all__ = ["Client", "StreamFailed"]

RESYNC = "server.resync"
CONNECTED = "server.connected"


class StreamFailed(ConnectionError):
    """Following `/event` failed in a way retrying cannot fix (e.g. a wrong password)."""


class Client:
    def __init__(
        self,
        base_url: str,
        client_fix: bool = False,
        window: int = 100,
        context_limits: Mapping[str, int] | None = None,
        auth: AuthLike = None,
        *,
        reconnect_delay: float = 0.05,
        max_reconnect_delay: float = 2.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.store = ClientStore(
            client_fix=client_fix, window=window, context_limits=context_limits
        )
        self.api = AgentApi(self.base_url, auth=auth)
        self.session_id: str | None = None
        self.connected = False
        self.last_event_id: int | None = None
        self.events_applied = 0
        self.resyncs = 0
        self.connects = 0
        self.last_error: BaseException | None = None
        self._reconnect_delay = reconnect_delay
        self._max_reconnect_delay = max_reconnect_delay
        self._auth = auth
        # Made by start(): a client that only bootstraps (a reload) never pays for it.
        self._stream_http: httpx.AsyncClient | None = None
        self._follow_task: asyncio.Task[None] | None = None
        self._stream_task: asyncio.Task[None] | None = None
        self._resync_task: asyncio.Task[None] | None = None
        self._resync_again = False
        self._sync_lock = asyncio.Lock()
        self._online = asyncio.Event()
        self._online.set()
        self._synced: asyncio.Event | None = None
        self._fatal: BaseException | None = None
        self._change: asyncio.Future[None] | None = None
        self._closed = False

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    # ---- snapshots ----------------------------------------------------------------------

    async def bootstrap(self, session_id: str | None = None) -> None:
        """Load the session list and, for the open session, its last `window` messages.

        Passing a session id opens it. Safe while following: the snapshot keeps whatever
        events land during the requests.
        """
        if session_id is not None:
            self.session_id = session_id
        await self._load_snapshot()

    async def _load_snapshot(self) -> None:
        async with self._sync_lock:
            mark = self.store.event_mark()
            sessions = await self.api.list_sessions()
            self.store.load_sessions(sessions, keep_events_after=mark)
            if self.session_id is not None:
                messages = await self.api.get_messages(self.session_id, limit=self.store.window)
                self.store.load_messages(self.session_id, messages, keep_events_after=mark)
        self._notify()

    # ---- following ----------------------------------------------------------------------

    async def start(self, timeout: float = 10.0) -> None:
        """Follow `/event` in the background; returns once connected and resynced."""
        if self._follow_task is not None:
            return
        self._synced = asyncio.Event()
        # No read timeout: a quiet stream is normal between turns.
        self._stream_http = httpx.AsyncClient(
            base_url=self.base_url, auth=self._auth, timeout=httpx.Timeout(10.0, read=None),
            verify=shared_ssl_context(),
        )
        self._follow_task = asyncio.create_task(self._follow(), name=f"follow {self.base_url}")
        try:
            await asyncio.wait_for(self._synced.wait(), timeout)
        except TimeoutError:
            await self._stop_tasks()
            raise TimeoutError(
                f"could not follow {self.base_url}/event within {timeout}s "
                f"(last error: {self.last_error!r})"
            ) from self.last_error
        if self._fatal is not None:
            await self._stop_tasks()
            raise StreamFailed(f"following {self.base_url}/event failed: {self._fatal}") from (
                self._fatal
            )

    async def _follow(self) -> None:
        delay = self._reconnect_delay
        while not self._closed:
            await self._online.wait()
            # Its own task so that `disconnect()` can drop one connection without ending this
            # loop.
            self._stream_task = asyncio.create_task(self._read_stream())
            try:
                await self._stream_task
                delay = self._reconnect_delay
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if self._closed or (current is not None and current.cancelling()):
                    raise
                delay = self._reconnect_delay  # a deliberate drop, not a failing server
            except ApiError as error:
                if error.status in (401, 403, 404):
                    self._fail(error)
                    return
                self.last_error = error
            except (httpx.HTTPError, httpx.StreamError, SSEError, OSError) as error:
                self.last_error = error
            finally:
                if self.connected:
                    self.connected = False
                    self._notify()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_reconnect_delay)

    async def _read_stream(self) -> None:
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        resuming = self.last_event_id is not None and self.connects > 0
        if resuming:
            headers["Last-Event-ID"] = str(self.last_event_id)
        assert self._stream_http is not None, "start() makes the stream client"
        async with aconnect_sse(self._stream_http, "GET", "/event", headers=headers) as source:
            response = source.response
            if not response.is_success:
                await response.aread()
                raise ApiError(
                    "GET", str(response.url), response.status_code, response.text, response.text
                )
            async for message in source.aiter_sse():
                self._on_message(message, resuming)

    def _on_message(self, message: ServerSentEvent, resuming: bool) -> None:
        if message.id:
            with contextlib.suppress(ValueError):
                self.last_event_id = int(message.id)
        if not message.data:
            return  # a keep-alive
        try:
            event = json.loads(message.data)
        except ValueError as error:
            self.last_error = error
            return
        if not isinstance(event, dict):
            return
        kind = event.get("type")
        if kind == CONNECTED:
            self.connects += 1
            self.connected = True
            # Without a replayable position the gap since the last snapshot is unknown.
            if not resuming:
                self._schedule_resync()
        elif kind == RESYNC:
            self._schedule_resync()
        else:
            self.store.apply(event)
            self.events_applied += 1
        self._notify()

    async def wait_synced(self, timeout: float = 5.0) -> None:
        """Return once connected with no reload from REST in flight (after a reconnect or a
        server restart); raises TimeoutError otherwise."""
        await self.wait_until(lambda _store: self.connected, timeout)
        task = self._resync_task
        if task is not None and not task.done():
            await asyncio.wait({task}, timeout=timeout)

    async def disconnect(self) -> None:
        """Drop the current `/event` connection, as a network blip would; the client then
        reconnects with `Last-Event-ID` after its reconnect delay (or at `resume()` when
        paused)."""
        task = self._stream_task
        if task is None or task.done():
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def pause(self) -> None:
        """Go offline until `resume()`: whatever the server publishes meanwhile is a gap the
        client must refill on reconnect, by replay or by a reload."""
        self._online.clear()
        await self.disconnect()

    def resume(self) -> None:
        self._online.set()

    def _schedule_resync(self) -> None:
        # Runs beside the reader so events keep applying while REST is in flight; requests
        # that arrive meanwhile collapse into one more pass.
        if self._resync_task is not None and not self._resync_task.done():
            self._resync_again = True
            return
        self._resync_task = asyncio.create_task(self._resync(), name=f"resync {self.base_url}")

    async def _resync(self) -> None:
        while True:
            self._resync_again = False
            try:
                await self._load_snapshot()
            except (ApiError, httpx.HTTPError, OSError) as error:
                self.last_error = error
                if isinstance(error, ApiError) and error.status in (401, 403):
                    self._fail(error)
                    return
                await asyncio.sleep(self._reconnect_delay)
                self._resync_again = True
            else:
                self.resyncs += 1
                if self._synced is not None:
                    self._synced.set()
            if not self._resync_again or self._closed:
                return

    def _fail(self, error: BaseException) -> None:
        self._fatal = self.last_error = error
        if self._synced is not None:
            self._synced.set()

    # ---- waiting ------------------------------------------------------------------------

    def _notify(self) -> None:
        if self._change is not None and not self._change.done():
            self._change.set_result(None)
        self._change = None

    async def wait_until(
        self, predicate: Callable[[ClientStore], bool], timeout: float = 5.0
    ) -> None:
        """Return once `predicate(store)` holds; it is re-checked after every change.

        A predicate that reads a session the store does not hold yet counts as false.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                if predicate(self.store):
                    return
            except UnknownSessionError:
                pass
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"condition not met within {timeout}s; events applied: "
                    f"{self.events_applied}, connected: {self.connected}, "
                    f"last error: {self.last_error!r}"
                )
            if self._change is None:
                self._change = loop.create_future()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._change), remaining)

    # ---- shutdown -----------------------------------------------------------------------

    async def _stop_tasks(self) -> None:
        tasks = [task for task in (self._follow_task, self._resync_task) if task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._follow_task = self._resync_task = None
        self.connected = False

    async def close(self) -> None:
        self._closed = True
        await self._stop_tasks()
        if self._stream_http is not None:
            await self._stream_http.aclose()
        await self.api.aclose()
        self._notify()

    def __repr__(self) -> str:
        return (
            f"Client({self.base_url!r}, session={self.session_id!r}, "
            f"connected={self.connected}, last_event_id={self.last_event_id}, "
            f"events_applied={self.events_applied})"
        )

    @property
    def status(self) -> dict[str, Any]:
        """A snapshot for logs and failure messages."""
        return {
            "base_url": self.base_url,
            "session": self.session_id,
            "connected": self.connected,
            "last_event_id": self.last_event_id,
            "events_applied": self.events_applied,
            "resyncs": self.resyncs,
            "last_error": repr(self.last_error) if self.last_error else None,
        }
