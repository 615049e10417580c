"""Streaming POST with Server-Sent Events back, with every transport failure turned into a
ProviderError that says what went wrong and where."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from httpx_sse import SSEError, aconnect_sse

from ...tls import shared_ssl_context
from ..types import JSON
from .base import ProviderError

__all__ = ["post_sse"]

_MAX_ERROR_BODY = 2000


async def post_sse(
    client: httpx.AsyncClient, url: str, body: JSON, headers: dict[str, str]
) -> AsyncIterator[tuple[str, JSON | None]]:
    """Yields (event name, parsed data) per SSE message. Data `[DONE]` comes back as None."""
    try:
        async with aconnect_sse(client, "POST", url, json=body, headers=headers) as source:
            response = source.response
            if response.status_code >= 400:
                raw = (await response.aread()).decode("utf-8", "replace")[:_MAX_ERROR_BODY]
                raise ProviderError(
                    f"provider at {url} answered HTTP {response.status_code}",
                    status_code=response.status_code,
                    retryable=response.status_code in {408, 429} or response.status_code >= 500,
                    body=raw,
                )
            async for message in source.aiter_sse():
                if message.data == "[DONE]":
                    yield message.event, None
                    continue
                if not message.data.strip():
                    continue
                try:
                    data: Any = json.loads(message.data)
                except json.JSONDecodeError as error:
                    raise ProviderError(
                        f"provider at {url} sent malformed stream data: {message.data[:200]!r}"
                    ) from error
                if not isinstance(data, dict):
                    raise ProviderError(
                        f"provider at {url} sent stream data that is not an object: "
                        f"{message.data[:200]!r}"
                    )
                yield message.event, data
    except SSEError as error:
        raise ProviderError(
            f"provider at {url} did not answer with an event stream: {error}"
        ) from error
    except httpx.TimeoutException as error:
        raise ProviderError(
            f"provider at {url} timed out ({type(error).__name__})", retryable=True
        ) from error
    except httpx.ConnectError as error:
        raise ProviderError(f"cannot reach provider at {url}: {error}", retryable=True) from error
    except httpx.TransportError as error:
        raise ProviderError(
            f"stream from provider at {url} broke: {type(error).__name__}: {error}",
            retryable=True,
        ) from error


def make_client(timeout: float) -> httpx.AsyncClient:
    # A read timeout bounds the silence between two chunks, not the whole step, which a
    # gated scripted model may legitimately hold for long.
    return httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
                             verify=shared_ssl_context())
