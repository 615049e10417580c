from __future__ import annotations

import re

import time_machine

from reference_app.server.ids import new_id


def test_ids_have_the_opencode_shape() -> None:
    for prefix in ("ses", "msg", "prt", "evt"):
        assert re.fullmatch(rf"{prefix}_[0-9a-f]{{12}}[0-9A-Za-z]{{14}}", new_id(prefix))


def test_ids_sort_in_creation_order() -> None:
    ids = [new_id("msg") for _ in range(5000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_ids_keep_sorting_when_the_clock_goes_back() -> None:
    with time_machine.travel(2_000_000_000, tick=False):
        later = new_id("prt")
    with time_machine.travel(1_000_000_000, tick=False):
        earlier_clock = new_id("prt")
    assert earlier_clock > later
