"""Fixtures for the client against the real agent server and the real scripted model server,
both on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.model_server import ModelServer, ScriptedModel
from reference_app.client.follow import Client
from reference_app.server.config import AgentConfig, ModelConfig, Price, ProviderConfig
from reference_app.server.run import EmbeddedServer

MODEL_ID = "scripted-1"
UNPRICED_ID = "scripted-free"
CONTEXT_LIMIT = 100_000
PRICE = Price(input=3.0, output=15.0, cache_read=0.3, cache_write=3.75)
CONTEXT_LIMITS = {MODEL_ID: CONTEXT_LIMIT, UNPRICED_ID: CONTEXT_LIMIT}


@pytest.fixture
def model() -> ScriptedModel:
    return ScriptedModel(model_id=MODEL_ID, gated=True)


@pytest.fixture
def model_server(model: ScriptedModel) -> Iterator[ModelServer]:
    server = ModelServer(model)
    server.start()
    yield server
    model.release_all()
    server.stop()


AgentFactory = Callable[..., Awaitable[str]]


@pytest.fixture
async def start_agent(tmp_path: Path, model_server: ModelServer) -> AsyncIterator[AgentFactory]:
    """`await start_agent(server_fix=..., **config)` -> the base URL of a running agent."""
    servers: list[EmbeddedServer] = []

    async def start(**overrides: Any) -> str:
        config = AgentConfig(
            models=[
                ModelConfig(id=MODEL_ID, context_limit=CONTEXT_LIMIT, price=PRICE),
                ModelConfig(id=UNPRICED_ID, context_limit=CONTEXT_LIMIT, price=None),
            ],
            provider=ProviderConfig(kind="openai", base_url=model_server.base_url, timeout=10),
            data_dir=tmp_path / f"agent{len(servers)}",
            **overrides,
        )
        server = EmbeddedServer(config)
        servers.append(server)
        return await asyncio.to_thread(server.start)

    yield start
    for server in servers:
        await asyncio.to_thread(server.stop)


ClientFactory = Callable[..., Client]


@pytest.fixture
async def make_client() -> AsyncIterator[ClientFactory]:
    """`make_client(base_url, **options)` -> a Client that is closed after the test."""
    clients: list[Client] = []

    def make(base_url: str, **options: Any) -> Client:
        options.setdefault("context_limits", CONTEXT_LIMITS)
        client = Client(base_url, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()
