"""opencode (npm ``opencode-ai``) as a target, pinned so that runs are comparable over time."""

from __future__ import annotations

from pathlib import Path

from harness.targets.opencode_family import Flavor, OpencodeFamilyTarget

__all__ = ["OPENCODE", "OPENCODE_VERSION", "OpencodeTarget"]

OPENCODE_VERSION = "1.18.33"

OPENCODE = Flavor(
    name="opencode",
    package="opencode-ai",
    version=OPENCODE_VERSION,
    binary="opencode",
    platform_stems=("opencode",),
    env_prefix="OPENCODE",
    config_name="opencode.json",
    app_dir="opencode",
)


class OpencodeTarget(OpencodeFamilyTarget):
    def __init__(self, cache: Path | None = None) -> None:
        super().__init__(OPENCODE, cache)
