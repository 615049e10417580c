"""Runs the scripted model's HTTP server in a daemon thread with its own event loop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from types import TracebackType

import uvicorn

from harness.model_server.app import create_app
from harness.model_server.scripted_model import ScriptedModel

STARTUP_POLL = 0.005


class ModelServer:
    """Serves `model` on a loopback port of its own.

    The socket is bound before uvicorn starts, so `port=0` yields a free ephemeral port with no
    race between choosing it and binding it. `start()` returns once the server accepts.

    `openai_base_url` and `anthropic_base_url` both end in `/v1`, the form OpenAI clients and
    the AI SDK's Anthropic provider expect; the Python `anthropic` SDK appends `/v1` itself and
    takes `base_url` instead.
    """

    def __init__(self, model: ScriptedModel, host: str = "127.0.0.1", port: int = 0) -> None:
        self.model = model
        self.host = host
        self.port = port
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing: asyncio.Event | None = None
        self._crash: BaseException | None = None
        self._base_url: str | None = None

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("ModelServer is not running; call start() first")
        return self._base_url

    @property
    def openai_base_url(self) -> str:
        return f"{self.base_url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        return f"{self.base_url}/v1"

    def start(self, timeout: float = 10.0) -> str:
        """Start serving and return the base URL, e.g. "http://127.0.0.1:54321"."""
        if self._thread is not None:
            raise RuntimeError("ModelServer.start() called twice; stop() it first")
        # proto must be IPPROTO_TCP, not the default 0: asyncio only disables Nagle on sockets
        # that say they are TCP, and with Nagle on, every small chunk after the first waits
        # for the client's delayed ACK (about 40 ms on Linux loopback).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(128)
        self._socket = sock
        self._closing = asyncio.Event()
        config = uvicorn.Config(
            create_app(self.model, self._closing),
            # None leaves the process's logging alone; uvicorn's default config replaces it.
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._crash = None
        port = sock.getsockname()[1]
        self._thread = threading.Thread(target=self._run, name=f"model-server-{port}", daemon=True)
        self._thread.start()
        self._wait_started(timeout)
        self._base_url = f"http://{self.host}:{port}"
        return self._base_url

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # reported by start() or stop() in the caller's thread
            self._crash = error

    async def _serve(self) -> None:
        assert self._server is not None
        assert self._socket is not None
        self._loop = asyncio.get_running_loop()
        await self._server.serve(sockets=[self._socket])

    def _wait_started(self, timeout: float) -> None:
        assert self._server is not None
        assert self._thread is not None
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                crash = self._crash
                self.stop()
                raise RuntimeError(
                    f"the scripted model server did not start within {timeout}s on "
                    f"{self.host}:{self.port}: {crash!r}"
                ) from crash
            time.sleep(STARTUP_POLL)

    def stop(self, timeout: float = 10.0) -> None:
        """Shut down: held and stalled requests are ended, then the thread is joined."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        if self._loop is not None and self._closing is not None:
            # RuntimeError: the loop already ended, so nothing is held.
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._closing.set)
        server.should_exit = True
        thread.join(timeout)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._loop = self._socket = None
        self._base_url = None
        if thread.is_alive():
            raise RuntimeError(f"the scripted model server thread did not end within {timeout}s")

    def __enter__(self) -> ModelServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
