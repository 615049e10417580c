"""The oracles on hand-built histories: each anomaly code from the smallest history that shows it."""

from __future__ import annotations

from harness.anomalies import DISAGREE, FROZEN, LOCKSTEP, NON_MONOTONIC, STALE, WRONG
from harness.checks import check_history, cross_surface, live_equals_reload, lockstep, monotonic
from harness.history import Checkpoint, History, Reading


def build(rows: list[dict[str, tuple[str, str, str]]], surface: str = "store") -> History:
    """Each row: readout -> (live, reload, expected) at one checkpoint."""
    return History(
        scenario="t",
        path="t.yaml",
        mode="none",
        surfaces=(surface,),
        checkpoints=[
            Checkpoint(
                index=i + 1,
                line=10 + i,
                label=f"step {i}",
                readings={surface: {name: Reading(*values) for name, values in row.items()}},
            )
            for i, row in enumerate(rows)
        ],
    )


def frozen_cost_history() -> History:
    return build(
        [
            {"sidebar.tokens": ("0", "0", "0"), "sidebar.cost": ("$0.00", "$0.00", "$0.00")},
            {
                "sidebar.tokens": ("13,000", "13,000", "13,000"),
                "sidebar.cost": ("$0.00", "$0.05", "$0.05"),
            },
            {
                "sidebar.tokens": ("16,000", "16,000", "16,000"),
                "sidebar.cost": ("$0.00", "$0.09", "$0.09"),
            },
            {
                "sidebar.tokens": ("16,000", "16,000", "16,000"),
                "sidebar.cost": ("$0.09", "$0.09", "$0.09"),
            },
        ]
    )


def test_frozen_cost_is_the_primary_finding_and_explains_its_symptoms() -> None:
    found = check_history(frozen_cost_history())

    assert [(a.code, a.readouts, a.checkpoints) for a in found] == [
        (FROZEN, ("sidebar.cost",), (2, 3))
    ]
    implied = {(a.code, a.checkpoints) for a in found[0].implied}
    assert implied == {(WRONG, (2, 3)), (LOCKSTEP, (2, 3))}


def test_a_value_that_moves_but_lags_is_stale_not_frozen() -> None:
    history = build(
        [
            {"sidebar.cost": ("$0.00", "$0.00", "$0.00")},
            {"sidebar.cost": ("$0.02", "$0.05", "$0.05")},
            {"sidebar.cost": ("$0.05", "$0.09", "$0.09")},
        ]
    )

    [anomaly] = live_equals_reload(history)

    assert (anomaly.code, anomaly.checkpoints) == (STALE, (2, 3))


def test_live_equal_to_reload_but_not_to_the_arithmetic_is_a_wrong_total() -> None:
    history = build([{"sidebar.cost": ("$0.04", "$0.04", "$0.05")}])

    [anomaly] = check_history(history)

    assert (anomaly.code, anomaly.implied) == (WRONG, ())


def test_spent_falling_is_non_monotonic_but_tokens_may_fall() -> None:
    history = build(
        [
            {
                "sidebar.tokens": ("9,000", "9,000", "9,000"),
                "sidebar.cost": ("$0.09", "$0.09", "$0.09"),
            },
            {
                "sidebar.tokens": ("2,000", "2,000", "2,000"),
                "sidebar.cost": ("$0.03", "$0.03", "$0.03"),
            },
        ]
    )

    found = monotonic(history)

    assert [(a.code, a.readouts, a.detail) for a in found] == [
        (NON_MONOTONIC, ("sidebar.cost",), "live value fell"),
        (NON_MONOTONIC, ("sidebar.cost",), "reload value fell"),
    ]


def test_lockstep_holds_when_storage_did_not_move_the_quiet_member() -> None:
    # Percent stays at 13% while tokens move: storage agrees it did not change, so no anomaly.
    history = build(
        [
            {
                "sidebar.tokens": ("13,000", "13,000", "13,000"),
                "sidebar.percent": ("13%", "13%", "13%"),
            },
            {
                "sidebar.tokens": ("13,100", "13,100", "13,100"),
                "sidebar.percent": ("13%", "13%", "13%"),
            },
        ]
    )

    assert lockstep(history) == []


def test_surfaces_that_disagree_are_named_together() -> None:
    history = build([{"sidebar.cost": ("$0.05", "$0.05", "$0.05")}])
    history.checkpoints[0].readings["web"] = {"sidebar.cost": Reading("$0.00", "$0.05", "$0.05")}
    history.surfaces = ("store", "web")

    [anomaly] = cross_surface(history)

    assert (anomaly.code, anomaly.surface) == (DISAGREE, "store+web")
    folded = check_history(history)
    assert [a.code for a in folded] == [FROZEN]
    assert DISAGREE in {a.code for a in folded[0].implied}


def test_a_healthy_history_has_no_anomaly() -> None:
    history = build(
        [
            {"sidebar.tokens": ("0", "0", "0"), "sidebar.cost": ("$0.00", "$0.00", "$0.00")},
            {
                "sidebar.tokens": ("13,000", "13,000", "13,000"),
                "sidebar.cost": ("$0.05", "$0.05", "$0.05"),
            },
        ]
    )

    assert check_history(history) == []


def test_opening_another_session_is_not_a_fall_in_spend() -> None:
    from harness.checks import monotonic
    from harness.history import Checkpoint, History, Reading

    def at(index: int, session: str, shown: str) -> Checkpoint:
        reading = Reading(live=shown, reload=shown, expected=shown)
        return Checkpoint(index, index, "step", {"store": {"sidebar.cost": reading}},
                          session=session)

    history = History("s", "s.yaml", "none", ("store",))
    history.checkpoints = [at(1, "main", "$0.20"), at(2, "child", "$0.10"),
                           at(3, "child", "$0.05")]

    assert [a.checkpoints for a in monotonic(history)] == [(3,), (3,)]


def test_a_value_behind_after_an_offline_checkpoint_is_frozen_not_stale() -> None:
    from harness.checks import live_equals_reload
    from harness.history import Checkpoint, History, Reading

    def at(index: int, live: str | None, reload: str) -> Checkpoint:
        reading = Reading(live=live, reload=reload, expected=reload)
        return Checkpoint(index, index, "step", {"store": {"sidebar.cost": reading}})

    history = History("s", "s.yaml", "none", ("store",))
    history.checkpoints = [at(1, "$0.00", "$0.05"), at(2, None, "$0.09"), at(3, "$0.00", "$0.18")]

    assert [(a.code, a.checkpoints) for a in live_equals_reload(history)] == [
        ("FROZEN-UNTIL-RELOAD", (1, 3)),
    ]
