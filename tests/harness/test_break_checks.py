"""Oracle edge cases found by trying to break them with hand-built histories."""

from __future__ import annotations

from harness.anomalies import FROZEN, NON_MONOTONIC, STALE
from harness.checks import check_history, live_equals_reload, monotonic
from harness.history import Checkpoint, History, Reading


def history(*rows: tuple[str, str | None, str | None]) -> History:
    """Each row: (session, live, reload) of sidebar.cost at one checkpoint."""
    built = History("s", "s.yaml", "none", ("store",))
    built.checkpoints = [
        Checkpoint(
            index,
            10 + index,
            "step",
            {"store": {"sidebar.cost": Reading(live=live, reload=reload, expected=reload)}},
            session=session,
        )
        for index, (session, live, reload) in enumerate(rows, start=1)
    ]
    return built


def test_spend_that_falls_across_an_unreadable_checkpoint_is_non_monotonic() -> None:
    found = monotonic(history(("main", "$5.00", "$5.00"), ("main", None, "$5.00"),
                              ("main", "$3.00", "$5.00")))

    assert [(a.code, a.checkpoints, a.detail) for a in found] == [
        (NON_MONOTONIC, (3,), "live value fell")
    ]


def test_spend_that_falls_across_an_unknown_amount_is_non_monotonic() -> None:
    found = monotonic(history(("main", "$5.00", "$5.00"), ("main", "unknown", "unknown"),
                              ("main", "$3.00", "$3.00")))

    assert {(a.checkpoints, a.detail) for a in found} == {
        ((3,), "live value fell"),
        ((3,), "reload value fell"),
    }


def test_spend_that_fell_while_another_session_was_open_is_non_monotonic() -> None:
    # main $5.00, open other ($1.00), back to main: it now shows $3.00 in storage and live.
    found = monotonic(history(("main", "$5.00", "$5.00"), ("other", "$1.00", "$1.00"),
                              ("main", "$3.00", "$3.00")))

    assert {(a.checkpoints, a.detail) for a in found} == {
        ((3,), "live value fell"),
        ((3,), "reload value fell"),
    }


def test_a_readout_that_moved_before_an_offline_checkpoint_is_not_frozen() -> None:
    # Live showed $5.00, the surface was offline, then showed $3.00 while storage says $5.00:
    # it moved (backwards), so it is not "frozen".
    found = live_equals_reload(history(("main", "$5.00", "$5.00"), ("main", None, "$5.00"),
                                       ("main", "$3.00", "$5.00")))

    assert [(a.code, a.checkpoints) for a in found] == [(STALE, (3,))]


def test_a_readout_that_sat_still_across_an_offline_checkpoint_is_frozen() -> None:
    found = live_equals_reload(history(("main", "$0.05", "$0.05"), ("main", None, "$0.09"),
                                       ("main", "$0.05", "$0.18")))

    assert [(a.code, a.checkpoints) for a in found] == [(FROZEN, (3,))]


def test_the_whole_fall_is_reported_under_check_history() -> None:
    codes = {a.code for a in check_history(history(
        ("main", "$5.00", "$5.00"), ("main", None, "$5.00"), ("main", "$3.00", "$5.00")
    ))}

    assert codes == {STALE, NON_MONOTONIC}
