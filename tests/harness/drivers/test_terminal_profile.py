"""Terminal profiles, pure: parsing one from data with errors that name the field, rendering the
command for a session and the client fix, cropping a screen region, and reading readouts off a
captured screen laid out like the reference TUI (a transcript that mentions tokens and dollars
cannot pass for the sidebar)."""

from __future__ import annotations

from typing import Any

import pytest

from harness.drivers.terminal_profile import (
    REFERENCE_TUI_PROFILE,
    ProfileError,
    ReadoutPattern,
    TerminalProfile,
    crop,
    parse_profile,
    read_screen,
    render_command,
    render_env,
)

WIDTH = 160


def tui_screen(
    sessions: list[str], transcript: list[str], sidebar: list[str], status: str, rows: int = 12
) -> str:
    """A 160-column screen in the reference TUI's layout: top bar, three bordered panels,
    the prompt box and the status line, as `tmux capture-pane -p` prints it."""
    body = rows - 6
    lines = ["  Freshness  ·  Fix the parser"]
    lines.append("╭─ Sessions " + "─" * 17 + "╮╭─ Transcript " + "─" * 85 + "╮╭─ Session " + "─" * 18 + "╮")
    for row in range(body):
        left = sessions[row] if row < len(sessions) else ""
        middle = transcript[row] if row < len(transcript) else ""
        right = sidebar[row] if row < len(sidebar) else ""
        line = f"│{left:<28}││ {middle:<96} ││ {right:<26} │"
        lines.append(line.rstrip())
    lines.append("╰" + "─" * 28 + "╯╰" + "─" * 98 + "╯╰" + "─" * 28 + "╯")
    lines.append("╭" + "─" * 158 + "╮")
    lines.append("│  Ask the agent… (Enter sends)".ljust(159) + "│")
    lines.append("╰" + "─" * 158 + "╯")
    lines.append(status)
    assert all(len(line) <= WIDTH for line in lines)
    return "\n".join(lines) + "\n"


SIDEBAR = ["Context", "13,000 tokens", "13% used", "$0.00 spent", "", "Model", "paid"]
SESSIONS = ["  Older session        $1.50", "▸ Fix the parser       $0.00"]
DECOY_TRANSCRIPT = [
    "> How many tokens did we use? 999 tokens, 99% used, $9.99 spent",
    "",
    "▸ Fix the parser       $7.77│ is not the session list",
    "  ● echo ok",
]
STATUS = " ● live   paid   tokens 13,000   cost $0.00" + " " * 50 + "ctrl+n new session  ctrl+q quit"


def test_reference_profile_reads_every_readout_from_its_own_region() -> None:
    screen = tui_screen(SESSIONS, DECOY_TRANSCRIPT, SIDEBAR, STATUS)
    assert read_screen(REFERENCE_TUI_PROFILE, screen) == {
        "sidebar.tokens": "13,000",
        "sidebar.percent": "13%",
        "sidebar.cost": "$0.00",
        "sessions.cost": "$0.00",
        "footer.tokens": "13,000",
        "footer.cost": "$0.00",
    }


def test_reference_profile_reads_unknown_and_the_dash_and_big_amounts() -> None:
    sidebar = ["Context", "1,234,567 tokens", "— used", "unknown spent"]
    sessions = ["▸ A long title…    $1,234.57"]
    status = " ● live   free   tokens 1,234,567   cost unknown"
    values = read_screen(REFERENCE_TUI_PROFILE, tui_screen(sessions, [], sidebar, status))
    assert values == {
        "sidebar.tokens": "1,234,567",
        "sidebar.percent": "—",
        "sidebar.cost": "unknown",
        "sessions.cost": "$1,234.57",
        "footer.tokens": "1,234,567",
        "footer.cost": "unknown",
    }


def test_placeholders_and_a_missing_region_read_as_none() -> None:
    # Before the app has loaded, readouts show "…"; a screen without the status line has none.
    sidebar = ["Context", "… tokens", "… used", "… spent"]
    values = read_screen(REFERENCE_TUI_PROFILE, tui_screen(["  Other  $0.00"], [], sidebar, ""))
    assert values == dict.fromkeys(REFERENCE_TUI_PROFILE.readouts)


def test_crop_pads_lines_so_negative_columns_count_from_the_right_edge() -> None:
    screen = "abc\n" + "x" * 10 + "\n\n"
    assert crop(screen, None, (-3, None), width=10) == "   \nxxx\n   "
    assert crop(screen, (1, 2), None, width=10) == "x" * 10
    assert crop(screen, (-1, None), (0, 2), width=10) == "  "


def test_a_regex_may_span_a_wrapped_line() -> None:
    profile = TerminalProfile(
        name="wrapping",
        command=("agent",),
        readouts={"sidebar.cost": ReadoutPattern(r"(?s)spent:\s+(\$[\d.]+)", columns=(0, 10))},
        size=(10, 3),
    )
    assert read_screen(profile, "spent:\n  $0.42\n") == {"sidebar.cost": "$0.42"}


def test_an_escapes_pattern_sees_colour_codes() -> None:
    profile = TerminalProfile(
        name="colours",
        command=("agent",),
        readouts={"sidebar.cost": ReadoutPattern(r"\x1b\[31m(\$[\d.]+)", escapes=True)},
    )
    escaped = "spent \x1b[31m$0.00\x1b[0m\n"
    assert read_screen(profile, "spent $0.00\n", escaped) == {"sidebar.cost": "$0.00"}
    assert read_screen(profile, "spent $0.00\n", "spent $0.00\n") == {"sidebar.cost": None}


def test_render_command_adds_the_session_and_client_fix_arguments() -> None:
    values = {"python": "/venv/bin/python", "url": "http://127.0.0.1:5", "workdir": "/w",
              "password": ""}
    assert render_command(REFERENCE_TUI_PROFILE, values, session=None, client_fix=False) == [
        "/venv/bin/python", "-m", "reference_app.tui", "--url", "http://127.0.0.1:5",
    ]
    assert render_command(REFERENCE_TUI_PROFILE, values, session="ses_1", client_fix=True) == [
        "/venv/bin/python", "-m", "reference_app.tui", "--url", "http://127.0.0.1:5",
        "--session", "ses_1", "--client-fix",
    ]
    assert render_env(REFERENCE_TUI_PROFILE, {**values, "password": "pw"}) == {
        "FRESHNESS_TUI_PASSWORD": "pw"
    }


def test_render_command_names_a_value_the_target_does_not_give() -> None:
    profile = TerminalProfile(name="p", command=("agent", "{url}"), readouts={})
    with pytest.raises(ProfileError, match=r"needs \{url\}"):
        render_command(profile, {}, session=None, client_fix=False)


AGENT_PROFILE: dict[str, Any] = {
    "name": "some-agent",
    "command": ["some-agent", "attach", "{url}"],
    "session_args": ["--session", "{session}"],
    "ready": r"Context",
    "startup_delay": 1.5,
    "size": [200, 50],
    "quiet": 0.4,
    "readouts": {
        "sidebar.cost": {"regex": r"(\$[\d,.]+) spent", "columns": [-42, None], "rows": [0, -2]},
        "footer.tokens": r"(\d[\d,]*) tokens",
    },
}


def test_parse_profile_from_plain_data() -> None:
    profile = parse_profile(AGENT_PROFILE)
    assert profile.name == "some-agent"
    assert profile.command == ("some-agent", "attach", "{url}")
    assert profile.session_args == ("--session", "{session}")
    assert profile.client_fix_args == ()
    assert profile.size == (200, 50)
    assert profile.startup_delay == 1.5
    assert profile.quiet == 0.4
    assert profile.readouts["sidebar.cost"].columns == (-42, None)
    assert profile.readouts["sidebar.cost"].rows == (0, -2)
    assert profile.readouts["footer.tokens"].rows is None
    cost = "x" * 170 + "$1.25 spent"
    assert read_screen(profile, f"{cost}\n12,000 tokens\nstatus\n") == {
        "sidebar.cost": "$1.25",
        "footer.tokens": "12,000",
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"readouts": {"sidebar.cost": r"\$[\d.]+"}}, r"readout 'sidebar.cost'.*0 capture groups"),
        ({"readouts": {"sidebar.cost": r"(\$)([\d.]+)"}}, r"2 capture groups.*\(\?:\.\.\.\)"),
        ({"readouts": {"sidebar.cost": r"([\d.]+"}}, r"does not compile"),
        ({"readouts": {"sidebar.cost": {"regex": "(x)", "columns": [1]}}},
         r"columns: expected \[start, stop\]"),
        ({"readouts": {"sidebar.cost": {"regex": "(x)", "colour": True}}},
         r"unknown field\(s\) colour"),
        ({"readouts": {"sidebar.cost": 3}}, r"expected a regex string"),
        ({"readouts": {}}, r"readouts must map"),
        ({"command": "some-agent attach"}, r"command must be a non-empty list"),
        ({"command": ["agent", "{host}"]}, r"names host; known placeholders"),
        ({"quiet": -1}, r"quiet must be a number of seconds"),
        ({"size": [200]}, r"size must be \[columns, rows\]"),
        ({"ready": "("}, r"ready regex '\(' does not compile"),
        ({"restart": ["--continue"]}, r"unknown field\(s\) restart"),
    ],
)
def test_parse_profile_errors_name_the_field(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ProfileError, match=message) as raised:
        parse_profile({**AGENT_PROFILE, **change})
    assert "'some-agent'" in str(raised.value)
