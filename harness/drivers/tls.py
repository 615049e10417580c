"""One TLS context for the harness's HTTP clients (runner, event streams, protocol surface).

httpx builds a fresh context for every client, loading the whole CA bundle (50-70 ms on this
machine), and a run makes several clients; sharing one, built exactly as httpx builds its default,
keeps that out of every run's start. An SSLContext is safe to share between connections.
"""

from __future__ import annotations

import functools
import ssl

import httpx

__all__ = ["shared_ssl_context"]


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()
