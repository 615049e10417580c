"""Readout values and their formatting, exactly as a user reads them on screen.

Pure: no I/O, no clock. The store derives a `ReadoutValues` per session and renders it here, so
every surface (store, terminal, web) and the harness's expected arithmetic share one formatter.

Formatting decisions:
- tokens: an integer with thousands separators, "13,000".
- percent: tokens / context limit as an integer percent, rounded half up ("12.5%" shows "13%").
  When the limit is unknown (no model, model absent from the configured limits, or a limit of 0)
  the percent is "—" (an em dash): a number there would claim a ratio nobody can compute.
- cost: dollars with two decimals and thousands separators, rounded half up on the decimal
  representation of the value ("$1,234.57"). `None` is an unpriced model's spend and reads
  "unknown", never "$0.00": a zero would claim the turn was free.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal

__all__ = [
    "COST_PRECISION",
    "FOOTER_COST",
    "FOOTER_TOKENS",
    "READOUT_NAMES",
    "SESSIONS_COST",
    "SIDEBAR_COST",
    "SIDEBAR_PERCENT",
    "SIDEBAR_TOKENS",
    "UNKNOWN_COST",
    "UNKNOWN_PERCENT",
    "ReadoutValues",
    "format_cost",
    "format_percent",
    "format_tokens",
    "render_readouts",
]

SIDEBAR_TOKENS = "sidebar.tokens"
SIDEBAR_PERCENT = "sidebar.percent"
SIDEBAR_COST = "sidebar.cost"
SESSIONS_COST = "sessions.cost"
FOOTER_TOKENS = "footer.tokens"
FOOTER_COST = "footer.cost"

# The order a UI lists them in; `on_change` reports changed names in this order too.
READOUT_NAMES: tuple[str, ...] = (
    SIDEBAR_TOKENS,
    SIDEBAR_PERCENT,
    SIDEBAR_COST,
    SESSIONS_COST,
    FOOTER_TOKENS,
    FOOTER_COST,
)

UNKNOWN_COST = "unknown"
UNKNOWN_PERCENT = "—"

_CENT = Decimal("0.01")
_WIDE = Context(prec=400)
COST_PRECISION = Decimal("1e-9")
"""Costs are rounded to the nano-dollar before the cent: no price resolves finer, and a total
summed in binary floats (the server's SQL `cost + ?`) carries noise below it that would
otherwise move a cent at a half (0.004999999999999999 for 0.005 shows $0.00)."""


def format_tokens(tokens: int) -> str:
    return f"{tokens:,}"


def format_percent(tokens: int, context_limit: int | None) -> str:
    if not context_limit or context_limit < 0:
        return UNKNOWN_PERCENT
    # Integer arithmetic so that exact halves round up, with no float in the way.
    numerator = tokens * 100
    whole, remainder = divmod(numerator, context_limit)
    if remainder * 2 >= context_limit:
        whole += 1
    return f"{whole}%"


def format_cost(cost: float | Decimal | None) -> str:
    if cost is None:
        return UNKNOWN_COST
    # str() of a float is its shortest round-tripping decimal, so 0.125 rounds to 0.13 as a
    # person doing the arithmetic on paper expects, not to 0.12 as binary half-even would.
    amount = cost if isinstance(cost, Decimal) else Decimal(str(cost))
    amount = amount.quantize(COST_PRECISION, rounding=ROUND_HALF_UP, context=_WIDE)
    cents = amount.quantize(_CENT, rounding=ROUND_HALF_UP, context=_WIDE)
    if cents < 0:
        return f"-${-cents:,.2f}"
    return f"${cents:,.2f}"


@dataclass(frozen=True, slots=True)
class ReadoutValues:
    """The raw values behind one session's readouts, before formatting.

    `tokens` is the last assistant message's total; `context_limit` is its model's window (None
    when unknown). `sidebar_cost` is what the sidebar shows (the cached session cost, or with
    the client fix the larger of that and the loaded messages' sum); `session_cost` is the cached
    session total that the session list and the footer read. `incomplete` says the sidebar's
    message sum came from a window that may not hold every message of the session (the window is
    full or has evicted messages), so with the client fix it is only a lower bound. It is not
    rendered: the user sees the same string either way, which is the point of the bug.
    """

    tokens: int
    context_limit: int | None
    sidebar_cost: float | None
    session_cost: float | None
    incomplete: bool = False


def render_readouts(values: ReadoutValues) -> dict[str, str]:
    tokens = format_tokens(values.tokens)
    session_cost = format_cost(values.session_cost)
    return {
        SIDEBAR_TOKENS: tokens,
        SIDEBAR_PERCENT: format_percent(values.tokens, values.context_limit),
        SIDEBAR_COST: format_cost(values.sidebar_cost),
        SESSIONS_COST: session_cost,
        # Status lines read the same fields the sidebar's healthy token line and the session
        # list read; the client fix does not reach them, only the server fix does.
        FOOTER_TOKENS: tokens,
        FOOTER_COST: session_cost,
    }
