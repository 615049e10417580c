"""The reference agent's client: a replica store with the frozen-cost bug (and the client fix
behind a switch), its readout formatting, a REST wrapper and an SSE follower."""

from .api import AgentApi, ApiError
from .follow import Client, StreamFailed
from .readouts import READOUT_NAMES, ReadoutValues, format_cost, format_percent, format_tokens
from .store import ClientStore, UnknownSessionError

__all__ = [
    "READOUT_NAMES",
    "AgentApi",
    "ApiError",
    "Client",
    "ClientStore",
    "ReadoutValues",
    "StreamFailed",
    "UnknownSessionError",
    "format_cost",
    "format_percent",
    "format_tokens",
]
