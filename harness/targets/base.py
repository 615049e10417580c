"""What a target is: an agent the harness can start, point at the scripted model, and stop."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from harness.drivers.base import TargetInfo

__all__ = ["ModelPlan", "RunningTarget", "Target", "TargetPlan"]


@dataclass(frozen=True)
class ModelPlan:
    """One scenario model as the agent must know it: id, context window, $ per 1M tokens."""

    id: str
    context: int
    price_input: float | None
    price_output: float | None
    price_cache_read: float | None
    price_cache_write: float | None


@dataclass(frozen=True)
class TargetPlan:
    models: tuple[ModelPlan, ...]
    openai_base_url: str
    """The scripted model server, as an OpenAI-compatible base URL (ends in /v1)."""
    server_fix: bool
    client_fix: bool
    workdir: Path
    replay_buffer: int | None = None
    """Events the agent keeps for Last-Event-ID replay, when a scenario needs it small (resync)."""
    event_faults: bool = False
    """Whether the agent's test-only event fault injector is on."""
    provider: Literal["openai", "anthropic"] = "openai"
    """The wire format the agent must speak to the scripted model, which serves both under the
    same base URL (`/v1/chat/completions`, `/v1/messages`)."""


class RunningTarget(Protocol):
    info: TargetInfo
    provider_id: str

    async def stop(self) -> None: ...


class Target(Protocol):
    name: str
    applies_fixes: bool
    """Whether the fix switches exist (the reference agent); a real agent runs as shipped."""

    async def start(self, plan: TargetPlan) -> RunningTarget: ...
