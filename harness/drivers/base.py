"""What a surface driver is: something that shows readouts, live and after a reload.

Every surface (the reference client store, the protocol mirror, a Textual app, a terminal program
under tmux, a web page in Chromium) implements :class:`Surface`. The runner never knows which one it
holds: it attaches them to a running target, asks them to settle, and reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["LiveValue", "Surface", "TargetInfo"]


@dataclass(frozen=True)
class TargetInfo:
    """What a surface needs to know about the running agent it reads."""

    base_url: str
    client_fix: bool
    context_limits: dict[str, int]
    """Context window per model id, for the percent readout."""
    password: str | None = None
    workdir: str = "."
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LiveValue:
    shown: str | None
    changed_at: float | None = None
    """time.monotonic() when the surface first showed ``shown``, if the surface can tell."""


class Surface(Protocol):
    name: str
    readouts: tuple[str, ...]

    async def attach(self, target: TargetInfo) -> None:
        """Start following the target (bootstrap, subscribe)."""

    async def show(self, session_id: str) -> None:
        """Open this session, as a person clicks it in the session list."""

    async def settle(self) -> None:
        """Return once the surface has caught up with what it has been sent (or a deadline)."""

    async def read_live(self) -> dict[str, LiveValue]:
        """The readouts as the running surface shows them now."""

    async def read_reload(self) -> dict[str, str | None]:
        """The readouts as a freshly loaded instance of this surface shows them (the oracle)."""

    async def reload(self) -> None:
        """Replace the live instance with a freshly loaded one, as a person presses reload."""

    async def close(self) -> None: ...
