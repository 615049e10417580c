"""Shared helpers for the server tests (imported as tests.reference_app.server.server_helpers,
as the client tests do with their shapes module)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from harness.model_server import Usage
from reference_app.server.config import AgentConfig, ModelConfig, Price, ProviderConfig

PRICE = Price(input=3.0, output=15.0, cache_read=0.3, cache_write=3.75)
MODEL_ID = "scripted-1"
UNPRICED_ID = "scripted-free"


def make_config(data_dir: Path, base_url: str, **overrides: Any) -> AgentConfig:
    kind = overrides.pop("kind", "openai")
    return AgentConfig(
        models=[ModelConfig(id=MODEL_ID, context_limit=100_000, price=PRICE),
                ModelConfig(id=UNPRICED_ID, context_limit=100_000, price=None)],
        provider=ProviderConfig(kind=kind, base_url=base_url, timeout=overrides.pop("timeout", 10)),
        data_dir=data_dir,
        **overrides,
    )



class EventLog:
    """Events received on one /event connection, as (sequence, payload), in order."""

    def __init__(self) -> None:
        self.received: list[tuple[int, dict[str, Any]]] = []
        self._changed = asyncio.Condition()

    @property
    def payloads(self) -> list[dict[str, Any]]:
        return [payload for _, payload in self.received]

    def types(self) -> list[str]:
        return [payload["type"] for payload in self.payloads]

    async def add(self, seq: int, payload: dict[str, Any]) -> None:
        async with self._changed:
            self.received.append((seq, payload))
            self._changed.notify_all()

    async def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], *, count: int = 1, timeout: float = 10
    ) -> dict[str, Any]:
        """The `count`-th event matching `predicate`, waiting for it to arrive."""

        def found() -> list[dict[str, Any]]:
            return [payload for payload in self.payloads if predicate(payload)]

        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: len(found()) >= count)
        return found()[count - 1]



def cost_of(usage: Usage) -> float:
    return (usage.input * PRICE.input + (usage.output + usage.reasoning) * PRICE.output
            + usage.cache_read * PRICE.cache_read + usage.cache_write * PRICE.cache_write) / 1e6


def of_type(kind: str) -> Callable[[dict[str, Any]], bool]:
    return lambda event: event["type"] == kind


def step_finish(event: dict[str, Any]) -> bool:
    return bool(event["type"] == "message.part.updated"
                and event["properties"]["part"]["type"] == "step-finish")


async def new_session(http: httpx.AsyncClient, base_url: str) -> str:
    response = await http.post(f"{base_url}/session", json={})
    assert response.status_code == 200
    session_id: str = response.json()["id"]
    return session_id


async def prompt(http: httpx.AsyncClient, base_url: str, session_id: str,
                 text: str = "Do the thing", model_id: str = MODEL_ID) -> None:
    response = await http.post(
        f"{base_url}/session/{session_id}/prompt_async",
        json={"parts": [{"type": "text", "text": text}],
              "model": {"providerID": "scripted", "modelID": model_id}})
    assert response.status_code == 204, response.text


def session_updates(log: EventLog, session_id: str) -> list[dict[str, Any]]:
    return [event["properties"]["info"] for event in log.payloads
            if event["type"] == "session.updated"
            and event["properties"]["sessionID"] == session_id]
