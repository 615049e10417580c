"""Shared value types of the reference agent server.

`Usage` is the one token count every layer speaks: providers produce it, pricing prices it,
usage.py writes it and shapes.py renders it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["JSON", "Usage"]

JSON = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens billed for one model step. Reasoning is counted apart from output."""

    input: int = 0
    output: int = 0
    reasoning: int = 0
    cache_read: int = 0
    cache_write: int = 0

    @property
    def total(self) -> int:
        return self.input + self.output + self.reasoning + self.cache_read + self.cache_write

    def to_json(self, *, with_total: bool = True) -> JSON:
        """The opencode `tokens` object."""
        tokens: JSON = {
            "input": self.input,
            "output": self.output,
            "reasoning": self.reasoning,
            "cache": {"read": self.cache_read, "write": self.cache_write},
        }
        if with_total:
            tokens = {"total": self.total, **tokens}
        return tokens
