"""`EmbeddedServer`: the app served by uvicorn in a daemon thread with its own event loop.

The listening socket is bound before the thread starts, so `start()` knows the port at once
(port 0 gives an ephemeral one) and nothing can steal it in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from types import TracebackType

import uvicorn

from .app import create_app
from .bus import Bus
from .config import AgentConfig

__all__ = ["EmbeddedServer"]

STARTUP_TIMEOUT = 15.0


class EmbeddedServer:
    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self.app = create_app(config)
        self.base_url = ""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._failure: BaseException | None = None

    def start(self) -> str:
        """Starts serving; returns the base URL, e.g. "http://127.0.0.1:54321"."""
        if self._thread is not None:
            return self.base_url
        # IPPROTO_TCP, not 0: asyncio disables Nagle only on sockets that say they are TCP; with
        # Nagle on, a response written in two parts waits ~40 ms for the delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.config.host, self.config.port))
        host, port = sock.getsockname()[:2]
        server = uvicorn.Server(uvicorn.Config(
            self.app, log_level="warning", lifespan="on", access_log=False,
            # A backstop: stop() ends the event streams itself, but a stuck connection
            # must not hold shutdown forever.
            timeout_graceful_shutdown=3,
        ))
        self._server = server
        ready = threading.Event()

        def serve() -> None:
            # The Runner cancels what is left on the loop (sse-starlette's watcher) on close.
            try:
                with asyncio.Runner() as runner:
                    self._loop = runner.get_loop()
                    ready.set()
                    runner.run(server.serve(sockets=[sock]))
            except BaseException as error:
                self._failure = error
            finally:
                ready.set()
                sock.close()

        self._thread = threading.Thread(target=serve, name=f"agent-server:{port}", daemon=True)
        self._thread.start()
        ready.wait(STARTUP_TIMEOUT)
        deadline = threading.Event()
        for _ in range(int(STARTUP_TIMEOUT / 0.01)):
            if server.started or not self._thread.is_alive():
                break
            deadline.wait(0.01)
        if not server.started:
            self.stop()
            raise RuntimeError(
                f"the agent server did not start on {host}:{port}: {self._failure!r}"
            )
        self.base_url = f"http://{host}:{port}"
        return self.base_url

    def stop(self) -> None:
        """Ends open event streams, then shuts uvicorn down and joins its thread."""
        server, thread, loop = self._server, self._thread, self._loop
        if server is None or thread is None:
            return
        bus: Bus = self.app.state.bus
        if loop is not None and not loop.is_closed():
            # SSE responses never end on their own; uvicorn waits for them before its
            # lifespan shutdown, so they are closed first.
            with contextlib.suppress(RuntimeError):  # the loop closed in between
                loop.call_soon_threadsafe(bus.close)
        server.should_exit = True
        thread.join(timeout=10)
        self._server = self._thread = self._loop = None

    def __enter__(self) -> EmbeddedServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
