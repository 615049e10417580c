"""Item 5: a locked-down server.

- it binds 127.0.0.1 unless told otherwise: the config default, the embedded server and the
  real process (checked in the kernel's table of listening sockets, not only in the URL);
- with a password, every route answers 401 without it: every operation of the OpenAPI
  document, the event stream, the document itself, the web page and its assets, unknown
  routes, and a websocket handshake;
- the web page is sent with a restrictive Content-Security-Policy and has no inline script.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reference_app.server.auth import BasicPasswordMiddleware
from reference_app.server.config import AgentConfig, ModelConfig, ProviderConfig
from reference_app.server.run import EmbeddedServer
from tests.hardening.agent_process import AgentProcess, write_config

PASSWORD = "correct horse"


def config(tmp_path: Path, **overrides: Any) -> AgentConfig:
    return AgentConfig(
        models=[ModelConfig(id="scripted-1")],
        provider=ProviderConfig(kind="openai", base_url="http://127.0.0.1:9/v1"),
        data_dir=tmp_path / "data", **overrides,
    )


@pytest.fixture
def locked(tmp_path: Path) -> Iterator[str]:
    with EmbeddedServer(config(tmp_path, password=PASSWORD)) as server:
        yield server.base_url


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a socket in LISTEN on `port`, from /proc/net/tcp and tcp6."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if int(port_hex, 16) == port and fields[3] == "0A":  # 0A: TCP_LISTEN
                found.add(address)
    return found


LOOPBACK_V4 = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it (little-endian hex)


def test_the_default_config_binds_loopback(tmp_path: Path) -> None:
    default = config(tmp_path)
    assert default.host == "127.0.0.1"
    with EmbeddedServer(default) as server:
        port = int(server.base_url.rsplit(":", 1)[1])
        assert server.base_url == f"http://127.0.0.1:{port}"
        assert listening_addresses(port) == {LOOPBACK_V4}


@pytest.mark.slow
def test_the_server_process_binds_loopback_without_host(tmp_path: Path) -> None:
    agent = AgentProcess(write_config(tmp_path, "http://127.0.0.1:9/v1"))
    try:
        port = int(agent.url.rsplit(":", 1)[1])
        assert agent.url.startswith("http://127.0.0.1:")
        assert listening_addresses(port) == {LOOPBACK_V4}
    finally:
        assert agent.stop() == 0


def concrete_paths(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(method, path) for every operation, path parameters filled with made-up ids."""
    operations: list[tuple[str, str]] = []
    for path, methods in document["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "ses_made_up", path)
        operations.extend((method.upper(), concrete) for method in methods)
    return operations


def test_every_route_needs_the_password(locked: str) -> None:
    with httpx.Client(base_url=locked, timeout=10) as http:
        document = http.get("/doc", auth=("any-user", PASSWORD)).json()
        routes = [*concrete_paths(document), ("GET", "/doc"), ("GET", "/"),
                  ("GET", "/web/app.js"), ("GET", "/web/style.css"), ("GET", "/no/such/route"),
                  ("GET", "/event")]
        assert ("GET", "/event") in concrete_paths(document)
        bad_credentials: list[dict[str, str]] = [
            {},
            {"Authorization": "Basic " + base64.b64encode(b"user:wrong").decode()},
            {"Authorization": "Basic " + base64.b64encode(b"correct horse").decode()},  # no ':'
            {"Authorization": "Basic !!!not-base64!!!"},
            {"Authorization": f"Bearer {PASSWORD}"},
            {"Authorization": "Basic " + base64.b64encode(f"u:{PASSWORD} ".encode()).decode()},
        ]
        for method, path in routes:
            for headers in bad_credentials:
                # A short read timeout: a stream that opened instead of refusing would hang.
                response = http.request(method, path, headers=headers, json={},
                                        timeout=httpx.Timeout(5, read=5))
                assert response.status_code == 401, (method, path, headers)
                assert response.headers["www-authenticate"].startswith("Basic")
                assert "UnauthorizedError" in response.text
        # The right password opens them: a normal answer, and the event stream streams.
        assert http.get("/session", auth=("anyone", PASSWORD)).status_code == 200
        with http.stream("GET", "/event", auth=("anyone", PASSWORD)) as stream:
            assert stream.status_code == 200
            first = next(stream.iter_lines())
            assert first.startswith(("id:", "data:"))


async def test_a_websocket_handshake_is_refused_without_the_password() -> None:
    reached: list[str] = []

    async def inner(scope: Any, _receive: Any, _send: Any) -> None:
        reached.append(scope["type"])

    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {"type": "websocket.connect"}

    middleware = BasicPasswordMiddleware(inner, password=PASSWORD)
    await middleware({"type": "websocket", "headers": []}, receive, send)
    assert reached == []
    assert sent[0]["type"] == "websocket.close"
    token = base64.b64encode(f"u:{PASSWORD}".encode())
    await middleware({"type": "websocket", "headers": [(b"authorization", b"Basic " + token)]},
                     receive, send)
    await middleware({"type": "lifespan"}, receive, send)
    assert reached == ["websocket", "lifespan"]


def test_the_web_page_sends_a_restrictive_content_security_policy(tmp_path: Path) -> None:
    with EmbeddedServer(config(tmp_path)) as server, httpx.Client(
            base_url=server.base_url, timeout=10) as http:
        page = http.get("/")
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]
        policy = {directive.split()[0]: directive.split()[1:]
                  for directive in page.headers["content-security-policy"].split(";")
                  if directive.strip()}
        assert policy["default-src"] == ["'self'"]
        assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
        assert policy["object-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert policy["base-uri"] == ["'none'"]
        assert page.headers["x-content-type-options"] == "nosniff"
        # The policy forbids inline script, so the page must not need any.
        scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", page.text, re.S | re.I)
        assert all(not body.strip() for body in scripts)
        assert not re.search(r"\son[a-z]+\s*=", page.text, re.I), "inline event handler"
        for asset in ("/web/app.js", "/web/style.css"):
            response = http.get(asset)
            assert response.headers["content-security-policy"] == (
                page.headers["content-security-policy"])
        # Only the allow-listed files: not the package's Python, not a path outside it.
        assert http.get("/web/__init__.py").status_code == 404
        assert http.get("/web/..%2Fserver%2Fconfig.py").status_code == 404
