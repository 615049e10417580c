"""The real agents' terminal profiles, pure: their regexes against screens of opencode 1.18.33 and
Kilo CLI 7.7.7 captured under tmux at 160x45 (fixtures/real_tui/), the ready marker that tells a
TUI still loading its messages from one that is drawn, the isolated command line, and which
profile a target gets.

The fixtures are real `tmux capture-pane -p` output from runs of the core three-step scenario;
run folder names inside them are those runs' own.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.drivers.base import TargetInfo
from harness.drivers.terminal_profile import REFERENCE_TUI_PROFILE, read_screen, render_command
from harness.drivers.terminal_profiles import (
    KV_STATE,
    READY,
    READY_IF_QUIET,
    agent_tui_profile,
    profile_for,
)
from harness.errors import TargetError

FIXTURES = Path(__file__).parent / "fixtures" / "real_tui"

OPENCODE = agent_tui_profile("opencode", "/x/opencode", {"HOME": "/iso/home"}, "/iso/project")
KILO = agent_tui_profile("kilo", "/x/kilo", {"HOME": "/iso/home"}, "/iso/project")


def screen(name: str) -> str:
    return (FIXTURES / f"{name}.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("fixture", "tokens", "percent", "cost", "footer"),
    [
        # A session with no messages: opencode says 0% where the harness's arithmetic has no
        # percent yet ("—"); the scenarios record that difference for the terminal surface.
        ("opencode-1.18.33-empty-session", "0", "0%", "$0.00", None),
        ("opencode-1.18.33-mid-turn", "13,000", "13%", "$0.05", "$0.05"),
        ("opencode-1.18.33-idle", "19,200", "19%", "$0.19", "$0.19"),
    ],
)
def test_opencode_readouts(
    fixture: str, tokens: str, percent: str, cost: str, footer: str | None
) -> None:
    assert read_screen(OPENCODE, screen(fixture)) == {
        "sidebar.tokens": tokens,
        "sidebar.percent": percent,
        "sidebar.cost": cost,
        "footer.cost": footer,
    }


@pytest.mark.parametrize(
    ("fixture", "tokens", "percent", "cost", "footer"),
    [
        # Kilo's status row has dollars only while a turn runs.
        ("kilo-7.7.7-mid-turn", "13,000", "13%", "$0.05", "$0.05"),
        ("kilo-7.7.7-idle", "19,200", "19%", "$0.19", None),
        # What a fresh TUI draws before its messages arrive: the ready marker refuses it.
        ("kilo-7.7.7-loading", "0", "0%", "$0.05", None),
    ],
)
def test_kilo_readouts(
    fixture: str, tokens: str, percent: str, cost: str, footer: str | None
) -> None:
    assert read_screen(KILO, screen(fixture)) == {
        "sidebar.tokens": tokens,
        "sidebar.percent": percent,
        "sidebar.cost": cost,
        "footer.cost": footer,
    }


def test_kilo_sidebar_extra_cost_boxes_are_not_the_spent_readout() -> None:
    # "Cost  $0.19" in Token Usage and the Models table must not be taken for sidebar.cost.
    text = screen("kilo-7.7.7-idle").replace("$0.19 spent", "$0.18 spent")
    assert read_screen(KILO, text)["sidebar.cost"] == "$0.18"


def test_a_transcript_that_mentions_spend_is_not_the_sidebar() -> None:
    lines = screen("opencode-1.18.33-idle").split("\n")
    decoy = "     We used 999 tokens, 99% used, $9.99 spent"
    # Row 7 of the transcript is blank on the left of the sidebar's LSP heading.
    lines[1] = decoy.ljust(118) + lines[1][118:]
    lines[20] = "     $7.77 spent"
    read = read_screen(OPENCODE, "\n".join(lines))
    assert (read["sidebar.tokens"], read["sidebar.percent"], read["sidebar.cost"]) == (
        "19,200",
        "19%",
        "$0.19",
    )


@pytest.mark.parametrize(
    ("fixture", "ready"),
    [
        ("opencode-1.18.33-empty-session", True),
        ("opencode-1.18.33-mid-turn", True),
        ("opencode-1.18.33-idle", True),
        ("kilo-7.7.7-mid-turn", True),
        ("kilo-7.7.7-idle", True),
        ("kilo-7.7.7-loading", False),
    ],
)
def test_ready_marker(fixture: str, ready: bool) -> None:
    assert bool(re.search(READY, screen(fixture))) is ready


def test_ready_waits_for_a_drawn_sidebar() -> None:
    assert re.search(READY, "\n" * 44) is None
    assert re.search(READY_IF_QUIET, "\n" * 44) is None


def test_an_unpriced_session_still_loading_is_not_ready() -> None:
    # Zero dollars cannot tell loading from loaded: only the message mark can.
    loading = screen("kilo-7.7.7-loading").replace("$0.05 spent", "$0.00 spent")

    assert re.search(READY, loading) is None
    # An empty session looks the same and never shows the mark: taken once the screen is quiet.
    assert re.search(READY_IF_QUIET, loading) is not None
    assert re.search(READY_IF_QUIET, screen("kilo-7.7.7-loading")) is None


def test_command_runs_the_tui_in_the_isolated_environment_only() -> None:
    profile = agent_tui_profile(
        "opencode", "/opt/{odd}/opencode", {"HOME": "/iso/home", "XDG_DATA_HOME": "/iso/d"},
        "/iso/project",
    )
    argv = render_command(
        profile, {"url": "http://127.0.0.1:4096"}, session="ses_1", client_fix=False
    )
    # env -i: tmux's environment (the harness's, keys and all) does not reach the agent.
    assert argv[:4] == ["env", "-i", "-C", "/iso/project"]
    assert "HOME=/iso/home" in argv
    assert "XDG_DATA_HOME=/iso/d" in argv
    assert "TERM=tmux-256color" in argv
    binary = argv.index("/opt/{odd}/opencode")
    assert argv[binary:] == [
        "/opt/{odd}/opencode", "attach", "http://127.0.0.1:4096", "--dir", "/iso/project",
        "--session", "ses_1",
    ]


def test_profile_for_picks_by_target_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FRESHNESS_TEST_SECRET", "do-not-pass")
    assert profile_for(TargetInfo("http://x", False, {})) is REFERENCE_TUI_PROFILE
    assert profile_for(TargetInfo("http://x", False, {}, extra={"target": "reference"})) is (
        REFERENCE_TUI_PROFILE
    )
    for name in ("opencode", "kilo"):
        info = TargetInfo(
            "http://127.0.0.1:1", False, {}, workdir=str(tmp_path),
            extra={"target": name, "binary": f"/bin/{name}"},
        )
        profile = profile_for(info)
        assert profile.name == f"{name}-tui"
        argv = render_command(profile, {"url": info.base_url}, session="s", client_fix=False)
        assert f"HOME={tmp_path.resolve() / name / 'home'}" in argv
        assert f"{name.upper()}_DISABLE_AUTOUPDATE=1" in argv
        assert not any("FRESHNESS_TEST_SECRET" in arg for arg in argv)
        # The TUI's saved preference turns the busy spinner off (see KV_STATE).
        kv = tmp_path / name / "xdg-state" / name / "kv.json"
        assert json.loads(kv.read_text()) == KV_STATE


def test_an_unknown_target_has_no_profile() -> None:
    with pytest.raises(TargetError, match="no profile for target 'nope'"):
        profile_for(TargetInfo("http://x", False, {}, extra={"target": "nope"}))
