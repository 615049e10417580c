"""How readouts are written, exactly as a user reads them on screen.

The harness formats its expected values itself rather than borrowing the reference client's code:
an oracle that shares the implementation under test cannot see that implementation's mistakes.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Context, Decimal

__all__ = [
    "NO_VALUE",
    "UNKNOWN",
    "format_cost",
    "format_percent",
    "format_tokens",
    "parse_cost",
    "parse_tokens",
]

UNKNOWN = "unknown"
NO_VALUE = "—"
"""Shown where a readout has nothing to go on yet (a percent before any model is known)."""
_CENT = Decimal("0.01")
_NANO = Decimal("1e-9")
_WIDE = Context(prec=400)
"""Enough digits to hold any finite float to the cent."""
_COST = re.compile(r"^\$(?P<amount>[0-9][0-9,]*(?:\.[0-9]+)?)$")


def format_tokens(tokens: int) -> str:
    return f"{tokens:,}"


def format_percent(tokens: int, context_limit: int) -> str:
    # Round half up: 12.5% of the window reads "13%", the way the sidebars we imitate show it.
    return f"{(tokens * 100 + context_limit // 2) // context_limit}%"


def format_cost(cost: float | None) -> str:
    if cost is None:
        return UNKNOWN
    if not math.isfinite(cost):
        return f"${cost:,.2f}"
    # Half up on the amount's decimal digits (its shortest repr), as a person rounds $0.125 on
    # paper: formatting the binary value directly gives "$0.12" there, and "$0.01" for 0.015.
    # To the nano-dollar first: a total summed in binary floats is 0.004999999999999999 for
    # 0.005, and no price resolves below a nano-dollar, so nothing real is lost there.
    nanos = Decimal(repr(cost)).quantize(_NANO, rounding=ROUND_HALF_UP, context=_WIDE)
    cents = nanos.quantize(_CENT, rounding=ROUND_HALF_UP, context=_WIDE)
    return f"${cents:,.2f}"


def parse_cost(shown: str) -> float | None:
    """The dollar amount a cost readout shows, or None when it shows no amount ("unknown")."""
    match = _COST.match(shown.strip())
    if match is None:
        return None
    return float(match["amount"].replace(",", ""))


def parse_tokens(shown: str) -> int | None:
    digits = shown.strip().replace(",", "")
    return int(digits) if digits.isdigit() else None
