"""`python -m reference_app.server` as a real process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

CONFIG = """
data_dir = "data"
[provider]
kind = "openai"
base_url = "http://127.0.0.1:9"
[[models]]
id = "scripted-1"
"""


def test_the_module_prints_its_url_and_serves(tmp_path: Path) -> None:
    config = tmp_path / "agent.toml"
    config.write_text(CONFIG)
    process = subprocess.Popen(
        [sys.executable, "-m", "reference_app.server", "--config", str(config), "--server-fix",
         "--data-dir", str(tmp_path / "elsewhere")],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert httpx.post(f"{url}/session", timeout=10).status_code == 200
        assert (tmp_path / "elsewhere" / "agent.sqlite3").exists()
    finally:
        process.terminate()
        assert process.wait(timeout=15) == 0
