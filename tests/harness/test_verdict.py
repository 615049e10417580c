"""Verdicts: expected failures caught count as success; expected failures missed do not."""

from __future__ import annotations

from harness.anomalies import FROZEN, LOCKSTEP, WRONG, Anomaly
from harness.scenario.model import ExpectedAnomaly
from harness.verdict import Status, judge

STORE = {"store": {"sidebar.tokens", "sidebar.percent", "sidebar.cost", "sessions.cost"}}


def frozen(readout: str, surface: str = "store") -> Anomaly:
    return Anomaly(FROZEN, "live_equals_reload", surface, (readout,), (2, 3))


def expect(code: str, *readouts: str, surfaces: tuple[str, ...] | None = None) -> ExpectedAnomaly:
    return ExpectedAnomaly(code=code, readouts=readouts, surfaces=surfaces)


def test_the_expected_failure_caught_is_a_success() -> None:
    verdict = judge(
        "s",
        "none",
        [frozen("sidebar.cost"), frozen("sessions.cost")],
        (expect(FROZEN, "*.cost"),),
        STORE,
    )

    assert verdict.status is Status.CAUGHT
    assert verdict.ok


def test_an_expected_failure_that_does_not_show_is_missed() -> None:
    verdict = judge("s", "none", [frozen("sidebar.cost")], (expect(FROZEN, "*.cost"),), STORE)

    assert verdict.status is Status.MISSED
    assert verdict.surfaces["store"].missing == ((FROZEN, "sessions.cost"),)
    assert not verdict.ok


def test_an_anomaly_nobody_expected_fails_the_run() -> None:
    verdict = judge("s", "server", [frozen("sidebar.cost")], (), STORE)

    assert verdict.status is Status.FAIL
    assert verdict.surfaces["store"].unexpected[0].readouts == ("sidebar.cost",)


def test_an_implied_anomaly_satisfies_an_expectation_that_names_it() -> None:
    symptom = Anomaly(LOCKSTEP, "lockstep", "store", ("sidebar.cost", "sidebar.tokens"), (2,))
    cause = Anomaly(
        FROZEN, "live_equals_reload", "store", ("sidebar.cost",), (2,), implied=(symptom,)
    )

    verdict = judge(
        "s",
        "none",
        [cause],
        (expect(FROZEN, "sidebar.cost"), expect(LOCKSTEP, "sidebar.cost")),
        STORE,
    )

    assert verdict.status is Status.CAUGHT


def test_expectations_limited_to_other_surfaces_do_not_apply() -> None:
    verdict = judge("s", "none", [], (expect(FROZEN, "sidebar.cost", surfaces=("web",)),), STORE)

    assert verdict.status is Status.PASS


def test_an_unfinished_run_is_an_error_never_a_pass() -> None:
    verdict = judge("s", "both", [], (), STORE, error="TargetError: did not start")

    assert verdict.status is Status.ERROR
    assert not verdict.ok


def test_a_wrong_total_with_a_different_code_is_not_the_one_expected() -> None:
    wrong = Anomaly(WRONG, "expected", "store", ("sidebar.cost",), (2,))

    verdict = judge("s", "none", [wrong], (expect(FROZEN, "sidebar.cost"),), STORE)

    assert verdict.status is Status.FAIL
    assert verdict.surfaces["store"].missing == ((FROZEN, "sidebar.cost"),)


def test_a_readout_never_read_is_unknown_not_a_pass() -> None:
    verdict = judge("s", "server", [], (), STORE, unread={"store": ("sidebar.cost",)})

    assert verdict.status is Status.ERROR
    assert verdict.surfaces["store"].unread == ("sidebar.cost",)
    assert not verdict.ok


def test_a_readout_the_scenario_says_is_not_shown_may_go_unread() -> None:
    not_shown = (expect("NOT-SHOWN", "sidebar.cost"),)

    verdict = judge("s", "shipped", [], not_shown, STORE, unread={"store": ("sidebar.cost",)})

    assert verdict.status is Status.PASS
    assert verdict.surfaces["store"].unread == ()


def test_a_readout_said_not_shown_that_shows_is_missed() -> None:
    not_shown = (expect("NOT-SHOWN", "sidebar.cost"),)

    verdict = judge("s", "shipped", [], not_shown, STORE)

    assert verdict.status is Status.MISSED
    assert verdict.surfaces["store"].missing == (("NOT-SHOWN", "sidebar.cost"),)
