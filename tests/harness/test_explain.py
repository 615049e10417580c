"""The prose of a failure, from hand-built histories."""

from __future__ import annotations

from harness.anomalies import FROZEN
from harness.checks import check_history
from harness.explain import explain, failure_text, format_checkpoints, group_findings
from harness.history import Checkpoint, History, Reading
from harness.scenario.model import ExpectedAnomaly
from harness.verdict import judge


def history(costs: list[tuple[str, str]], tokens: list[str]) -> History:
    return History(
        scenario="s",
        path="scenarios/s.yaml",
        mode="none",
        surfaces=("store",),
        checkpoints=[
            Checkpoint(
                index=i + 1,
                line=20 + i,
                label=f"step {i + 1}",
                readings={
                    "store": {
                        "sidebar.tokens": Reading(tokens[i], tokens[i], tokens[i]),
                        "sidebar.cost": Reading(live, stored, stored),
                    }
                },
            )
            for i, (live, stored) in enumerate(costs)
        ],
    )


RENAMED = history(
    [("$0.00", "$0.00"), ("$0.00", "$0.05"), ("$0.09", "$0.09"), ("$0.09", "$0.14")],
    ["0", "13,000", "16,000", "19,000"],
)


def test_checkpoint_spans_read_as_ranges() -> None:
    assert format_checkpoints((2, 3, 4, 7)) == "2-4, 7"
    assert format_checkpoints((5,)) == "5"


def test_a_freeze_that_a_side_effect_interrupted_names_both_stretches() -> None:
    [finding] = group_findings(check_history(RENAMED))

    text = explain(RENAMED, finding)

    assert text.splitlines()[0] == "FROZEN-UNTIL-RELOAD  sidebar.cost  checkpoints 2, 4 (store)"
    assert "sidebar.cost did not follow live (it stayed at $0.00 at 2, then $0.09 at 4)" in text
    assert "never moved" not in text  # it did move once, on the side effect
    assert "sidebar.tokens advanced" in text
    assert "Witness: cp 2 (line 21)." in text


def test_the_failure_text_leads_with_the_house_header_and_says_what_was_missed() -> None:
    anomalies = check_history(RENAMED)
    verdict = judge(
        "s", "none", anomalies,
        (ExpectedAnomaly(code=FROZEN, readouts=("sessions.cost",)),),
        {"store": {"sidebar.tokens", "sidebar.cost", "sessions.cost"}},
    )

    text = failure_text(RENAMED, verdict, ".freshness/runs/x/")

    assert text.startswith("FAILED scenarios/s.yaml::mode=none\nFROZEN-UNTIL-RELOAD  sidebar.cost")
    assert "MISSED  expected FROZEN-UNTIL-RELOAD on sessions.cost (store)" in text
    assert "Artifacts: .freshness/runs/x/" in text


def test_a_trace_cut_short_still_explains_what_it_can() -> None:
    [finding] = group_findings(check_history(RENAMED))
    cut = History("s", "s.yaml", "none", ("store",), RENAMED.checkpoints[2:])

    text = explain(cut, finding)

    assert text.startswith("FROZEN-UNTIL-RELOAD")
    assert "Witness: cp 2." in text
