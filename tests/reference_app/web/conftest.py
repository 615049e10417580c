"""Fixtures for the web page: a real Chromium (never skipped when missing), a real agent server
and scripted model on loopback, and a PNG snapshot extension with a pixel tolerance.

Chromium missing is a failure with the install command, in CI and outside it alike: a skipped
browser test is a test that silently stopped guarding anything.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from PIL import Image, ImageChops
from playwright.async_api import Browser, async_playwright
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.image import PNGImageSnapshotExtension

from harness.drivers.web import CHROMIUM_ARGS, BrowserUnavailableError, chromium_executable
from tests.reference_app.web.web_helpers import Agent, start_agent, stop_agent


@pytest.fixture(scope="session")
def chromium_path() -> str:
    try:
        return chromium_executable()
    except BrowserUnavailableError as error:
        missing = str(error)
    # Failed outside the except block, so the report is the one message, not a chained traceback.
    pytest.fail(missing, pytrace=False)


@pytest.fixture
async def chromium(chromium_path: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium_path, args=list(CHROMIUM_ARGS), headless=True
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def agent_factory(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    started: list[Agent] = []

    async def start(*, server_fix: bool = False) -> Agent:
        agent = await start_agent(tmp_path / f"agent-{len(started)}", server_fix=server_fix)
        started.append(agent)
        return agent

    yield start
    for agent in started:
        await stop_agent(agent)


# --- PNG snapshots with a tolerance ---------------------------------------------------------


class TolerantPNGExtension(PNGImageSnapshotExtension):
    """Byte-equal PNGs match at once; otherwise they match when at most ``max_fraction`` of the
    pixels differ by more than ``channel_tolerance`` in any channel (anti-aliasing noise between
    machines). A mismatch writes actual, expected and a diff image (differing pixels red over
    a dimmed copy of the expected) to ``diff_dir`` and names them in the failure."""

    channel_tolerance: ClassVar[int] = 16
    max_fraction: ClassVar[float] = 0.001
    diff_dir: ClassVar[Path] = Path(".freshness/snapshot-diffs")
    label: ClassVar[str] = "snapshot"

    def __init__(self) -> None:
        super().__init__()
        self._explanations: list[str] = []

    def matches(self, *, serialized_data: Any, snapshot_data: Any) -> bool:
        if serialized_data == snapshot_data:
            return True
        actual = Image.open(io.BytesIO(serialized_data)).convert("RGB")
        expected = Image.open(io.BytesIO(snapshot_data)).convert("RGB")
        if actual.size != expected.size:
            self._explain(actual, expected, None, f"size {actual.size} != baseline {expected.size}")
            return False
        delta = ImageChops.difference(actual, expected)
        mask = delta.convert("L").point(lambda value: 255 if value > self.channel_tolerance else 0)
        histogram = mask.histogram()
        differing = histogram[255]
        total = actual.size[0] * actual.size[1]
        if differing <= self.max_fraction * total:
            return True
        self._explain(
            actual, expected, mask,
            f"{differing} of {total} pixels differ by more than {self.channel_tolerance} "
            f"(allowed: {int(self.max_fraction * total)})",
        )
        return False

    def _explain(
        self, actual: Image.Image, expected: Image.Image, mask: Image.Image | None, why: str
    ) -> None:
        self.diff_dir.mkdir(parents=True, exist_ok=True)
        stem = self.diff_dir / f"{self.label}-{len(self._explanations) + 1}"
        actual.save(f"{stem}.actual.png")
        expected.save(f"{stem}.expected.png")
        written = [f"{stem}.actual.png", f"{stem}.expected.png"]
        if mask is not None:
            diff = Image.blend(expected.convert("L").convert("RGB"), Image.new("RGB", expected.size), 0.6)
            diff.paste((255, 0, 0), mask=mask)
            diff.save(f"{stem}.diff.png")
            written.append(f"{stem}.diff.png")
        self._explanations.append(f"{why}; wrote {', '.join(written)}")

    def diff_lines(self, serialized_data: Any, snapshot_data: Any) -> Iterator[str]:
        yield from self._explanations or ["PNG differs from its baseline"]
        yield "rerun with --snapshot-update to accept the new image"


@pytest.fixture
def png_snapshot(snapshot: SnapshotAssertion, request: pytest.FixtureRequest) -> SnapshotAssertion:
    label = request.node.name.replace("[", "-").replace("]", "").replace("/", "-")
    bound = type(
        "BoundTolerantPNGExtension",
        (TolerantPNGExtension,),
        {"diff_dir": Path(request.config.rootpath) / ".freshness" / "snapshot-diffs", "label": label},
    )
    return snapshot.use_extension(bound)
