"""Kilo CLI (npm ``@kilocode/cli``), an opencode fork, as a target.

Pinned to a version whose linux-x64 binary package is published: several listed versions of the
wrapper point at platform packages that were never uploaded (7.8.1's linux-x64 is missing).
"""

from __future__ import annotations

from pathlib import Path

from harness.targets.opencode_family import Flavor, OpencodeFamilyTarget

__all__ = ["KILO", "KILO_VERSION", "KiloTarget"]

KILO_VERSION = "7.7.7"

KILO = Flavor(
    name="kilo",
    package="@kilocode/cli",
    version=KILO_VERSION,
    binary="kilo",
    platform_stems=("@kilocode/cli",),
    env_prefix="KILO",
    config_name="kilo.json",
    app_dir="kilo",
    # Kilo's own extras beyond opencode's: PostHog telemetry (anything but "all" turns it off),
    # session ingest to its cloud, presence, codebase indexing.
    extra_env={
        "KILO_TELEMETRY_LEVEL": "off",
        "KILO_DISABLE_SESSION_INGEST": "1",
        "KILO_DISABLE_PRESENCE": "1",
        "KILO_DISABLE_CODEBASE_INDEXING": "1",
    },
)


class KiloTarget(OpencodeFamilyTarget):
    def __init__(self, cache: Path | None = None) -> None:
        super().__init__(KILO, cache)
