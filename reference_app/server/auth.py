"""Optional HTTP basic password on every route, the event stream included.

Like opencode's server password, any user name is accepted; only the password counts. A
plain ASGI middleware (not BaseHTTPMiddleware) so streaming responses pass through untouched.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["BasicPasswordMiddleware"]


class BasicPasswordMiddleware:
    def __init__(self, app: ASGIApp, password: str) -> None:
        self.app = app
        self._password = password.encode("utf-8")

    def _authorized(self, scope: Scope) -> bool:
        for name, value in scope.get("headers", []):
            if name != b"authorization":
                continue
            scheme, _, encoded = value.partition(b" ")
            if scheme.lower() != b"basic":
                return False
            try:
                decoded = base64.b64decode(encoded.strip(), validate=True)
            except (binascii.Error, ValueError):
                return False
            _user, _, password = decoded.partition(b":")
            return secrets.compare_digest(password, self._password)
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Only lifespan passes unchecked. A websocket used to pass too: no route takes one
        # today, but the first that did would have been open to anyone.
        if scope["type"] == "lifespan" or self._authorized(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008,
                        "reason": "this server needs a password (HTTP basic auth)"})
            return
        body = json.dumps({"name": "UnauthorizedError",
                           "data": {"message": "this server needs a password (HTTP basic auth)"}}
                          ).encode()
        await send({"type": "http.response.start", "status": 401, "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"www-authenticate", b'Basic realm="freshness"'),
        ]})
        await send({"type": "http.response.body", "body": body})
