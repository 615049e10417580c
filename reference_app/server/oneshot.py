"""`python -m reference_app.server.oneshot --config FILE [--session ID] [--model M] TEXT`

One turn, run in this process against the data folder a server may be serving, then exit: what
`opencode run` does without `--attach`. It writes the same database through its own agent and its
own event bus, which nobody listens to, so a server running beside it never announces what it
wrote; its clients learn of it only by reloading. Prints the session as it stands after the turn.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from .agent import Agent, SessionBusy, UnknownModel
from .bus import Bus
from .config import AgentConfig, ConfigError, load_config
from .db import Database
from .providers import make_provider
from .repo import NotFound, Repository
from .types import JSON

__all__ = ["main", "run_once"]


async def run_once(
    config: AgentConfig, text: str, *, session_id: str | None = None, model_id: str | None = None
) -> JSON:
    """Run one turn in `session_id` (a new session when None); return the session after it."""
    config.workspace.mkdir(parents=True, exist_ok=True)
    database = Database(config.database_path)
    provider = make_provider(config.provider)
    try:
        repo = Repository(database, directory=str(config.workspace))
        agent = Agent(config, repo, Bus(), provider)
        if session_id is None:
            session_id = str(repo.create_session(title=text[:50])["id"])
        else:
            repo.get_session(session_id)
        agent.start_turn(session_id, text, agent.resolve_model(model_id))
        await agent.wait_idle(session_id)
        return repo.get_session(session_id)
    finally:
        await provider.aclose()
        database.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reference_app.server.oneshot",
        description="Run one agent turn on a data folder and exit (no server, no events).",
    )
    parser.add_argument("--config", required=True, type=Path, help="a .toml or .yaml config")
    parser.add_argument("--session", help="the session to continue (default: a new one)")
    parser.add_argument("--model", help="a configured model id (default: the first)")
    parser.add_argument("text", help="the prompt")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        info = asyncio.run(
            run_once(config, args.text, session_id=args.session, model_id=args.model)
        )
    except (ConfigError, UnknownModel, NotFound, SessionBusy) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(info), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
