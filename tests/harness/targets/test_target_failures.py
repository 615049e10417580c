"""A target that cannot start says which step failed and shows the log's last lines.

A fake "installed" package stands in for npm here, so these run without the registry.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from harness.errors import TargetError
from harness.targets.base import ModelPlan, TargetPlan
from harness.targets.npm_cache import platform_package_names
from harness.targets.opencode_family import Flavor, OpencodeFamilyTarget

FAKE = Flavor(
    name="fake",
    package="fake-agent",
    version="0.0.1",
    binary="fake",
    platform_stems=("fake-agent",),
    env_prefix="FAKE",
    config_name="fake.json",
    app_dir="fake",
)


def install_fake(cache: Path, script: str) -> None:
    prefix = cache / "fake-agent@0.0.1"
    binary = prefix / "node_modules" / platform_package_names("fake-agent")[0] / "bin" / "fake"
    binary.parent.mkdir(parents=True)
    binary.write_text(script)
    binary.chmod(binary.stat().st_mode | stat.S_IEXEC)
    (prefix / ".freshness-installed").write_text("fake-agent@0.0.1\n")


def plan(tmp_path: Path) -> TargetPlan:
    model = ModelPlan("paid", 1000, 1.0, 1.0, None, None)
    return TargetPlan((model,), "http://127.0.0.1:1/v1", False, False, tmp_path / "run")


async def test_an_agent_that_exits_at_start_names_the_start_step(tmp_path: Path) -> None:
    install_fake(
        tmp_path / "cache", "#!/bin/sh\necho 'config is broken: provider freshness'\nexit 3\n"
    )
    target = OpencodeFamilyTarget(FAKE, cache=tmp_path / "cache")
    with pytest.raises(TargetError) as caught:
        await target.start(plan(tmp_path))
    message = str(caught.value)
    assert message.startswith("start fake:")
    assert "exited with code 3" in message
    assert "config is broken: provider freshness" in message


async def test_a_cached_install_is_used_without_npm(tmp_path: Path) -> None:
    install_fake(tmp_path / "cache", "#!/bin/sh\nexit 0\n")
    installed = OpencodeFamilyTarget(FAKE, cache=tmp_path / "cache").install()
    assert installed.install_seconds == 0.0
    assert installed.binary.name == "fake"
