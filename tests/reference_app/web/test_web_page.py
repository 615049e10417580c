"""The web page in a real Chromium against the real agent server: live readouts with and without
each fix, reload, markup rendered as text, resync after a reconnect, and the page's headers."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
from playwright.async_api import Browser, Dialog, Request

from harness.model_server import ModelStep, Usage
from reference_app.web import CONTENT_SECURITY_POLICY
from tests.reference_app.web.web_helpers import (
    AFTER_STEP,
    THREE_STEPS,
    open_page,
    page_url,
    readouts,
    text_of,
    wait_idle,
    wait_text,
)

AgentFactory = Callable[..., Any]


async def test_page_and_assets_carry_a_restrictive_csp(agent_factory: AgentFactory) -> None:
    agent = await agent_factory()
    async with httpx.AsyncClient(base_url=agent.base_url) as http:
        page = await http.get("/")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        policy = page.headers["content-security-policy"]
        assert policy == CONTENT_SECURITY_POLICY
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["default-src"] == "'self'"
        assert directives["script-src"] == "'self'"
        assert directives["object-src"] == "'none'"
        assert directives["frame-ancestors"] == "'none'"
        assert "unsafe" not in policy
        assert page.headers["x-content-type-options"] == "nosniff"
        # No inline script for the policy to have to allow.
        scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", page.text, flags=re.S)
        assert scripts == [""]
        assert "on" not in " ".join(re.findall(r"<[^>]+\son\w+=", page.text))
        for asset in ("app.js", "style.css", "favicon.svg"):
            response = await http.get(f"/web/{asset}")
            assert response.status_code == 200
            assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        # Only the allow-listed files are served; the package's Python never is.
        for missing in ("__init__.py", "nope.js", "..%2Fserver%2Fapp.py"):
            assert (await http.get(f"/web/{missing}")).status_code == 404
        models = (await http.get("/config/models")).json()
        assert models == [{"id": "paid", "providerID": "scripted", "name": "paid",
                           "limit": {"context": 100_000}}]


async def test_without_fixes_tokens_climb_live_and_cost_stays_frozen(
    chromium: Browser, agent_factory: AgentFactory
) -> None:
    agent = await agent_factory(server_fix=False)
    session = await agent.new_session()
    page = await open_page(chromium, page_url(agent, session))
    assert await text_of(page, "sidebar.percent") == "\u2014"  # no model known before a turn
    first = await agent.prompt(session, "Fix the failing parser test", THREE_STEPS)
    for offset, (tokens, percent, cost) in enumerate(AFTER_STEP):
        await agent.release(first + offset, last=offset == len(THREE_STEPS) - 1)
        await wait_text(page, "sidebar.tokens", tokens)
        await wait_text(page, "sidebar.percent", percent)
        assert await text_of(page, "footer.tokens") == tokens
        # Storage has the spend; the live page does not.
        assert f"${(await agent.session_info(session))['cost']:.2f}" == cost
    await wait_idle(page)
    shown = await readouts(page)
    assert shown["sidebar.tokens"] == "19,200"
    assert {shown["sidebar.cost"], shown["sessions.cost"], shown["footer.cost"]} == {"$0.00"}


async def test_server_fix_moves_every_cost_live(
    chromium: Browser, agent_factory: AgentFactory
) -> None:
    agent = await agent_factory(server_fix=True)
    session = await agent.new_session()
    page = await open_page(chromium, page_url(agent, session))
    first = await agent.prompt(session, "Fix the failing parser test", THREE_STEPS)
    for offset, (tokens, percent, cost) in enumerate(AFTER_STEP):
        await agent.release(first + offset, last=offset == len(THREE_STEPS) - 1)
        for readout in ("sidebar.cost", "sessions.cost", "footer.cost"):
            await wait_text(page, readout, cost)
        assert await text_of(page, "sidebar.tokens") == tokens
        assert await text_of(page, "sidebar.percent") == percent


async def test_client_fix_moves_the_sidebar_only(
    chromium: Browser, agent_factory: AgentFactory
) -> None:
    agent = await agent_factory(server_fix=False)
    session = await agent.new_session()
    page = await open_page(chromium, page_url(agent, session, client_fix=True))
    first = await agent.prompt(session, "Fix the failing parser test", THREE_STEPS)
    for offset, (_tokens, _percent, cost) in enumerate(AFTER_STEP):
        await agent.release(first + offset, last=offset == len(THREE_STEPS) - 1)
        await wait_text(page, "sidebar.cost", cost)
    await wait_idle(page)
    shown = await readouts(page)
    assert shown["sidebar.cost"] == "$0.19"
    # The session list and the footer read the cached session total, which nothing refreshed.
    assert shown["sessions.cost"] == "$0.00"
    assert shown["footer.cost"] == "$0.00"


async def test_reload_shows_the_right_amount(
    chromium: Browser, agent_factory: AgentFactory
) -> None:
    agent = await agent_factory(server_fix=False)
    session = await agent.new_session()
    page = await open_page(chromium, page_url(agent, session))
    first = await agent.prompt(session, "Fix the failing parser test", THREE_STEPS)
    await agent.release(first)
    await wait_text(page, "sidebar.tokens", "13,000")
    assert await text_of(page, "sidebar.cost") == "$0.00"
    await page.reload()
    await page.wait_for_selector('#app[data-connection="live"]')
    shown = await readouts(page)
    assert shown == {
        "sidebar.tokens": "13,000", "sidebar.percent": "13%", "sidebar.cost": "$0.05",
        "sessions.cost": "$0.05", "footer.tokens": "13,000", "footer.cost": "$0.05",
    }
    # Mid-turn after the reload, the page follows the turn again (and freezes again).
    await agent.release(first + 1)
    await wait_text(page, "sidebar.tokens", "16,000")
    assert await text_of(page, "sidebar.cost") == "$0.05"


HOSTILE_TITLE = "<img src=x onerror=alert(1)><script>alert(2)</script>"
HOSTILE_PROMPT = "<script>alert(3)</script><b id=injected>bold</b>"
HOSTILE_REPLY = '<img src=y onerror="alert(4)"><iframe src="javascript:alert(5)"></iframe>'


async def test_markup_from_the_server_renders_as_text(
    chromium: Browser, agent_factory: AgentFactory
) -> None:
    agent = await agent_factory(server_fix=True)
    session = await agent.new_session(HOSTILE_TITLE)
    dialogs: list[str] = []
    requests: list[str] = []
    errors: list[str] = []
    page = await chromium.new_page()

    async def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    def record(request: Request) -> None:
        requests.append(request.url)

    page.on("dialog", dismiss)
    page.on("request", record)
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(page_url(agent, session))
    await page.wait_for_selector('#app[data-connection="live"]')
    reply = (ModelStep(text=HOSTILE_REPLY, usage=Usage(input=100, output=10)),)
    first = await agent.prompt(session, HOSTILE_PROMPT, reply)
    await agent.release(first, last=True)
    await wait_idle(page)
    await page.wait_for_function(
        "text => document.getElementById('transcript').textContent.includes(text)",
        arg=HOSTILE_REPLY,
    )
    # Every string arrived, character for character, as text.
    assert await text_of(page, "session-title") == HOSTILE_TITLE
    assert await page.text_content('#session-list [data-session-id] .session-item-title') == (
        HOSTILE_TITLE
    )
    transcript = await text_of(page, "transcript") or ""
    assert HOSTILE_PROMPT in transcript
    assert HOSTILE_REPLY in transcript
    # Nothing was parsed into elements, nothing ran, nothing was fetched.
    injected = await page.evaluate(
        "() => document.querySelectorAll('img, iframe, b, #injected, script:not([src])').length"
    )
    assert injected == 0
    assert dialogs == []
    assert errors == []
    assert not [url for url in requests if url.rstrip("/").endswith(("/x", "/y"))]


async def test_reconnect_resyncs_from_rest_without_a_reload(
    chromium: Browser, agent_factory: AgentFactory
) -> None:
    agent = await agent_factory(server_fix=False)
    session = await agent.new_session()
    page = await open_page(chromium, page_url(agent, session))
    first = await agent.prompt(session, "Fix the failing parser test", THREE_STEPS)
    for offset in range(len(THREE_STEPS)):
        await agent.release(first + offset, last=offset == len(THREE_STEPS) - 1)
    await wait_idle(page)
    assert await text_of(page, "sidebar.cost") == "$0.00"  # the bug, live
    await page.evaluate("() => { window.__sameDocument = true; }")
    # The server goes away and comes back (same port, same data): the event stream breaks, the
    # page reconnects and replaces its state from REST.
    await agent.restart()
    for readout in ("sidebar.cost", "sessions.cost", "footer.cost"):
        await wait_text(page, readout, "$0.19")
    await page.wait_for_selector('#app[data-connection="live"]')
    assert await page.evaluate("() => window.__sameDocument === true"), "the page was reloaded"
    assert await text_of(page, "sidebar.tokens") == "19,200"


async def test_newest_session_opens_by_default_and_a_click_switches(
    chromium: Browser, agent_factory: AgentFactory
) -> None:
    agent = await agent_factory(server_fix=True)
    older = await agent.new_session("Older session")
    first = await agent.prompt(older, "Fix it", THREE_STEPS[2:])
    await agent.release(first, last=True)
    await agent.new_session("Newest session")
    page = await open_page(chromium, page_url(agent))
    assert await text_of(page, "session-title") == "Newest session"
    assert await text_of(page, "sessions.cost") == "$0.00"
    await page.click(f'#session-list [data-session-id="{older}"]')
    await wait_text(page, "session-title", "Older session")
    await wait_text(page, "sidebar.tokens", "19,200")
    # Exactly one element carries each readout id, and it is the open session's entry.
    assert await page.evaluate("() => document.querySelectorAll('[id=\"sessions.cost\"]').length") == 1
    assert await page.text_content(
        f'#session-list [data-session-id="{older}"] .session-item-cost'
    ) == await text_of(page, "sessions.cost")
    assert f"session={older}" in page.url
