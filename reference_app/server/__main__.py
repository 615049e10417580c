"""`python -m reference_app.server --config FILE [--server-fix] [--port N] [--data-dir D]`"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from .config import ConfigError, load_config
from .run import EmbeddedServer

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reference_app.server",
                                     description="Run the freshness reference agent server.")
    parser.add_argument("--config", required=True, type=Path, help="a .toml or .yaml config")
    parser.add_argument("--server-fix", action="store_true", default=None,
                        help="publish session.updated at every usage write (the broad fix)")
    parser.add_argument("--port", type=int, help="port to listen on (0: any free port)")
    parser.add_argument("--host", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--data-dir", type=Path, help="folder for the database and workspace")
    parser.add_argument("--password", help="require this HTTP basic password")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config, environ=os.environ)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    overrides = {"server_fix": args.server_fix, "port": args.port, "host": args.host,
                 "data_dir": args.data_dir, "password": args.password}
    config = config.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    server = EmbeddedServer(config)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print(server.start(), flush=True)
    try:
        stop.wait()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
