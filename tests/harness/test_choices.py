import pytest

from harness.choices import parse_choices

SURFACES = ("store", "protocol", "tui")


def test_items_keep_their_order_and_a_repeat_is_read_once() -> None:
    assert parse_choices(" tui,store,,tui ", SURFACES, "surface") == ["tui", "store"]


def test_an_unknown_item_is_named_with_the_choices() -> None:
    with pytest.raises(ValueError, match=r"unknown surface pixel; choose from store, protocol, tui"):
        parse_choices("store,pixel", SURFACES, "surface")


def test_naming_nothing_is_an_error_not_an_empty_run() -> None:
    with pytest.raises(ValueError, match=r"unknown surface \(none\)"):
        parse_choices(" , ", SURFACES, "surface")
