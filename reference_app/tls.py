"""One TLS context for every HTTP client the reference app makes.

httpx builds a fresh context for each client, loading the whole CA bundle (50-70 ms here), even
for a client that only ever talks plain HTTP on loopback. The client makes three on a reload and
the server one per start, so that load was a large part of starting and reloading. The context is
built exactly as httpx builds its default one and shared: an SSLContext is safe to share between
connections and threads.
"""

from __future__ import annotations

import functools
import ssl

import httpx

__all__ = ["shared_ssl_context"]


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()
