"""A real ``opencode serve`` starts isolated, answers, and leaves no process behind."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from harness.targets.base import ModelPlan, TargetPlan
from harness.targets.opencode import OpencodeTarget
from harness.targets.opencode_family import PROVIDER_ID

pytestmark = [pytest.mark.real, pytest.mark.timeout(900)]


def processes_with_home(home: str) -> list[int]:
    """Processes whose environment holds this HOME: the agent and anything it spawned."""
    wanted = f"HOME={home}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if wanted in environ:
            found.append(int(entry.name))
    return found


async def test_opencode_serves_the_configured_provider_and_stops_cleanly(tmp_path: Path) -> None:
    model = ModelPlan("paid", 100_000, 3.0, 15.0, 0.3, 3.75)
    plan = TargetPlan((model,), "http://127.0.0.1:9/v1", False, False, tmp_path)
    running = await OpencodeTarget().start(plan)
    home = running.info.extra["home"]
    try:
        async with httpx.AsyncClient(base_url=running.info.base_url) as client:
            assert (await client.get("/session")).json() == []
            providers = (await client.get("/config/providers")).json()
        [provider] = providers["providers"]
        assert provider["id"] == PROVIDER_ID
        assert provider["models"]["paid"]["cost"]["input"] == 3.0
        assert running.process.pid in processes_with_home(home)
    finally:
        await running.stop()
    assert running.process.poll() is not None
    with pytest.raises(ProcessLookupError):
        os.killpg(running.process.pid, 0)
    assert processes_with_home(home) == []
    # Everything the agent wrote is under the run's workdir.
    assert (tmp_path / "opencode" / "xdg-data" / "opencode").is_dir()
    assert (tmp_path / "target.log").read_text().count("listening on") == 1
