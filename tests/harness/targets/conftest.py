"""Tests for the real-agent targets. Those marked ``real`` install npm packages and start the
real agents: ``pytest -m real tests/harness/targets`` runs them, ``-m "not real"`` leaves them out.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "real: installs and starts a real agent (npm registry, tens of seconds); run with -m real",
    )
