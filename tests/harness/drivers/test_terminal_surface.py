"""The terminal surface end to end, in a real tmux: a clear failure without tmux, a private server
that runs a program, takes keys, shows its screen and leaves nothing behind; a program that dies
while starting; the reference TUI as a real subprocess read live, after a restart and by a second
copy; and the same verdicts as the store surface on the shipped scenario.

tmux missing is a failure with the install command, never a skip."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from harness.drivers.base import TargetInfo
from harness.drivers.terminal import TerminalSurface
from harness.drivers.terminal_profile import ReadoutPattern, TerminalProfile
from harness.drivers.tmux import TerminalUnavailableError, Tmux, tmux_executable
from harness.errors import TargetError
from harness.runner import SURFACE_FACTORIES, run_scenario
from harness.scenario.loader import load_scenario
from harness.verdict import Status
from tests.reference_app.tui.tui_helpers import (
    AFTER_STEP,
    THREE_STEP_TURN,
    Agent,
    start_agent,
)


@pytest.fixture
def needs_tmux() -> None:
    try:
        tmux_executable()
    except TerminalUnavailableError as error:
        pytest.fail(str(error), pytrace=False)


def test_missing_tmux_is_one_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(TerminalUnavailableError) as raised:
        tmux_executable()
    assert "apt-get install -y tmux" in str(raised.value)
    assert "\n" not in str(raised.value)


async def test_attach_without_tmux_fails_before_starting_anything(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    surface = TerminalSurface()
    with pytest.raises(TerminalUnavailableError, match="tmux"):
        await surface.attach(TargetInfo("http://127.0.0.1:9", False, {}))
    await surface.close()


def test_terminal_is_registered_with_the_reference_tui_profile(needs_tmux: None) -> None:
    surface = SURFACE_FACTORIES["terminal"]()
    assert surface.name == "terminal"
    assert surface.readouts == (
        "sidebar.tokens", "sidebar.percent", "sidebar.cost", "sessions.cost",
        "footer.tokens", "footer.cost",
    )


async def _until(predicate: object, what: str, timeout: float = 20.0) -> None:
    assert callable(predicate)
    give_up = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < give_up, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def _exists(path: str) -> bool:
    return Path(path).exists()


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.usefixtures("needs_tmux")
async def test_private_tmux_runs_a_program_takes_keys_and_leaves_nothing() -> None:
    tmux = Tmux()
    echo = "import sys\nprint('ready', flush=True)\nfor line in sys.stdin: print('got', line.strip(), flush=True)"
    await tmux.new_session("echo", [sys.executable, "-c", echo], size=(80, 10))
    try:
        await _until(lambda: _contains(tmux, "ready"), "the program to start")
        await tmux.send_text("echo", "héllo — $0.05")
        await tmux.send_keys("echo", "Enter")
        await _until(lambda: _contains(tmux, "got héllo — $0.05"), "the typed line to echo")
        screen = await tmux.capture("echo")
        assert len(screen.splitlines()) == 10  # the size asked for, no status bar
        pid = int((await tmux.run("display-message", "-p", "-t", "echo", "#{pane_pid}")).strip())
        server_pid = int((await tmux.run("display-message", "-p", "#{pid}")).strip())
        assert _exists(tmux.socket)
    finally:
        await tmux.kill_server()
    await _until(lambda: _async(_gone(pid) and _gone(server_pid)), "tmux and the program to end")
    assert not _exists(tmux.socket)
    assert not _exists(str(Path(tmux.socket).parent))
    await tmux.kill_server()  # twice is harmless


async def _async(value: bool) -> bool:
    return value


async def _contains(tmux: Tmux, text: str) -> bool:
    return text in await tmux.capture("echo")


@pytest.mark.usefixtures("needs_tmux")
async def test_a_program_that_dies_while_starting_shows_its_last_screen() -> None:
    profile = TerminalProfile(
        name="crashing-agent",
        command=("{python}", "-c", "print('boom: no such session'); raise SystemExit(3)"),
        readouts={"sidebar.cost": ReadoutPattern(r"(\$[\d.]+) spent")},
        ready=r"never shown",
        load_timeout=20,
    )
    surface = TerminalSurface(profile)
    await surface.attach(TargetInfo("http://127.0.0.1:9", False, {}))
    try:
        with pytest.raises(TargetError, match=r"crashing-agent exited while starting") as raised:
            await surface.show("ses_1")
        assert "boom: no such session" in str(raised.value)
    finally:
        await surface.close()


def _quiet_program(script: str) -> TerminalProfile:
    return TerminalProfile(
        name="empty-session",
        command=("{python}", "-c", script),
        readouts={"sidebar.cost": ReadoutPattern(r"(\$[\d.]+) spent")},
        ready=r"never shown",
        ready_if_quiet=r"spent",
        ready_quiet=0.5,
        quiet=0.1,
        load_timeout=4,
    )


@pytest.mark.usefixtures("needs_tmux")
async def test_a_screen_that_never_shows_the_marker_is_read_once_it_stays_quiet() -> None:
    surface = TerminalSurface(
        _quiet_program("import time\nprint('$0.00 spent', flush=True)\ntime.sleep(60)")
    )
    await surface.attach(TargetInfo("http://127.0.0.1:9", False, {}))
    try:
        await surface.show("ses_1")
        assert (await surface.read_live())["sidebar.cost"].shown == "$0.00"
    finally:
        await surface.close()


@pytest.mark.usefixtures("needs_tmux")
async def test_the_weak_marker_on_a_screen_still_changing_is_not_ready() -> None:
    ticking = "import time\nfor n in range(600):\n    print(n, '$0.00 spent', flush=True); time.sleep(0.1)"
    surface = TerminalSurface(_quiet_program(ticking))
    await surface.attach(TargetInfo("http://127.0.0.1:9", False, {}))
    try:
        with pytest.raises(TargetError, match=r"empty-session did not show"):
            await surface.show("ses_1")
    finally:
        await surface.close()


@pytest.fixture
async def agent(tmp_path: Path) -> AsyncIterator[Agent]:
    running = await asyncio.to_thread(start_agent, tmp_path / "agent", server_fix=False)
    yield running
    await asyncio.to_thread(running.stop)


@pytest.mark.usefixtures("needs_tmux")
@pytest.mark.timeout(240)
async def test_reference_tui_as_a_subprocess_live_reload_and_fresh_copy(agent: Agent) -> None:
    surface = TerminalSurface()
    await surface.attach(TargetInfo(agent.base_url, False, agent.context_limits))
    try:
        session = await asyncio.to_thread(agent.create_session)
        await surface.show(session)
        await surface.settle()
        before = await surface.read_live()
        assert before["sidebar.cost"].shown == "$0.00", await surface.screen()
        assert before["sidebar.percent"].shown == "—"

        first = await agent.prompt(session)
        await agent.step(first)
        await surface.settle()
        live = await surface.read_live()
        sent = next(s for s in agent.model.sent if s.step_index == first)
        assert live["sidebar.tokens"].shown == AFTER_STEP[0][0]
        assert live["sidebar.percent"].shown == AFTER_STEP[0][1]
        tokens_at = live["sidebar.tokens"].changed_at
        assert tokens_at is not None
        assert sent.t < tokens_at < time.monotonic()
        # The bug, read off a real terminal: cost frozen since the program loaded.
        for name in ("sidebar.cost", "sessions.cost", "footer.cost"):
            assert live[name].shown == "$0.00"
            stamp = live[name].changed_at
            assert stamp is not None
            assert stamp < sent.t

        expected = {
            "sidebar.tokens": "13,000", "sidebar.percent": "13%", "sidebar.cost": "$0.05",
            "sessions.cost": "$0.05", "footer.tokens": "13,000", "footer.cost": "$0.05",
        }
        assert await surface.read_reload() == expected
        assert "fresh-1" not in await surface.tmux.run("list-sessions", "-F", "#{session_name}")

        await surface.reload()
        await surface.settle()
        after = await surface.read_live()
        assert {name: value.shown for name, value in after.items()} == expected
        assert "--session" in " ".join(surface.command(session))
        socket = surface.tmux.socket
    finally:
        await surface.close()
    assert not _exists(socket)


@pytest.mark.usefixtures("needs_tmux")
@pytest.mark.timeout(600)
async def test_same_verdict_and_values_as_the_store_on_the_shipped_scenario(
    tmp_path: Path,
) -> None:
    loaded = load_scenario(THREE_STEP_TURN)
    result = await run_scenario(
        loaded, "none", surfaces=("store", "terminal"), runs_dir=tmp_path / "runs"
    )
    assert result.history.error is None
    assert {name: v.status for name, v in result.verdict.surfaces.items()} == {
        "store": Status.CAUGHT,
        "terminal": Status.CAUGHT,
    }
    assert not [a for a in result.anomalies if a.code == "SURFACE-DISAGREE"]
    for checkpoint in result.history.checkpoints:
        store, terminal = checkpoint.readings["store"], checkpoint.readings["terminal"]
        for name, reading in store.items():
            assert (terminal[name].live, terminal[name].reload) == (reading.live, reading.reload), (
                f"checkpoint {checkpoint.index} ({checkpoint.label}): {name}"
            )


@pytest.mark.usefixtures("needs_tmux")
async def test_the_program_sees_the_pane_size_not_the_harness_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # pytest-xdist workers carry COLUMNS=80 LINES=24; a program that inherited them drew an
    # 80x24 screen inside the 160x45 pane and no sidebar regex matched.
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("LINES", "24")
    tmux = Tmux()
    size = "import shutil, time; print('size', *shutil.get_terminal_size(), flush=True); time.sleep(30)"
    await tmux.new_session("echo", [sys.executable, "-c", size], size=(160, 45))
    try:
        await _until(lambda: _contains(tmux, "size"), "the program to print its size")
        assert "size 160 45" in await tmux.capture("echo")
    finally:
        await tmux.kill_server()
