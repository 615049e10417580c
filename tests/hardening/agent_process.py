"""The reference agent as a real OS process (`python -m reference_app.server`), for the tests
that kill it, restart it, or check how it binds."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
MODEL_ID = "scripted-1"
CONTEXT = 100_000
# $ per 1M tokens.
PRICE = {"input": 2.0, "output": 8.0, "cache_read": 0.0, "cache_write": 0.0}


def write_config(folder: Path, model_base_url: str, *, provider_timeout: float = 10.0,
                 server_fix: bool = True, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "agent.toml"
    config.write_text(
        f'data_dir = "data"\nserver_fix = {str(server_fix).lower()}\n{extra}\n'
        f'[provider]\nkind = "openai"\nbase_url = "{model_base_url}"\n'
        f"timeout = {provider_timeout}\n"
        f'[[models]]\nid = "{MODEL_ID}"\ncontext_limit = {CONTEXT}\n'
        f"[models.price]\ninput = {PRICE['input']}\noutput = {PRICE['output']}\n"
    )
    return config


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class AgentProcess:
    """One life of the agent server process. `url` is what it printed on start."""

    def __init__(self, config: Path, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "reference_app.server", "--config", str(config), *args],
            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "FRESHNESS_SERVER_PASSWORD": ""},
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http://"):
            self.process.kill()
            _out, err = self.process.communicate(timeout=30)
            raise RuntimeError(f"the agent did not start: {err}")

    def kill9(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed or closed by the server itself."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)
        with contextlib.suppress(Exception):
            self.process.communicate(timeout=5)
        return int(self.process.returncode)
