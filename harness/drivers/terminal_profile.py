"""How to run a terminal program and where its readouts are on screen: a profile, as data.

A profile names the command (a template), the arguments that reopen a given session (so a restart
lands on the same session), the arguments of the client-fix switch when the program has one, a
regex that says the program is ready, and one regex per readout with exactly one capture group.
A regex may be confined to a region of the screen (rows, columns; negative counts from the bottom
or right edge) so that a word in the transcript cannot pass for a sidebar value: real agents put
wide sidebars beside a transcript that can say anything.

Pure: parsing a profile and reading a captured screen do no I/O, so they are tested on strings.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.errors import FreshnessError

__all__ = [
    "COST",
    "PLACEHOLDERS",
    "REFERENCE_TUI_PROFILE",
    "ProfileError",
    "ReadoutPattern",
    "TerminalProfile",
    "crop",
    "needs_escapes",
    "parse_profile",
    "read_screen",
    "render_command",
    "render_env",
]

Span = tuple[int | None, int | None]

COST = r"(-?\$[\d,]+\.\d\d|unknown)"
"""A displayed dollar amount or the unpriced model's "unknown" (one capture group)."""

PLACEHOLDERS = frozenset({"python", "url", "session", "workdir", "password"})
"""What a command template may name, in braces: ``{url}``, ``{session}``, ..."""


class ProfileError(FreshnessError):
    """A profile that cannot be used; says which field is wrong and how to write it."""


def _span(value: Any, where: str) -> Span | None:
    if value is None:
        return None
    if (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and len(value) == 2
        and all(item is None or (isinstance(item, int) and not isinstance(item, bool))
                for item in value)
    ):
        return (value[0], value[1])
    raise ProfileError(
        f"{where}: expected [start, stop] (integers or null, negative counts from the end), "
        f"got {value!r}"
    )


@dataclass(frozen=True)
class ReadoutPattern:
    """Where one readout is on screen: a regex with one group, within an optional region.

    ``rows`` and ``columns`` are Python slices of the screen's lines and of each line (padded to
    the window width, so a negative column counts from the right edge however long the line).
    The regex is searched in the region's lines joined by newlines: inline flags such as ``(?s)``
    let it span a wrapped line. With ``escapes`` it is searched in the screen captured with its
    colour codes (only ``rows`` applies then, since escape codes take no columns on screen).
    """

    regex: str
    rows: Span | None = None
    columns: Span | None = None
    escapes: bool = False
    compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            compiled = re.compile(self.regex, re.MULTILINE)
        except re.error as error:
            raise ProfileError(f"regex {self.regex!r} does not compile: {error}") from None
        if compiled.groups != 1:
            raise ProfileError(
                f"regex {self.regex!r} has {compiled.groups} capture groups; write exactly one "
                "around the value (use (?:...) for any other group)"
            )
        object.__setattr__(self, "compiled", compiled)


@dataclass(frozen=True)
class TerminalProfile:
    """How to run one terminal program and read its readouts."""

    name: str
    command: tuple[str, ...]
    """The program and its arguments; ``{url}``, ``{python}``, ``{workdir}``, ... are filled in."""
    readouts: Mapping[str, ReadoutPattern]
    session_args: tuple[str, ...] = ()
    """Appended when a session is open, e.g. ``("--session", "{session}")``: a restart with
    them lands on the same session."""
    client_fix_args: tuple[str, ...] = ()
    """Appended when the target runs with the client fix (a program without one leaves it empty)."""
    env: Mapping[str, str] = field(default_factory=dict)
    ready: str | None = None
    """A regex the screen must match before it is read (a loaded marker), if the program has one."""
    ready_if_quiet: str | None = None
    """A weaker marker, accepted once the screen has stayed unchanged for ``ready_quiet``: what
    a screen that can never show ``ready`` looks like (an agent's session with no messages yet
    has no message marker to wait for)."""
    ready_quiet: float = 3.0
    startup_delay: float = 0.0
    """Seconds to wait after starting before the screen counts, for programs with no marker."""
    size: tuple[int, int] = (160, 45)
    quiet: float = 0.3
    """Seconds the screen must stay unchanged for the program to count as settled."""
    deadline: float = 5.0
    """Longest a settle waits; a screen that never stops changing is read then."""
    load_timeout: float = 30.0

    def __post_init__(self) -> None:
        if not self.command:
            raise ProfileError(f"profile {self.name!r}: command is empty")
        for field_name, marker in (("ready", self.ready), ("ready_if_quiet", self.ready_if_quiet)):
            if marker is None:
                continue
            try:
                re.compile(marker)
            except re.error as error:
                raise ProfileError(
                    f"profile {self.name!r}: {field_name} regex {marker!r} does not compile: "
                    f"{error}"
                ) from None
        for arg in (*self.command, *self.session_args, *self.client_fix_args, *self.env.values()):
            unknown = _placeholders(arg) - PLACEHOLDERS
            if unknown:
                raise ProfileError(
                    f"profile {self.name!r}: {arg!r} names {', '.join(sorted(unknown))}; "
                    f"known placeholders: {', '.join(sorted(PLACEHOLDERS))}"
                )


def _placeholders(template: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name}
    except ValueError as error:
        raise ProfileError(f"{template!r} is not a valid template: {error}") from None


def parse_profile(data: Mapping[str, Any]) -> TerminalProfile:
    """A profile from plain data (a YAML mapping), with errors that name the field.

    ``readouts`` maps a readout name to a regex string or to ``{regex, rows, columns, escapes}``.
    """
    name = str(data.get("name") or "terminal program")
    where = f"profile {name!r}"
    known = {
        "name", "command", "readouts", "session_args", "client_fix_args", "env", "ready",
        "ready_if_quiet", "ready_quiet", "startup_delay", "size", "quiet", "deadline",
        "load_timeout",
    }
    extra = sorted(set(data) - known)
    if extra:
        raise ProfileError(f"{where}: unknown field(s) {', '.join(extra)}; known: "
                           f"{', '.join(sorted(known))}")
    command = data.get("command")
    if isinstance(command, str) or not isinstance(command, Sequence) or not command:
        raise ProfileError(f"{where}: command must be a non-empty list of arguments")
    raw_readouts = data.get("readouts")
    if not isinstance(raw_readouts, Mapping) or not raw_readouts:
        raise ProfileError(f"{where}: readouts must map readout names to regexes")
    readouts: dict[str, ReadoutPattern] = {}
    for readout, spec in raw_readouts.items():
        at = f"{where}: readout {readout!r}"
        try:
            if isinstance(spec, str):
                readouts[str(readout)] = ReadoutPattern(spec)
            elif isinstance(spec, Mapping) and isinstance(spec.get("regex"), str):
                unknown = sorted(set(spec) - {"regex", "rows", "columns", "escapes"})
                if unknown:
                    raise ProfileError(f"unknown field(s) {', '.join(unknown)}")
                readouts[str(readout)] = ReadoutPattern(
                    spec["regex"],
                    rows=_span(spec.get("rows"), "rows"),
                    columns=_span(spec.get("columns"), "columns"),
                    escapes=bool(spec.get("escapes", False)),
                )
            else:
                raise ProfileError(
                    "expected a regex string or {regex: ..., rows: ..., columns: ...}"
                )
        except ProfileError as error:
            raise ProfileError(f"{at}: {error}") from None
    size = data.get("size", (160, 45))
    if not (
        isinstance(size, Sequence) and len(size) == 2 and all(isinstance(n, int) for n in size)
    ):
        raise ProfileError(f"{where}: size must be [columns, rows], got {size!r}")
    numbers: dict[str, float] = {}
    for key, default in (("startup_delay", 0.0), ("quiet", 0.3), ("deadline", 5.0),
                         ("load_timeout", 30.0), ("ready_quiet", 3.0)):
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ProfileError(f"{where}: {key} must be a number of seconds >= 0, got {value!r}")
        numbers[key] = float(value)
    env = data.get("env") or {}
    if not isinstance(env, Mapping):
        raise ProfileError(f"{where}: env must map variable names to values")
    return TerminalProfile(
        name=name,
        command=tuple(str(arg) for arg in command),
        readouts=readouts,
        session_args=tuple(str(arg) for arg in data.get("session_args") or ()),
        client_fix_args=tuple(str(arg) for arg in data.get("client_fix_args") or ()),
        env={str(key): str(value) for key, value in env.items()},
        ready=data.get("ready"),
        ready_if_quiet=data.get("ready_if_quiet"),
        size=(size[0], size[1]),
        **numbers,
    )


def render_command(
    profile: TerminalProfile,
    values: Mapping[str, str],
    *,
    session: str | None,
    client_fix: bool,
) -> list[str]:
    """The argv to run: the command, then the session and client-fix arguments that apply."""
    template = [*profile.command]
    if session is not None:
        template += profile.session_args
    if client_fix:
        template += profile.client_fix_args
    filled = {**values, "session": session or ""}
    try:
        return [arg.format_map(filled) for arg in template]
    except KeyError as error:
        raise ProfileError(
            f"profile {profile.name!r} needs {{{error.args[0]}}}, which this target does not give"
        ) from None


def render_env(profile: TerminalProfile, values: Mapping[str, str]) -> dict[str, str]:
    try:
        return {key: value.format_map(values) for key, value in profile.env.items()}
    except KeyError as error:
        raise ProfileError(
            f"profile {profile.name!r} env needs {{{error.args[0]}}}, "
            "which this target does not give"
        ) from None


def crop(screen: str, rows: Span | None, columns: Span | None, width: int) -> str:
    """The region of a captured screen: a slice of its lines, and of each line padded to width."""
    lines = screen.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # capture-pane ends with a newline
    if rows is not None:
        lines = lines[rows[0] : rows[1]]
    if columns is not None:
        lines = [line.ljust(width)[columns[0] : columns[1]] for line in lines]
    return "\n".join(lines)


def read_screen(
    profile: TerminalProfile, screen: str, escaped: str | None = None
) -> dict[str, str | None]:
    """Every readout the profile declares, from one captured screen (None where none matches)."""
    width = profile.size[0]
    values: dict[str, str | None] = {}
    for readout, pattern in profile.readouts.items():
        if pattern.escapes:
            region = crop(escaped if escaped is not None else screen, pattern.rows, None, width)
        else:
            region = crop(screen, pattern.rows, pattern.columns, width)
        found = pattern.compiled.search(region)
        values[readout] = found.group(1).strip() if found else None
    return values


def needs_escapes(profile: TerminalProfile) -> bool:
    return any(pattern.escapes for pattern in profile.readouts.values())


# The reference TUI (reference_app/tui): sessions panel 30 columns on the left, sidebar 30
# columns on the right, the prompt box (3 rows) and the status line (1 row) at the bottom.
_BODY: Span = (1, -4)
_SIDEBAR: Span = (-30, None)
_SESSIONS: Span = (0, 30)
_STATUS: Span = (-1, None)

REFERENCE_TUI_PROFILE = TerminalProfile(
    name="reference-tui",
    command=("{python}", "-m", "reference_app.tui", "--url", "{url}"),
    session_args=("--session", "{session}"),
    client_fix_args=("--client-fix",),
    env={"FRESHNESS_TUI_PASSWORD": "{password}"},
    ready=r"● live",
    # Measured event-to-screen latency of this subprocess reaches ~0.35 s on a loaded 2-core
    # machine; the quiet period must outlast it or a checkpoint reads the screen too early.
    quiet=0.5,
    readouts={
        "sidebar.tokens": ReadoutPattern(r"([\d,]+) tokens", rows=_BODY, columns=_SIDEBAR),
        "sidebar.percent": ReadoutPattern(r"(\d+%|—) used", rows=_BODY, columns=_SIDEBAR),
        "sidebar.cost": ReadoutPattern(COST + r" spent", rows=_BODY, columns=_SIDEBAR),
        # The open session is the entry marked ▸; its cost is the last amount on that line.
        "sessions.cost": ReadoutPattern(r"▸.*\s" + COST + r"\s*│", rows=_BODY, columns=_SESSIONS),
        "footer.tokens": ReadoutPattern(r"tokens ([\d,]+)", rows=_STATUS),
        "footer.cost": ReadoutPattern(r"cost " + COST, rows=_STATUS),
    },
)
