"""The web surface: the reference agent's page in a real Chromium, driven by Playwright.

Live is one page opened at ``{base_url}/?session=…&client_fix=…`` that bootstrapped once and has
followed ``/event`` since; reload is ``page.reload()``, exactly what a person does; the oracle
(``read_reload``) is a second page loaded from scratch and closed after reading.

Readouts are read by element id. Timing is measured inside the page: a probe script, installed
before any page script runs, keeps a MutationObserver on the document that stamps (epoch
milliseconds, ``performance.timeOrigin + performance.now()``) when each readout's text last
changed, and when anything at all last changed or an event last arrived. Settling waits until the
page is live and that activity has been quiet for a short period, counted from the moment settling
began, so an event still in flight gets its chance to land. Stamps are converted to the harness's
``time.monotonic()`` clock, which the model server's send times also use.

Playwright cannot download its own browser here, so Debian's Chromium is launched by path.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from playwright.async_api import (
    Browser,
    BrowserContext,
    Dialog,
    HttpCredentials,
    Page,
    Playwright,
    ViewportSize,
    async_playwright,
)
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from harness.drivers.base import LiveValue, TargetInfo
from harness.errors import FreshnessError

__all__ = [
    "CHROMIUM_ARGS",
    "READY_SELECTOR",
    "BrowserUnavailableError",
    "WebSurface",
    "browser_env",
    "chromium_executable",
    "epoch_to_monotonic",
]

# Flags measured on this machine kind (TOOLCHAIN.md): no sandbox in containers, nothing that
# phones home or updates itself while a run is being timed.
CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)

# /usr/lib/chromium/chromium is the binary itself; /usr/bin/chromium is Debian's wrapper script,
# which works too but prints a warning.
_CANDIDATES: tuple[str, ...] = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")

READY_SELECTOR = '#app[data-connection="live"]'

_READOUTS: tuple[str, ...] = (
    "sidebar.tokens",
    "sidebar.percent",
    "sidebar.cost",
    "sessions.cost",
    "footer.tokens",
    "footer.cost",
)

# Installed with add_init_script, so it runs in every document before the page's own scripts and
# survives reloads. It only watches: it changes nothing the page does, except wrapping
# EventSource to note when a message arrives (activity that may not touch the DOM).
_PROBE = """
(() => {
  if (window.__freshnessProbe) return;
  const names = __READOUT_NAMES__;
  const stamp = () => performance.timeOrigin + performance.now();
  const probe = { lastActivity: performance.now(), events: 0, texts: {}, changedAt: {} };
  probe.check = () => {
    for (const name of names) {
      const node = document.getElementById(name);
      const text = node ? node.textContent : null;
      if (!(name in probe.texts) || probe.texts[name] !== text) {
        probe.texts[name] = text;
        probe.changedAt[name] = stamp();
      }
    }
  };
  Object.defineProperty(window, "__freshnessProbe", { value: probe });
  const NativeEventSource = window.EventSource;
  window.EventSource = class extends NativeEventSource {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", () => {
        probe.events += 1;
        probe.lastActivity = performance.now();
      });
    }
  };
  new MutationObserver(() => {
    probe.lastActivity = performance.now();
    probe.check();
  }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
})();
""".replace("__READOUT_NAMES__", json.dumps(list(_READOUTS)))

_READ = """
() => {
  const probe = window.__freshnessProbe;
  probe.check();
  return { texts: probe.texts, changedAt: probe.changedAt };
}
"""

_QUIET = """
([quiet, since]) => {
  const app = document.getElementById("app");
  if (!app || app.dataset.connection !== "live") return false;
  const probe = window.__freshnessProbe;
  return performance.now() - Math.max(since, probe.lastActivity) >= quiet;
}
"""


class BrowserUnavailableError(FreshnessError):
    """Chromium is missing or would not start; says how to install it."""


def browser_env(workdir: Path) -> dict[str, str | float | bool]:
    """The browser's environment: the user's, with a home of its own in the run's folder.
    Chromium writes its crash-report database and dconf settings under HOME and the XDG
    folders even with a temporary profile; a run must leave the user's home untouched."""
    home = (workdir / "browser-home").resolve()
    for sub in (".config", ".cache"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
    }


def chromium_executable() -> str:
    """The Chromium to launch: $CHROMIUM_PATH, else Debian's build; raises with the fix."""
    given = os.environ.get("CHROMIUM_PATH")
    if given:
        if Path(given).is_file() and os.access(given, os.X_OK):
            return given
        raise BrowserUnavailableError(
            f"CHROMIUM_PATH={given!r} is not an executable file; point it at a Chromium binary "
            "or unset it to use Debian's (`apt-get install chromium`)"
        )
    for candidate in _CANDIDATES:
        if Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("chromium")
    if found:
        return found
    raise BrowserUnavailableError(
        "the web surface needs Chromium and none was found (looked for $CHROMIUM_PATH, "
        f"{', '.join(_CANDIDATES)}, chromium on PATH); install it with "
        "`apt-get update && apt-get install -y chromium`, or set CHROMIUM_PATH"
    )


def epoch_to_monotonic(epoch_ms: float, *, now_wall: float, now_monotonic: float) -> float:
    """A page timestamp (epoch ms) on the harness's monotonic clock, via one paired reading."""
    return now_monotonic - (now_wall - epoch_ms / 1000.0)


class WebSurface:
    name = "web"
    readouts: tuple[str, ...] = _READOUTS

    def __init__(
        self,
        quiet: float = 0.05,
        deadline: float = 3.0,
        *,
        viewport: tuple[int, int] = (1280, 800),
        load_timeout: float = 15.0,
    ) -> None:
        self._quiet = quiet
        self._deadline = deadline
        self._viewport = ViewportSize(width=viewport[0], height=viewport[1])
        self._load_timeout_ms = load_timeout * 1000
        self._target: TargetInfo | None = None
        self._session: str | None = None
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._context: BrowserContext | None = None
        self._page: Page | None = None
        self.dialogs: list[str] = []
        """Messages of any alert/confirm/prompt a page opened (there should never be one)."""
        self.page_errors: list[str] = []
        """Uncaught exceptions and console errors from any page this surface opened."""

    # ---- lifecycle --------------------------------------------------------------------------

    async def attach(self, target: TargetInfo) -> None:
        self._target = target
        executable = chromium_executable()
        self._playwright = await async_playwright().start()
        try:
            self._browser = await self._playwright.chromium.launch(
                executable_path=executable, args=list(CHROMIUM_ARGS), headless=True,
                env=browser_env(Path(target.workdir)),
            )
        except PlaywrightError as error:
            await self._playwright.stop()
            self._playwright = None
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else "no detail"
            raise BrowserUnavailableError(
                f"Chromium at {executable} would not start ({first_line}); reinstall it with "
                "`apt-get install --reinstall chromium`, or set CHROMIUM_PATH"
            ) from None
        credentials = (
            HttpCredentials(username="opencode", password=target.password)
            if target.password
            else None
        )
        self._context = await self._browser.new_context(
            viewport=self._viewport, http_credentials=credentials, device_scale_factor=1
        )
        await self._context.add_init_script(_PROBE)

    async def close(self) -> None:
        if self._context is not None:
            await self._context.close()
        if self._browser is not None:
            await self._browser.close()
        if self._playwright is not None:
            await self._playwright.stop()
        self._context = self._browser = self._playwright = None
        self._page = None

    # ---- pages ------------------------------------------------------------------------------

    @property
    def page(self) -> Page:
        """The live page (for snapshots and tests)."""
        if self._page is None:
            raise RuntimeError("the web surface has no live page yet; call show() first")
        return self._page

    def url(self, session_id: str | None = None) -> str:
        assert self._target is not None
        query: dict[str, str] = {}
        if session_id is not None:
            query["session"] = session_id
        query["client_fix"] = "1" if self._target.client_fix else "0"
        return f"{self._target.base_url.rstrip('/')}/?{urlencode(query)}"

    async def _new_page(self) -> Page:
        assert self._context is not None
        page = await self._context.new_page()
        page.on("dialog", self._on_dialog)
        page.on("pageerror", lambda error: self.page_errors.append(f"pageerror: {error}"))
        page.on(
            "console",
            lambda message: (
                self.page_errors.append(f"console: {message.text}")
                if message.type == "error"
                else None
            ),
        )
        return page

    async def _on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        await dialog.dismiss()

    async def _open(self, page: Page, url: str) -> None:
        await page.goto(url, timeout=self._load_timeout_ms)
        await self._wait_ready(page)

    async def _wait_ready(self, page: Page) -> None:
        await page.wait_for_selector(READY_SELECTOR, timeout=self._load_timeout_ms)

    async def show(self, session_id: str) -> None:
        self._session = session_id
        if self._page is None:
            self._page = await self._new_page()
            await self._open(self._page, self.url(session_id))
            return
        entry = self._page.locator(f'#session-list [data-session-id="{session_id}"]')
        if await entry.count():
            # As a person does it: click the session in the list.
            await entry.click()
            await self._page.wait_for_selector(
                f'#session-list li.open[data-session-id="{session_id}"]',
                timeout=self._load_timeout_ms,
            )
            await self._wait_ready(self._page)
        else:
            await self._open(self._page, self.url(session_id))

    async def reload(self) -> None:
        page = self.page
        await page.reload(timeout=self._load_timeout_ms)
        await self._wait_ready(page)

    # ---- reading ----------------------------------------------------------------------------

    async def settle(self) -> None:
        if self._page is None:
            return
        since = await self._page.evaluate("performance.now()")
        try:
            await self._page.wait_for_function(
                _QUIET,
                arg=[self._quiet * 1000, since],
                polling=10,
                timeout=self._deadline * 1000,
            )
        except PlaywrightTimeout:
            return  # a page that never goes quiet is still read, at the deadline

    async def read_live(self) -> dict[str, LiveValue]:
        if self._page is None:
            return {name: LiveValue(None) for name in self.readouts}
        snapshot: dict[str, Any] = await self._page.evaluate(_READ)
        now_wall, now_monotonic = time.time(), time.monotonic()
        values: dict[str, LiveValue] = {}
        for name in self.readouts:
            text = snapshot["texts"].get(name)
            stamp = snapshot["changedAt"].get(name)
            changed_at = (
                epoch_to_monotonic(float(stamp), now_wall=now_wall, now_monotonic=now_monotonic)
                if isinstance(stamp, int | float)
                else None
            )
            values[name] = LiveValue(text or None, changed_at)
        return values

    async def read_reload(self) -> dict[str, str | None]:
        if self._session is None:
            return dict.fromkeys(self.readouts)
        page = await self._new_page()
        try:
            await self._open(page, self.url(self._session))
            texts: dict[str, Any] = (await page.evaluate(_READ))["texts"]
        finally:
            await page.close()
        return {name: texts.get(name) or None for name in self.readouts}
