"""A small async REST client for the agent server's opencode-shaped routes."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx

from ..tls import shared_ssl_context
from .store import JSONObject

__all__ = ["AgentApi", "ApiError", "AuthLike"]

AuthLike = httpx.Auth | tuple[str, str] | None
PROVIDER_ID = "scripted"


class ApiError(Exception):
    """The server answered a request with a non-2xx status."""

    def __init__(self, method: str, url: str, status: int, message: str, body: Any) -> None:
        super().__init__(f"{method} {url} answered {status}: {message}")
        self.method = method
        self.url = url
        self.status = status
        self.message = message
        self.body = body


def _server_message(response: httpx.Response) -> tuple[str, Any]:
    """The human message from any of the error shapes the API uses."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return (text or response.reason_phrase or "no message"), text
    if isinstance(body, dict):
        data = body.get("data")
        if isinstance(data, dict) and isinstance(data.get("message"), str):
            return data["message"], body  # NotFoundError, BadRequest: {name, data: {message}}
        for key in ("message", "detail"):  # InvalidRequestError, SessionBusyError; FastAPI
            if isinstance(body.get(key), str):
                return body[key], body
        for key in ("name", "_tag"):
            if isinstance(body.get(key), str):
                return body[key], body
    return str(body), body


class AgentApi:
    """One method per route the client and the harness use. Use as an async context manager
    or call `aclose()`."""

    def __init__(
        self,
        base_url: str,
        *,
        auth: AuthLike = None,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.base_url, auth=auth, timeout=timeout, transport=transport,
            verify=shared_ssl_context(),
        )

    async def __aenter__(self) -> AgentApi:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self._http.request(method, path, **kwargs)
        if not response.is_success:
            message, body = _server_message(response)
            raise ApiError(method, str(response.url), response.status_code, message, body)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    async def list_sessions(self) -> list[JSONObject]:
        result: list[JSONObject] = await self._request("GET", "/session")
        return result

    async def get_session(self, session_id: str) -> JSONObject:
        result: JSONObject = await self._request("GET", f"/session/{session_id}")
        return result

    async def get_messages(self, session_id: str, limit: int | None = None) -> list[JSONObject]:
        """The session's last `limit` messages (all when None), oldest first, each
        `{"info": ..., "parts": [...]}`."""
        params = {} if limit is None else {"limit": limit}
        result: list[JSONObject] = await self._request(
            "GET", f"/session/{session_id}/message", params=params
        )
        return result

    async def create_session(self, title: str | None = None) -> JSONObject:
        body = {} if title is None else {"title": title}
        result: JSONObject = await self._request("POST", "/session", json=body)
        return result

    async def rename(self, session_id: str, title: str) -> JSONObject:
        result: JSONObject = await self._request(
            "PATCH", f"/session/{session_id}", json={"title": title}
        )
        return result

    async def prompt_async(
        self, session_id: str, text: str, *, model_id: str | None = None
    ) -> None:
        """Start a turn; the server answers at once (204) and the turn runs behind it."""
        body: JSONObject = {"parts": [{"type": "text", "text": text}]}
        if model_id is not None:
            body["model"] = {"providerID": PROVIDER_ID, "modelID": model_id}
        await self._request("POST", f"/session/{session_id}/prompt_async", json=body)

    async def abort(self, session_id: str) -> bool:
        return bool(await self._request("POST", f"/session/{session_id}/abort"))

    async def delete_session(self, session_id: str) -> bool:
        return bool(await self._request("DELETE", f"/session/{session_id}"))
