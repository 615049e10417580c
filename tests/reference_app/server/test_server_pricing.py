from __future__ import annotations

import pytest

from reference_app.server.config import Price
from reference_app.server.pricing import step_cost
from reference_app.server.types import Usage

PRICE = Price(input=3.0, output=15.0, cache_read=0.3, cache_write=3.75)


def test_each_token_kind_is_billed_at_its_price_per_million() -> None:
    assert step_cost(Usage(input=1_000_000), PRICE) == pytest.approx(3.0)
    assert step_cost(Usage(output=1_000_000), PRICE) == pytest.approx(15.0)
    assert step_cost(Usage(cache_read=1_000_000), PRICE) == pytest.approx(0.3)
    assert step_cost(Usage(cache_write=1_000_000), PRICE) == pytest.approx(3.75)


def test_reasoning_is_billed_as_output() -> None:
    assert step_cost(Usage(reasoning=200), PRICE) == step_cost(Usage(output=200), PRICE)


def test_a_typical_step() -> None:
    usage = Usage(input=12_000, output=800, reasoning=200, cache_read=1000, cache_write=0)
    # 12000*3 + 1000*15 + 1000*0.3 = 51300 micro-dollars
    assert step_cost(usage, PRICE) == pytest.approx(0.0513)


def test_an_unpriced_model_costs_unknown_not_zero() -> None:
    assert step_cost(Usage(input=10), None) is None


def test_zero_usage_costs_zero() -> None:
    assert step_cost(Usage(), PRICE) == 0.0


def test_usage_json_has_the_opencode_token_shape() -> None:
    usage = Usage(input=1, output=2, reasoning=3, cache_read=4, cache_write=5)
    assert usage.to_json() == {"total": 15, "input": 1, "output": 2, "reasoning": 3,
                               "cache": {"read": 4, "write": 5}}
    assert "total" not in usage.to_json(with_total=False)
