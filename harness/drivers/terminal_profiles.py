"""Which terminal profile reads which target: the reference TUI, or a real agent's own TUI.

A real opencode-family agent (opencode, Kilo CLI) runs its terminal UI as a client of the headless
server the target started: ``<binary> attach URL --dir PROJECT --session ID``. The TUI runs under
``env -i`` with exactly the server's isolated environment (HOME, XDG folders, the agent's
switches), so it reads none of the user's config or state and the user's keys never reach it:
tmux's own environment, which the pane inherits, is the harness's.

The readout regexes were written against screens of opencode 1.18.33 and Kilo CLI 7.7.7 captured
under tmux at the profile's size (saved as fixtures in tests/harness/drivers/fixtures/).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from harness.drivers.base import TargetInfo
from harness.drivers.terminal_profile import (
    COST,
    REFERENCE_TUI_PROFILE,
    ReadoutPattern,
    Span,
    TerminalProfile,
)
from harness.errors import TargetError

__all__ = ["PROFILES", "agent_tui_profile", "profile_for"]

PANE_TERM = "tmux-256color"
"""What the pane is: tmux's default-terminal. ``env -i`` drops the TERM tmux set, so it is
named again, or the TUI would fall back to a dumb terminal."""


def _literal(text: str) -> str:
    # Command arguments are templates ({url}, {session}); a brace in a path is not one.
    return text.replace("{", "{{").replace("}", "}}")


def _isolated_command(binary: str, env: Mapping[str, str], project: str) -> tuple[str, ...]:
    assignments = [f"{key}={_literal(value)}" for key, value in sorted(env.items())]
    return (
        "env",
        "-i",
        "-C",
        _literal(project),
        *assignments,
        f"TERM={PANE_TERM}",
        _literal(binary),
        "attach",
        "{url}",
        "--dir",
        _literal(project),
    )


# ---- opencode 1.18.33 / Kilo CLI 7.7.7 -------------------------------------------------------
# At 160x45 the session screen is the transcript on the left and a 40-column sidebar on the right
# ("Context", then "N tokens", "N% used", "$N.NN spent"), the prompt box below, and one status row
# near the bottom that also shows "19.2K (19%) · $0.19" once the session has usage. The status row
# is the second-to-last (the last stays blank); the status rows' region takes the last three, so a
# row more or less of prompt box cannot hide it.

_SIDEBAR: Span = (-42, None)
_ABOVE_STATUS: Span = (0, -3)
_STATUS: Span = (-3, None)


_SIDEBAR_READOUTS = {
    "sidebar.tokens": ReadoutPattern(
        r"^\s*([\d,]+) tokens\s*$", rows=_ABOVE_STATUS, columns=_SIDEBAR
    ),
    "sidebar.percent": ReadoutPattern(r"^\s*(\d+%) used\s*$", rows=_ABOVE_STATUS, columns=_SIDEBAR),
    "sidebar.cost": ReadoutPattern(
        r"^\s*" + COST + r" spent\s*$", rows=_ABOVE_STATUS, columns=_SIDEBAR
    ),
}

# The status row: "13.0K (13%) · $0.05". Its tokens are abbreviated, and no exact-string oracle
# can hold "13.0K" against "13,000", so only its dollars are read. opencode shows them whenever the
# session has usage; Kilo only while a turn runs (idle, its row reads "19.2K (19%)"), so Kilo's
# footer.cost is empty at idle checkpoints, which the oracles skip as nothing shown.
_FOOTER_COST = ReadoutPattern(r"\(\d+%\) · " + COST, rows=_STATUS)

READOUTS: dict[str, dict[str, ReadoutPattern]] = {
    "opencode": {**_SIDEBAR_READOUTS, "footer.cost": _FOOTER_COST},
    # Kilo's sidebar also has "Token Usage" and "Models" boxes that repeat the cost ("Cost
    # $0.19"); no standard readout name fits them, so they are not read.
    "kilo": {**_SIDEBAR_READOUTS, "footer.cost": _FOOTER_COST},
}
"""What each agent's TUI shows, by target name."""


_SPENT = r"\$[\d,]+\.\d\d spent[ \t]*$"
_LOADING = r"\s0 tokens[ \t]*\n[^\n]*\n[^\n]*\$(?!0\.00 )[\d,]+\.\d\d spent"
_MESSAGE = "\u25a3"
""""▣", the mark under each assistant message ("▣  Build · paid"), in progress or done."""
SIDEBAR_DRAWN = rf"(?ms)\A(?!.*{_LOADING}).*{_SPENT}"
READY = rf"(?ms)\A(?=.*{_MESSAGE})(?!.*{_LOADING}).*{_SPENT}"
"""The sidebar is drawn and the session's messages have arrived. A freshly started TUI draws the
sidebar from the session first ("0 tokens", "0% used", "$0.21 spent") and fills tokens and
percent in once the messages arrive, which took over a second on a loaded machine. Dollars spent
with no tokens say it is still loading, but only when the dollars are not zero: an unpriced
session read "0 tokens, $0.00 spent" as loaded, so the message mark is what is waited for."""
READY_IF_QUIET = SIDEBAR_DRAWN
"""A session with no messages never shows the message mark: a drawn sidebar that stays
unchanged for the profile's ``ready_quiet`` is taken as loaded."""

KV_STATE = {"animations_enabled": False}
"""The TUI's saved preferences (``<XDG_STATE_HOME>/<app>/kv.json``, what its "Disable
animations" command writes): the busy spinner redraws the status row every 40-80 ms for as long
as a turn runs, and with it no screen is ever quiet enough to settle on mid-turn."""


def agent_tui_profile(
    name: str, binary: str, env: Mapping[str, str], project: str
) -> TerminalProfile:
    """The TUI of an opencode-family agent, attached to its running server (pure)."""
    return TerminalProfile(
        name=f"{name}-tui",
        command=_isolated_command(binary, env, project),
        session_args=("--session", "{session}"),
        readouts=READOUTS[name],
        ready=READY,
        ready_if_quiet=READY_IF_QUIET,
        ready_quiet=3.0,
        # The sidebar is first drawn from the session list before the messages arrive; the
        # quiet period after the marker lets the totals land. It also outlasts opencode's
        # session.updated, which trails each step finish by 0.1-0.3 s.
        quiet=1.0,
        deadline=8.0,
        # A real agent's TUI takes 5-12 s to draw on a loaded 2-core machine.
        load_timeout=60.0,
    )


def _write_tui_state(state_home: Path, app_dir: str) -> None:
    kv = state_home / app_dir / "kv.json"
    if not kv.exists():
        kv.parent.mkdir(parents=True, exist_ok=True)
        kv.write_text(json.dumps(KV_STATE), encoding="utf-8")


def _family_profile(target: TargetInfo) -> TerminalProfile:
    from harness.targets.kilo import KILO
    from harness.targets.opencode import OPENCODE
    from harness.targets.opencode_family import Layout, agent_env

    flavor = {"opencode": OPENCODE, "kilo": KILO}[target.extra["target"]]
    layout = Layout.under(Path(target.workdir), flavor)
    _write_tui_state(layout.state_home, flavor.app_dir)
    env = agent_env(flavor, layout, os.environ)
    return agent_tui_profile(flavor.name, target.extra["binary"], env, str(layout.project))


PROFILES: dict[str, Callable[[TargetInfo], TerminalProfile]] = {
    "reference": lambda _target: REFERENCE_TUI_PROFILE,
    "opencode": _family_profile,
    "kilo": _family_profile,
}
"""By target name (``TargetInfo.extra["target"]``); a target that names none is the reference."""


def profile_for(target: TargetInfo) -> TerminalProfile:
    """The profile that reads ``target``'s terminal UI."""
    name = target.extra.get("target", "reference")
    make = PROFILES.get(name)
    if make is None:
        raise TargetError(
            f"the terminal surface has no profile for target {name!r}; known: "
            f"{', '.join(sorted(PROFILES))}"
        )
    return make(target)
