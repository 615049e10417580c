"""`python -m reference_app.tui --url URL [--session ID] [--client-fix] [--model ID]`

Runs the reference terminal UI against a running agent server. Without ``--session`` it opens
the most recently updated session (or creates one with the first prompt).
"""

from __future__ import annotations

import argparse
import os

import httpx

from .app import FreshnessApp

__all__ = ["build_parser", "main"]

PASSWORD_ENV = "FRESHNESS_TUI_PASSWORD"


def _context_limit(text: str) -> tuple[str, int]:
    model, _, limit = text.rpartition("=")
    if not model or not limit.isdigit():
        raise argparse.ArgumentTypeError(f"expected MODEL=TOKENS, e.g. paid=100000, got {text!r}")
    return model, int(limit)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m reference_app.tui",
        description="The reference agent's terminal UI: sessions, transcript, context sidebar.",
    )
    parser.add_argument("--url", required=True, help="the agent server, e.g. http://127.0.0.1:4096")
    parser.add_argument("--session", help="open this session id (default: the most recent)")
    parser.add_argument(
        "--client-fix",
        action="store_true",
        help="sidebar cost = max(cached total, sum of loaded messages) (the narrow fix)",
    )
    parser.add_argument("--model", help="model id for prompts (default: the server's first)")
    parser.add_argument(
        "--context",
        action="append",
        type=_context_limit,
        default=[],
        metavar="MODEL=TOKENS",
        help="a model's context window, for servers without /config/models (repeatable)",
    )
    parser.add_argument(
        "--password",
        default=os.environ.get(PASSWORD_ENV),
        help=f"HTTP basic password of the server (default: ${PASSWORD_ENV})",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    auth = httpx.BasicAuth("opencode", args.password) if args.password else None
    app = FreshnessApp(
        args.url,
        session_id=args.session,
        client_fix=args.client_fix,
        model=args.model,
        context_limits=dict(args.context),
        auth=auth,
    )
    app.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
