"""DOM-text and PNG snapshots of the page at the mid-turn checkpoints of
scenarios/core/three-step-turn.yaml, in fix modes none and both.

Baselines live in __snapshots__/ beside this file; `--snapshot-update` rewrites both kinds. The
page shows no clock and no ids, and Date is pinned anyway, so the images are stable byte for
byte on one machine kind; the PNG comparison still allows a little anti-aliasing noise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.async_api import Browser, Page
from syrupy.assertion import SnapshotAssertion

from tests.reference_app.web.web_helpers import (
    AFTER_STEP,
    THREE_STEPS,
    open_page,
    page_url,
    readouts,
    wait_text,
)

FROZEN_CLOCK_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z

AgentFactory = Callable[..., Any]


async def _wait_drawn(page: Page, step: int) -> None:
    """The checkpoint after `step` (0-based) is on screen: its tokens shown, its tool finished,
    the next step's request held at the gate (nothing more will arrive), and two frames drawn."""
    await wait_text(page, "sidebar.tokens", AFTER_STEP[step][0])
    await page.wait_for_function(
        "count => document.querySelectorAll('.tool-status.status-completed').length === count",
        arg=step + 1,
    )
    await page.evaluate(
        "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
    )


async def _dom_text(page: Page) -> dict[str, Any]:
    return {
        "readouts": await readouts(page),
        "header": await page.inner_text(".conversation-header"),
        "sessions": await page.inner_text("#session-list"),
        "transcript": await page.inner_text("#transcript"),
        "status_line": await page.inner_text(".status-line"),
    }


@pytest.mark.parametrize("mode", ["none", "both"])
async def test_mid_turn_snapshots(
    mode: str,
    chromium: Browser,
    agent_factory: AgentFactory,
    snapshot: SnapshotAssertion,
    png_snapshot: SnapshotAssertion,
) -> None:
    fixed = mode == "both"
    agent = await agent_factory(server_fix=fixed)
    session = await agent.new_session("Fix the parser")
    page = await open_page(
        chromium, page_url(agent, session, client_fix=fixed), clock_ms=FROZEN_CLOCK_MS
    )
    first = await agent.prompt(session, "Fix the failing parser test", THREE_STEPS)
    for step in (0, 1):  # the two checkpoints where the turn is still running
        await agent.release(first + step)
        await _wait_drawn(page, step)
        assert await _dom_text(page) == snapshot(name=f"step-{step + 1}-dom")
        image = await page.screenshot(animations="disabled", caret="hide")
        assert image == png_snapshot(name=f"step-{step + 1}")


def _png(color: tuple[int, int, int], changed: int = 0) -> bytes:
    """A 100x100 PNG of one color with `changed` pixels of the first row turned white."""
    import io

    from PIL import Image

    image = Image.new("RGB", (100, 100), color)
    for x in range(changed):
        image.putpixel((x, 0), (255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_png_comparison_tolerates_noise_and_writes_a_diff_on_failure(tmp_path: Any) -> None:
    from tests.reference_app.web.conftest import TolerantPNGExtension

    class Extension(TolerantPNGExtension):
        diff_dir = tmp_path
        label = "probe"

    baseline = _png((10, 20, 30))
    extension = Extension()
    assert extension.matches(serialized_data=baseline, snapshot_data=baseline)
    # Ten pixels of 10,000 (0.1%) may differ; a small shift in shade is not a difference.
    assert extension.matches(serialized_data=_png((10, 20, 30), changed=10), snapshot_data=baseline)
    assert extension.matches(serialized_data=_png((20, 30, 40)), snapshot_data=baseline)
    assert not extension.matches(
        serialized_data=_png((10, 20, 30), changed=11), snapshot_data=baseline
    )
    written = sorted(path.name for path in tmp_path.iterdir())
    assert written == ["probe-1.actual.png", "probe-1.diff.png", "probe-1.expected.png"]
    report = "\n".join(extension.diff_lines(b"", b""))
    assert "11 of 10000 pixels differ" in report
    assert "probe-1.diff.png" in report
    assert "--snapshot-update" in report
