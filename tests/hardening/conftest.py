"""Hardening tests (issue 7): concurrent processes, crashes, hostile input, stuck peers.

The slow ones are marked so they can be picked out (`-m slow`) or left out locally
(`-m "not slow"`); CI runs them all.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: a hardening test that takes seconds (real processes, fuzzing); CI runs it"
    )
