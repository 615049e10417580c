"""Installing the real agents from npm into the project-local cache (``FRESHNESS_NPM_CACHE``
or ``.freshness/npm``): slow the first time, instant after."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.errors import TargetError
from harness.targets.kilo import KiloTarget
from harness.targets.npm_cache import ensure_installed
from harness.targets.opencode import OPENCODE_VERSION, OpencodeTarget

pytestmark = [pytest.mark.real, pytest.mark.timeout(900)]


@pytest.mark.parametrize("make", [OpencodeTarget, KiloTarget], ids=["opencode", "kilo"])
def test_install_finds_the_platform_binary_and_is_cached(make: type[OpencodeTarget]) -> None:
    target = make()
    first = target.install()
    assert first.binary.is_file()
    assert os.access(first.binary, os.X_OK)
    assert "node_modules" in first.binary.parts
    again = target.install()
    assert again.binary == first.binary
    assert again.install_seconds == 0.0


def test_a_version_that_does_not_exist_names_the_install_step(tmp_path: Path) -> None:
    with pytest.raises(TargetError) as caught:
        ensure_installed(
            "opencode-ai",
            "0.0.0-freshness-missing",
            binary="opencode",
            platform_stems=("opencode",),
            cache=tmp_path,
        )
    message = str(caught.value)
    assert message.startswith("install opencode-ai@0.0.0-freshness-missing: npm install exited")
    assert "npm error" in message


def test_the_pinned_opencode_version_is_the_one_installed() -> None:
    installed = OpencodeTarget().install()
    assert installed.prefix.name == f"opencode-ai@{OPENCODE_VERSION}"
