"""What one model step costs. Pure arithmetic, no I/O."""

from __future__ import annotations

from .config import Price
from .types import Usage

__all__ = ["step_cost"]

_PER = 1_000_000


def step_cost(usage: Usage, price: Price | None) -> float | None:
    """Dollars billed for `usage` at `price` ($ per 1M tokens). Reasoning is billed as
    output. An unpriced model's cost is unknown: None, never 0."""
    if price is None:
        return None
    return (
        usage.input * price.input
        + (usage.output + usage.reasoning) * price.output
        + usage.cache_read * price.cache_read
        + usage.cache_write * price.cache_write
    ) / _PER
