"""Shared helpers for the web page tests (imported as tests.reference_app.web.web_helpers): a real
agent server and scripted model on loopback, a real Chromium, and the three-step turn of
scenarios/core/three-step-turn.yaml with its expected figures."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, Page

from harness.drivers.web import READY_SELECTOR
from harness.model_server import ModelServer, ModelStep, ScriptedModel, ToolCall, Usage
from reference_app.server.config import AgentConfig, ModelConfig, Price, ProviderConfig
from reference_app.server.run import EmbeddedServer

MODEL_ID = "paid"
PRICE = Price(input=3.00, output=15.00, cache_read=0.30, cache_write=3.75)

# scenarios/core/three-step-turn.yaml, step for step.
THREE_STEPS: tuple[ModelStep, ...] = (
    ModelStep(text="Reading the test", tool_calls=(ToolCall(name="echo", arguments={}),),
              usage=Usage(input=12000, output=1000)),
    ModelStep(text="Patching", tool_calls=(ToolCall(name="echo", arguments={}),),
              usage=Usage(input=14000, output=1500, reasoning=500)),
    ModelStep(text="Done", usage=Usage(input=16000, output=1200, cache_read=2000)),
)
# After each step: sidebar.tokens, sidebar.percent, the session's cumulative cost as displayed.
AFTER_STEP: tuple[tuple[str, str, str], ...] = (
    ("13,000", "13%", "$0.05"),
    ("16,000", "16%", "$0.12"),
    ("19,200", "19%", "$0.19"),
)


def config(
    data_dir: Path, model_base_url: str, *, server_fix: bool, port: int = 0,
    password: str | None = None,
) -> AgentConfig:
    return AgentConfig(
        models=[ModelConfig(id=MODEL_ID, context_limit=100_000, price=PRICE)],
        provider=ProviderConfig(kind="openai", base_url=f"{model_base_url}/v1", timeout=10),
        data_dir=data_dir,
        server_fix=server_fix,
        port=port,
        password=password,
    )


@dataclass
class Agent:
    """The reference agent on loopback, fed by a gated scripted model."""

    model: ScriptedModel
    model_server: ModelServer
    server: EmbeddedServer
    http: httpx.AsyncClient
    model_base_url: str
    data_dir: Path
    server_fix: bool
    prompts: int = field(default=0)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    async def new_session(self, title: str = "Fix the parser") -> str:
        response = await self.http.post("/session", json={"title": title})
        response.raise_for_status()
        return str(response.json()["id"])

    async def prompt(self, session_id: str, text: str, steps: tuple[ModelStep, ...]) -> int:
        """Starts a turn; returns the index of its first model step (held at the gate)."""
        first = len(self.model.steps)
        self.model.extend(steps)
        response = await self.http.post(
            f"/session/{session_id}/prompt_async",
            json={"parts": [{"type": "text", "text": text}],
                  "model": {"providerID": "scripted", "modelID": MODEL_ID}},
        )
        response.raise_for_status()
        await self.model.wait_request(first, timeout=10)
        return first

    async def release(self, step_index: int, *, last: bool = False) -> None:
        """Lets one step stream; returns once the agent asked for the next one (mid-turn) or,
        for the last step, once the model has sent its usage."""
        self.model.release(1)
        await self.model.wait_usage_sent(step_index, timeout=10)
        if not last:
            await self.model.wait_request(step_index + 1, timeout=10)

    async def session_info(self, session_id: str) -> dict[str, Any]:
        response = await self.http.get(f"/session/{session_id}")
        response.raise_for_status()
        info: dict[str, Any] = response.json()
        return info

    async def restart(self) -> None:
        """Stops the server and starts it again on the same port with the same data, as after
        a crash: open event streams end, clients must reconnect."""
        port = int(self.base_url.rsplit(":", 1)[1])
        await asyncio.to_thread(self.server.stop)
        self.server = EmbeddedServer(
            config(self.data_dir, self.model_base_url, server_fix=self.server_fix, port=port)
        )
        await asyncio.to_thread(self.server.start)


async def start_agent(
    data_dir: Path, *, server_fix: bool, password: str | None = None
) -> Agent:
    model = ScriptedModel(model_id="scripted", gated=True)
    model_server = ModelServer(model)
    model_base_url = await asyncio.to_thread(model_server.start)
    server = EmbeddedServer(
        config(data_dir, model_base_url, server_fix=server_fix, password=password)
    )
    base_url = await asyncio.to_thread(server.start)
    auth = httpx.BasicAuth("opencode", password) if password else None
    http = httpx.AsyncClient(base_url=base_url, timeout=10, auth=auth)
    return Agent(model, model_server, server, http, model_base_url, data_dir, server_fix)


async def stop_agent(agent: Agent) -> None:
    agent.model.release_all()
    await agent.http.aclose()
    await asyncio.to_thread(agent.server.stop)
    await asyncio.to_thread(agent.model_server.stop)


def page_url(agent: Agent, session_id: str | None = None, *, client_fix: bool = False) -> str:
    query = [f"session={session_id}"] if session_id else []
    query.append(f"client_fix={int(client_fix)}")
    return f"{agent.base_url}/?{'&'.join(query)}"


async def open_page(browser: Browser, url: str, *, clock_ms: int | None = None) -> Page:
    page = await browser.new_page(viewport={"width": 1280, "height": 800}, device_scale_factor=1)
    if clock_ms is not None:
        # The page shows no clock today; pinning Date keeps it that way if it ever does.
        await page.clock.set_fixed_time(clock_ms)
    await page.goto(url)
    await page.wait_for_selector(READY_SELECTOR)
    return page


async def text_of(page: Page, element_id: str) -> str | None:
    value: str | None = await page.evaluate(
        "id => document.getElementById(id)?.textContent ?? null", element_id
    )
    return value


async def wait_text(page: Page, element_id: str, expected: str, timeout: float = 10) -> None:
    """Waits until the element shows exactly ``expected`` (never asserts an intermediate)."""
    await page.wait_for_function(
        "([id, text]) => document.getElementById(id)?.textContent === text",
        arg=[element_id, expected],
        timeout=timeout * 1000,
    )


async def wait_idle(page: Page, timeout: float = 10) -> None:
    """Waits until the page shows the open session idle: every event of the turn has arrived,
    since the server publishes session.idle after the turn's last usage write."""
    await page.wait_for_function(
        "() => document.getElementById('session-status').textContent === ''",
        timeout=timeout * 1000,
    )


READOUTS = ("sidebar.tokens", "sidebar.percent", "sidebar.cost", "sessions.cost",
            "footer.tokens", "footer.cost")


async def readouts(page: Page) -> dict[str, str | None]:
    return {name: await text_of(page, name) for name in READOUTS}
