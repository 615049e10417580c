"""Targets by name, for ``--target``. Factories import lazily: a target's module may need tools
(npm, a browser) that other runs never touch."""

from __future__ import annotations

from collections.abc import Callable

from harness.errors import FreshnessError
from harness.targets.base import Target

__all__ = ["TARGETS", "make_target"]


def _reference() -> Target:
    from harness.targets.reference import ReferenceTarget

    return ReferenceTarget()


def _opencode() -> Target:
    from harness.targets.opencode import OpencodeTarget

    return OpencodeTarget()


def _kilo() -> Target:
    from harness.targets.kilo import KiloTarget

    return KiloTarget()


TARGETS: dict[str, Callable[[], Target]] = {
    "reference": _reference,
    "opencode": _opencode,
    "kilo": _kilo,
}


def make_target(name: str) -> Target:
    try:
        return TARGETS[name]()
    except KeyError:
        raise FreshnessError(
            f"unknown target {name!r}; known targets: {', '.join(sorted(TARGETS))}"
        ) from None
