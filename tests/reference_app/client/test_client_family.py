"""A parent session's family total: its own spend plus its subagents' child sessions', once."""

from __future__ import annotations

import pytest

from reference_app.client.store import ClientStore
from tests.reference_app.client import client_shapes as shapes


def child(session_id: str, cost: float | None, parent: str = "ses_1") -> dict[str, object]:
    return {**shapes.session_info(session_id, cost=cost), "parentID": parent}


def test_family_adds_each_child_once_and_ignores_other_sessions() -> None:
    store = ClientStore()
    store.load_sessions([
        shapes.session_info("ses_1", cost=0.10),
        child("ses_2", 0.05),
        child("ses_3", 0.02),
        shapes.session_info("ses_4", cost=9.0),
        child("ses_5", 1.0, parent="ses_4"),
    ])

    assert store.family_cost("ses_1") == pytest.approx(0.17)
    assert store.family_cost("ses_2") == pytest.approx(0.05)


def test_a_child_update_moves_the_family_and_an_unknown_child_makes_it_unknown() -> None:
    store = ClientStore()
    store.load_sessions([shapes.session_info("ses_1", cost=0.10), child("ses_2", 0.0)])

    store.apply(shapes.session_updated({**child("ses_2", 0.30), "time": {"updated": 2_000}}))
    assert store.family_cost("ses_1") == pytest.approx(0.40)

    store.apply(shapes.session_updated({**child("ses_2", None), "time": {"updated": 3_000}}))
    assert store.family_cost("ses_1") is None
