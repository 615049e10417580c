"""`create_app(config)`: the reference agent server as a FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ..web import mount_web
from .agent import Agent
from .auth import BasicPasswordMiddleware
from .body_limit import BodyLimitMiddleware
from .bus import Bus
from .clock import now_ms
from .config import AgentConfig
from .db import Database
from .errors import install_error_handlers
from .faults import EventFaults
from .providers import make_provider
from .repo import Repository
from .routes import router

__all__ = ["EVENTS_PER_LIFE", "create_app"]

# Room for 2**32 events per server life; 2**21 lives fit below 2**53, so every id stays an
# exact integer in a browser's JavaScript too.
EVENTS_PER_LIFE = 2**32


def create_app(config: AgentConfig) -> FastAPI:
    """Opens (or creates) the data folder's database now; the provider client and event
    bus live as long as the app. `app.state` holds config, database, repo, bus and agent."""
    config.workspace.mkdir(parents=True, exist_ok=True)
    database = Database(config.database_path)
    repo = Repository(database, directory=str(config.workspace))
    # A previous life that was killed mid-turn left its message open; close it as aborted.
    repo.close_interrupted_turns(
        {"name": "MessageAbortedError",
         "data": {"message": "the server stopped during this turn"}})
    # Each life on this data folder numbers its events from its own base. A client that
    # followed the previous life resumes with a Last-Event-ID below the new life's first
    # sequence, so it gets server.resync and reloads; with every life counting from 0 it was
    # replayed the new life's events after that id and silently missed those before it.
    life = database.start_life(now_ms())
    bus = Bus(replay_buffer=config.replay_buffer, subscriber_queue=config.subscriber_queue,
              first_seq=(life - 1) * EVENTS_PER_LIFE)
    if config.event_faults:
        bus.faults = EventFaults()
    provider = make_provider(config.provider)
    agent = Agent(config, repo, bus, provider)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await agent.shutdown()
            bus.close()
            await provider.aclose()
            database.close()

    app = FastAPI(
        title="freshness reference agent",
        version="1",
        openapi_url="/doc",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.config = config
    app.state.database = database
    app.state.repo = repo
    app.state.bus = bus
    app.state.agent = agent
    install_error_handlers(app)
    app.include_router(router)
    mount_web(app)
    # Added last, so it runs first: an oversized body is refused before anything reads it.
    app.add_middleware(BodyLimitMiddleware, max_bytes=config.max_body_bytes)
    if config.password:
        app.add_middleware(BasicPasswordMiddleware, password=config.password)
    return app
