"""Fixtures for the reference agent server: real SQLite in tmp_path, the real scripted model
server on loopback, the real agent server on loopback, and a client following /event."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import factory
import httpx
import pytest
from httpx_sse import aconnect_sse
from sqlalchemy.orm import Session

from harness.model_server import ModelServer, ScriptedModel
from reference_app.server.db import Database, MessageRow, PartRow, SessionRow
from reference_app.server.ids import new_id
from reference_app.server.run import EmbeddedServer
from tests.reference_app.server.server_helpers import MODEL_ID, EventLog, make_config

# --- factories on real SQLite ----------------------------------------------------------------

_orm_session: list[Session] = []


class _RowFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: _orm_session[-1]  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class SessionFactory(_RowFactory):
    class Meta:
        model = SessionRow

    id = factory.LazyFunction(lambda: new_id("ses"))
    title = factory.Sequence(lambda n: f"Session {n}")
    slug = factory.LazyAttribute(lambda row: row.title.lower().replace(" ", "-"))
    directory = "/workspace"
    parent_id = None
    cost = 0.0
    time_created = factory.Sequence(lambda n: 1_700_000_000_000 + n)
    time_updated = factory.SelfAttribute("time_created")


class MessageFactory(_RowFactory):
    class Meta:
        model = MessageRow

    id = factory.LazyFunction(lambda: new_id("msg"))
    session_id = factory.LazyAttribute(lambda _row: SessionFactory().id)
    role = "assistant"
    time_created = factory.Sequence(lambda n: 1_700_000_000_000 + n)
    cost = 0.0
    info = factory.LazyFunction(
        lambda: {"parentID": new_id("msg"), "modelID": MODEL_ID, "providerID": "scripted",
                 "mode": "build", "agent": "build", "path": {"cwd": "/w", "root": "/w"}}
    )


class PartFactory(_RowFactory):
    class Meta:
        model = PartRow

    id = factory.LazyFunction(lambda: new_id("prt"))
    message_id = factory.LazyAttribute(lambda _row: MessageFactory().id)
    session_id = factory.LazyAttribute(
        lambda row: _orm_session[-1].get(MessageRow, row.message_id).session_id  # type: ignore[union-attr]
    )
    type = "text"
    data = factory.LazyFunction(lambda: {"text": "hello"})


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(tmp_path / "data" / "agent.sqlite3")
    yield db
    db.close()


@pytest.fixture
def rows(database: Database) -> Iterator[Any]:
    """The factories, bound to an ORM session on the test's database."""
    with Session(database.engine) as session:
        _orm_session.append(session)
        try:
            yield type("Rows", (), {"session": SessionFactory, "message": MessageFactory,
                                    "part": PartFactory, "orm": session})
        finally:
            _orm_session.pop()


# --- configs and servers -------------------------------------------------------------------


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


@pytest.fixture
def start_agent(tmp_path: Path, model_server: ModelServer) -> Iterator[Callable[..., str]]:
    """start_agent(server_fix=..., **config) -> base URL of a running agent server."""
    servers: list[EmbeddedServer] = []

    def start(**overrides: Any) -> str:
        base_url = overrides.pop("base_url", model_server.base_url)
        config = make_config(tmp_path / f"agent{len(servers)}", base_url, **overrides)
        server = EmbeddedServer(config)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


# --- following /event ----------------------------------------------------------------------


async def _follow(client: httpx.AsyncClient, url: str, log: EventLog,
                  headers: dict[str, str]) -> None:
    async with aconnect_sse(client, "GET", url, headers=headers) as source:
        async for message in source.aiter_sse():
            await log.add(int(message.id), json.loads(message.data))


@pytest.fixture
async def follow() -> AsyncIterator[Callable[..., Any]]:
    """await follow(base_url, last_event_id=None) -> EventLog, connected (server.connected
    already received)."""
    tasks: list[asyncio.Task[None]] = []
    clients: list[httpx.AsyncClient] = []

    async def start(base_url: str, last_event_id: int | None = None,
                    auth: tuple[str, str] | None = None) -> EventLog:
        client = httpx.AsyncClient(timeout=httpx.Timeout(10, read=None), auth=auth)
        clients.append(client)
        log = EventLog()
        headers = {} if last_event_id is None else {"Last-Event-ID": str(last_event_id)}
        tasks.append(asyncio.create_task(_follow(client, f"{base_url}/event", log, headers)))
        await log.wait_for(lambda event: event["type"] == "server.connected")
        return log

    yield start
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    for client in clients:
        await client.aclose()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client
