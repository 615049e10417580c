"""Shared helpers for the terminal UI tests (imported as tests.reference_app.tui.tui_helpers).

A real agent server and a gated scripted model on loopback, configured from
scenarios/core/three-step-turn.yaml itself (its model, price, context window, session title and
model steps), so the tests and the shipped scenario cannot drift apart. Starting and stopping are
synchronous (both servers run in threads of their own): snapshot tests are plain functions,
because pytest-textual-snapshot runs the app in an event loop of its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from harness.model_server import ModelServer, ModelStep, ScriptedModel
from harness.runner import scripted_step
from harness.scenario.loader import LoadedScenario, load_scenario
from harness.scenario.steps import PromptStep
from harness.targets.base import ModelPlan, TargetPlan
from harness.targets.reference import ReferenceTarget
from reference_app.server.run import EmbeddedServer

ROOT = Path(__file__).parents[3]
THREE_STEP_TURN = ROOT / "scenarios" / "core" / "three-step-turn.yaml"

# What the sidebar shows after each step of three-step-turn (the scenario's own arithmetic,
# written out so a wrong formatter cannot agree with itself): tokens, percent, cost.
AFTER_STEP: tuple[tuple[str, str, str], ...] = (
    ("13,000", "13%", "$0.05"),
    ("16,000", "16%", "$0.12"),
    ("19,200", "19%", "$0.19"),
)


@dataclass(frozen=True)
class Turn:
    session_title: str
    model_id: str
    text: str
    steps: tuple[ModelStep, ...]


def scenario_turn(loaded: LoadedScenario) -> Turn:
    """The scenario's session and its (first) prompt, as the runner would play them."""
    scenario = loaded.scenario
    prompt = next(step for step in scenario.steps if isinstance(step, PromptStep))
    name = prompt.prompt.session or next(iter(scenario.sessions))
    session = scenario.sessions[name]
    return Turn(
        session_title=session.title,
        model_id=session.model,
        text=prompt.prompt.text,
        steps=tuple(scripted_step(spec) for spec in prompt.prompt.model_steps),
    )


@dataclass
class Agent:
    """The reference agent on loopback, fed by a gated scripted model, set up from a scenario."""

    loaded: LoadedScenario
    model: ScriptedModel
    model_server: ModelServer
    server: EmbeddedServer
    base_url: str
    context_limits: dict[str, int]
    turn: Turn
    sessions: list[str] = field(default_factory=list)

    def create_session(self, title: str | None = None) -> str:
        with httpx.Client(base_url=self.base_url, timeout=10) as http:
            response = http.post("/session", json={"title": title or self.turn.session_title})
            response.raise_for_status()
            session_id = str(response.json()["id"])
        self.sessions.append(session_id)
        return session_id

    async def prompt(self, session_id: str) -> int:
        """Start the scenario's turn; returns once the agent asked for its first model step."""
        first = len(self.model.steps)
        self.model.extend(self.turn.steps)
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as http:
            response = await http.post(
                f"/session/{session_id}/prompt_async",
                json={
                    "parts": [{"type": "text", "text": self.turn.text}],
                    "model": {"providerID": "scripted", "modelID": self.turn.model_id},
                },
            )
            response.raise_for_status()
        await self.model.wait_request(first, timeout=20)
        return first

    async def step(self, index: int) -> None:
        """Let model step ``index`` stream; returns once the agent has asked for the next one
        (held at the gate) or, for the last step, once its usage has been sent."""
        self.model.release(1)
        await self.model.wait_usage_sent(index, timeout=20)
        if index + 1 < len(self.model.steps):
            await self.model.wait_request(index + 1, timeout=20)

    def stop(self) -> None:
        self.model.release_all()
        self.server.stop()
        self.model_server.stop()


def start_agent(data_dir: Path, *, server_fix: bool, scenario: Path = THREE_STEP_TURN) -> Agent:
    loaded = load_scenario(scenario)
    model = ScriptedModel(model_id="scripted", gated=True)
    model_server = ModelServer(model)
    base = model_server.start()
    plan = TargetPlan(
        models=tuple(
            ModelPlan(
                id=name,
                context=spec.context,
                price_input=spec.price.input if spec.price else None,
                price_output=spec.price.output if spec.price else None,
                price_cache_read=spec.price.cache_read if spec.price else None,
                price_cache_write=spec.price.cache_write if spec.price else None,
            )
            for name, spec in loaded.scenario.models.items()
        ),
        openai_base_url=f"{base}/v1",
        server_fix=server_fix,
        client_fix=False,
        workdir=data_dir,
    )
    server = EmbeddedServer(ReferenceTarget().config_for(plan))
    try:
        base_url = server.start()
    except BaseException:
        model_server.stop()
        raise
    return Agent(
        loaded=loaded,
        model=model,
        model_server=model_server,
        server=server,
        base_url=base_url,
        context_limits={spec.id: spec.context for spec in plan.models},
        turn=scenario_turn(loaded),
    )


async def wait_for(
    predicate: Callable[[], bool], timeout: float = 10.0, what: str = "a condition"
) -> None:
    """Poll ``predicate()`` every 10 ms until it is true; fail with ``what`` at the timeout."""
    give_up = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > give_up:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.01)
