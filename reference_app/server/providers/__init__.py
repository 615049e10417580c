"""Streaming model provider clients behind one interface (see base.py)."""

from __future__ import annotations

from ..config import ProviderConfig
from .anthropic import AnthropicProvider
from .base import (
    AssistantTurn,
    Finish,
    Provider,
    ProviderError,
    ReasoningDelta,
    StreamItem,
    TextDelta,
    ToolCallItem,
    ToolResultTurn,
    ToolSpec,
    Turn,
    UserTurn,
)
from .openai_compat import OpenAICompatProvider

__all__ = [
    "AnthropicProvider",
    "AssistantTurn",
    "Finish",
    "OpenAICompatProvider",
    "Provider",
    "ProviderError",
    "ReasoningDelta",
    "StreamItem",
    "TextDelta",
    "ToolCallItem",
    "ToolResultTurn",
    "ToolSpec",
    "Turn",
    "UserTurn",
    "make_provider",
]


def make_provider(config: ProviderConfig) -> Provider:
    if config.kind == "anthropic":
        return AnthropicProvider(config.base_url, config.api_key, timeout=config.timeout)
    return OpenAICompatProvider(config.base_url, config.api_key, timeout=config.timeout)
