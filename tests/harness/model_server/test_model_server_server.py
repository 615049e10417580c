"""Starting and stopping the server thread."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import httpx
import pytest

from harness.model_server import ModelServer, ScriptedModel


def test_start_binds_an_ephemeral_loopback_port_and_returns_its_url() -> None:
    with ModelServer(ScriptedModel()) as first, ModelServer(ScriptedModel()) as second:
        url = urlsplit(first.base_url)
        assert (url.scheme, url.hostname) == ("http", "127.0.0.1")
        assert url.port
        assert first.base_url != second.base_url
        assert first.openai_base_url == first.anthropic_base_url == f"{first.base_url}/v1"
        assert httpx.get(f"{first.openai_base_url}/models").status_code == 200


def test_accepted_connections_are_tcp_so_asyncio_turns_nagle_off() -> None:
    # Regression: a socket made with proto=0 made every chunk after the first wait ~40 ms
    # for a delayed ACK, because asyncio only sets TCP_NODELAY when proto is IPPROTO_TCP.
    with ModelServer(ScriptedModel()) as server:
        assert server._socket is not None
        assert server._socket.proto == socket.IPPROTO_TCP


def test_stop_ends_the_thread_closes_the_port_and_may_be_repeated() -> None:
    server = ModelServer(ScriptedModel())
    base_url = server.start()
    thread = server._thread
    server.stop()
    server.stop()
    assert thread is not None
    assert not thread.is_alive()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base_url}/v1/models")


def test_the_server_can_start_again_after_stopping() -> None:
    server = ModelServer(ScriptedModel())
    server.start()
    server.stop()
    with server:
        assert httpx.get(f"{server.base_url}/_control/state").status_code == 200


def test_urls_are_unavailable_until_started_and_start_twice_is_an_error() -> None:
    server = ModelServer(ScriptedModel())
    with pytest.raises(RuntimeError, match="call start"):
        _ = server.base_url
    with server, pytest.raises(RuntimeError, match="called twice"):
        server.start()


def test_a_port_in_use_fails_start_with_the_os_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = ModelServer(ScriptedModel(), port=taken.getsockname()[1])
        with pytest.raises(OSError, match="in use"):
            server.start()
