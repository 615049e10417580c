"""Comma-separated choices from the command line (surfaces, modes, reports), read one way for
the CLI and the pytest plugin."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["parse_choices"]


def parse_choices(text: str, choices: Sequence[str], what: str) -> list[str]:
    """The items of `text` in order, each once; ValueError naming the unknown ones.

    Named twice is read once: a surface attached twice under one name overwrote its own
    readings, and a mode named twice ran twice. Named none is an error: no surface read is
    nothing checked, and every run would pass."""
    items = list(dict.fromkeys(item.strip() for item in text.split(",") if item.strip()))
    unknown = [item for item in items if item not in choices]
    if unknown or not items:
        raise ValueError(
            f"unknown {what} {', '.join(unknown) or '(none)'}; choose from {', '.join(choices)}"
        )
    return items
