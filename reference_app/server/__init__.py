"""The reference agent server: a small real coding agent with the frozen-cost bug and the
server fix behind a switch. Contract: docs/architecture.md."""

from __future__ import annotations

from .app import create_app
from .config import AgentConfig, ModelConfig, Price, ProviderConfig, load_config
from .run import EmbeddedServer

__all__ = [
    "AgentConfig",
    "EmbeddedServer",
    "ModelConfig",
    "Price",
    "ProviderConfig",
    "create_app",
    "load_config",
]
