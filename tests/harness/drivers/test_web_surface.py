"""The web surface: a clear error without a browser, its clock conversion, live/reload/settle
against the real agent in a real Chromium, and the same verdicts and values as the store surface
on the shipped scenario in every fix mode."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from harness.drivers.base import TargetInfo
from harness.drivers.web import (
    BrowserUnavailableError,
    WebSurface,
    chromium_executable,
    epoch_to_monotonic,
)
from harness.runner import SURFACE_FACTORIES, run_scenario
from harness.scenario.loader import load_scenario
from harness.verdict import Status
from tests.reference_app.web.web_helpers import (
    AFTER_STEP,
    MODEL_ID,
    THREE_STEPS,
    Agent,
    start_agent,
    stop_agent,
)

SCENARIO = Path(__file__).parents[3] / "scenarios" / "core" / "three-step-turn.yaml"


@pytest.fixture
def needs_chromium() -> None:
    # A missing browser fails here with the install command; it is never a skip.
    try:
        chromium_executable()
    except BrowserUnavailableError as error:
        missing = str(error)
    else:
        return
    pytest.fail(missing, pytrace=False)


def test_missing_browser_is_one_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CHROMIUM_PATH", str(tmp_path / "no-such-chromium"))
    with pytest.raises(BrowserUnavailableError, match="apt-get install chromium"):
        chromium_executable()
    monkeypatch.delenv("CHROMIUM_PATH")
    monkeypatch.setattr("harness.drivers.web._CANDIDATES", (str(tmp_path / "nothing"),))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BrowserUnavailableError) as raised:
        chromium_executable()
    message = str(raised.value)
    assert "apt-get update && apt-get install -y chromium" in message
    assert "CHROMIUM_PATH" in message
    assert "\n" not in message


async def test_missing_browser_fails_attach_before_launching(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CHROMIUM_PATH", str(tmp_path / "no-such-chromium"))
    surface = WebSurface()
    with pytest.raises(BrowserUnavailableError, match="CHROMIUM_PATH"):
        await surface.attach(TargetInfo("http://127.0.0.1:9", False, {}))
    await surface.close()


def test_page_epoch_stamps_convert_to_the_monotonic_clock() -> None:
    wall, mono = 1_800_000_000.0, 5_000.0
    assert epoch_to_monotonic(1_800_000_000_000.0, now_wall=wall, now_monotonic=mono) == mono
    assert epoch_to_monotonic(1_799_999_999_750.0, now_wall=wall, now_monotonic=mono) == 4_999.75


def test_web_is_registered_lazily() -> None:
    surface = SURFACE_FACTORIES["web"]()
    assert surface.name == "web"
    assert surface.readouts == (
        "sidebar.tokens", "sidebar.percent", "sidebar.cost", "sessions.cost",
        "footer.tokens", "footer.cost",
    )


@pytest.fixture
async def agent(tmp_path: Path) -> AsyncIterator[Agent]:
    running = await start_agent(tmp_path / "agent", server_fix=False)
    yield running
    await stop_agent(running)


@pytest.mark.usefixtures("needs_chromium")
async def test_live_reload_and_staleness_against_the_real_page(agent: Agent) -> None:
    surface = WebSurface()
    await surface.attach(TargetInfo(agent.base_url, client_fix=False,
                                    context_limits={MODEL_ID: 100_000}))
    try:
        session = await agent.new_session()
        await surface.show(session)
        first = await agent.prompt(session, "Fix the failing parser test", THREE_STEPS)
        await agent.release(first)
        await surface.settle()
        live = await surface.read_live()
        sent = next(s for s in agent.model.sent if s.step_index == first)
        tokens = live["sidebar.tokens"]
        assert tokens.shown == AFTER_STEP[0][0]
        assert tokens.changed_at is not None
        # Shown after the usage left the model server, and before we read it.
        assert sent.t < tokens.changed_at < time.monotonic()
        assert live["sidebar.cost"].shown == "$0.00"
        assert live["sidebar.cost"].changed_at is not None
        assert live["sidebar.cost"].changed_at < sent.t  # frozen: it last moved at load
        assert await surface.read_reload() == {
            "sidebar.tokens": "13,000", "sidebar.percent": "13%", "sidebar.cost": "$0.05",
            "sessions.cost": "$0.05", "footer.tokens": "13,000", "footer.cost": "$0.05",
        }
        await surface.reload()
        await surface.settle()
        after = await surface.read_live()
        assert {name: value.shown for name, value in after.items()} == (
            await surface.read_reload()
        )
        assert surface.dialogs == []
        assert surface.page_errors == []
    finally:
        await surface.close()


@pytest.mark.usefixtures("needs_chromium")
@pytest.mark.parametrize(
    ("mode", "expected"),
    [("none", Status.CAUGHT), ("client", Status.CAUGHT), ("server", Status.PASS),
     ("both", Status.PASS)],
)
async def test_web_gives_the_store_verdict_and_values(
    mode: str, expected: Status, tmp_path: Path
) -> None:
    loaded = load_scenario(SCENARIO)
    result = await run_scenario(loaded, mode, surfaces=("store", "web"),  # type: ignore[arg-type]
                                runs_dir=tmp_path)
    assert result.history.error is None
    assert result.verdict.surfaces["store"].status is expected
    assert result.verdict.surfaces["web"].status is expected
    assert not [a for a in result.anomalies if a.code == "SURFACE-DISAGREE"]
    for checkpoint in result.history.checkpoints:
        store, web = checkpoint.readings["store"], checkpoint.readings["web"]
        for name, reading in store.items():
            assert (web[name].live, web[name].reload) == (reading.live, reading.reload), (
                f"cp {checkpoint.index} {name}"
            )
    web_latencies = [
        reading.latency_ms
        for checkpoint in result.history.checkpoints
        for reading in checkpoint.readings["web"].values()
        if reading.latency_ms is not None
    ]
    assert web_latencies, "the web surface measured no staleness"
    assert all(latency > 0 for latency in web_latencies)


@pytest.mark.usefixtures("needs_chromium")
async def test_the_browser_leaves_the_users_home_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Chromium writes crash reports and dconf settings under HOME even with a temporary profile.
    home = tmp_path / "user-home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    surface = WebSurface()
    run_folder = tmp_path / "run"
    try:
        await surface.attach(TargetInfo("http://127.0.0.1:9", client_fix=False, context_limits={},
                                        workdir=str(run_folder)))
    finally:
        await surface.close()

    assert list(home.iterdir()) == []
    assert (run_folder / "browser-home").is_dir()


@pytest.mark.usefixtures("needs_chromium")
async def test_the_page_rounds_a_float_noisy_total_as_the_store_does(tmp_path: Path) -> None:
    # The server's SQL sum is 0.004999999999999999 for $0.005: the page's formatter must round
    # it to the nano-dollar first, as the store's does, or web shows $0.00 beside store's $0.01.
    loaded = load_scenario(SCENARIO.parents[1] / "library" / "half-cent-float-total.yaml")
    result = await run_scenario(loaded, "both", surfaces=("store", "web"), runs_dir=tmp_path)

    assert result.history.error is None
    assert result.verdict.ok, result.anomalies
    last = result.history.checkpoints[-1].readings
    for surface in ("store", "web"):
        for name in ("sidebar.cost", "sessions.cost", "footer.cost"):
            if name in last[surface]:
                assert (last[surface][name].live, last[surface][name].reload) == ("$0.01",) * 2


@pytest.mark.usefixtures("needs_chromium")
async def test_a_password_protected_server_is_read_with_its_password(tmp_path: Path) -> None:
    agent = await start_agent(tmp_path / "locked", server_fix=True, password="s3cret")
    surface = WebSurface()
    try:
        await surface.attach(TargetInfo(agent.base_url, client_fix=False,
                                        context_limits={MODEL_ID: 100_000}, password="s3cret"))
        session = await agent.new_session()
        await surface.show(session)
        first = await agent.prompt(session, "Fix the failing parser test", THREE_STEPS)
        await agent.release(first)
        await surface.settle()
        live = await surface.read_live()
        # The event stream is behind the password too: a live cost proves it was followed.
        assert live["sidebar.cost"].shown == "$0.05"
        assert live["sessions.cost"].shown == "$0.05"
    finally:
        await surface.close()
        await stop_agent(agent)
