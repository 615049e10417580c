from decimal import Decimal

import pytest

from reference_app.client.readouts import (
    FOOTER_COST,
    FOOTER_TOKENS,
    READOUT_NAMES,
    SESSIONS_COST,
    SIDEBAR_COST,
    SIDEBAR_PERCENT,
    SIDEBAR_TOKENS,
    ReadoutValues,
    format_cost,
    format_percent,
    format_tokens,
    render_readouts,
)


@pytest.mark.parametrize(
    ("tokens", "shown"), [(0, "0"), (999, "999"), (13000, "13,000"), (1234567, "1,234,567")]
)
def test_tokens_use_thousands_separators(tokens: int, shown: str) -> None:
    assert format_tokens(tokens) == shown


@pytest.mark.parametrize(
    ("tokens", "limit", "shown"),
    [
        (13000, 100000, "13%"),
        (0, 100000, "0%"),
        (12500, 100000, "13%"),  # an exact half rounds up
        (12499, 100000, "12%"),
        (1, 3, "33%"),
        (2, 3, "67%"),
        (150000, 100000, "150%"),  # over the window is shown, not clamped
    ],
)
def test_percent_is_an_integer_rounded_half_up(tokens: int, limit: int, shown: str) -> None:
    assert format_percent(tokens, limit) == shown


@pytest.mark.parametrize("limit", [None, 0])
def test_percent_without_a_known_limit_is_a_dash(limit: int | None) -> None:
    assert format_percent(13000, limit) == "—"


@pytest.mark.parametrize(
    ("cost", "shown"),
    [
        (0.05, "$0.05"),
        (0, "$0.00"),
        (0.0, "$0.00"),
        (12.5, "$12.50"),
        (1234567.891, "$1,234,567.89"),
        (0.125, "$0.13"),  # half up on the decimal value, not binary half-even
        (0.005, "$0.01"),
        (0.004999, "$0.00"),
        (0.001049 + 0.003951, "$0.01"),  # the server's float sum of $0.005
        (0.00499999, "$0.00"),
        (0.30000000000000004, "$0.30"),
        (Decimal("2.675"), "$2.68"),
        (-0.05, "-$0.05"),
    ],
)
def test_cost_is_dollars_with_two_decimals(cost: float | Decimal, shown: str) -> None:
    assert format_cost(cost) == shown


def test_unknown_cost_is_never_zero_dollars() -> None:
    assert format_cost(None) == "unknown"


def test_render_names_every_readout_in_display_order() -> None:
    shown = render_readouts(ReadoutValues(13000, 100000, 0.05, 0.0))
    assert tuple(shown) == READOUT_NAMES
    assert shown == {
        SIDEBAR_TOKENS: "13,000",
        SIDEBAR_PERCENT: "13%",
        SIDEBAR_COST: "$0.05",
        SESSIONS_COST: "$0.00",
        FOOTER_TOKENS: "13,000",
        FOOTER_COST: "$0.00",
    }


def test_footer_reads_the_cached_session_total_not_the_sidebar_cost() -> None:
    shown = render_readouts(ReadoutValues(5, None, sidebar_cost=None, session_cost=1.0))
    assert shown[SIDEBAR_COST] == "unknown"
    assert shown[FOOTER_COST] == shown[SESSIONS_COST] == "$1.00"
    assert shown[FOOTER_TOKENS] == shown[SIDEBAR_TOKENS] == "5"
    assert shown[SIDEBAR_PERCENT] == "—"


def test_incomplete_window_does_not_change_what_the_user_sees() -> None:
    complete = ReadoutValues(10, 100, 0.5, 0.5, incomplete=False)
    partial = ReadoutValues(10, 100, 0.5, 0.5, incomplete=True)
    assert render_readouts(complete) == render_readouts(partial)
