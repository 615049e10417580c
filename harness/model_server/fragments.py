"""Cutting text and JSON into the small pieces a real model streams.

Clients must join deltas, not trust chunk boundaries; streaming several pieces per field makes
a client that keeps only the last delta fail visibly.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"\s*\S+\s*|\s+")
JSON_PIECE = 16


def split_text(text: str) -> list[str]:
    """Split into word-sized pieces whose concatenation is exactly `text`."""
    return _WORD.findall(text)


def split_json(encoded: str, size: int = JSON_PIECE) -> list[str]:
    """Split an encoded JSON string into fixed-size pieces, cutting mid-token on purpose."""
    return [encoded[start : start + size] for start in range(0, len(encoded), size)]
