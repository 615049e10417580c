"""The Starlette application: both provider endpoints, the model list and the control API."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harness.model_server import anthropic_format, openai_format
from harness.model_server.scripted_model import Assignment, ScriptedModel
from harness.model_server.streaming import JSON_HEADERS, SSE_HEADERS, Frame, PlayedStep
from harness.model_server.wire import BadRequest, json_bytes, parse_body

SHUTTING_DOWN = BadRequest(None, "the scripted model server is shutting down")
ROUTES_SERVED = (
    "POST /v1/chat/completions, POST /v1/messages, GET /v1/models, "
    "POST /_control/release, GET /_control/state"
)


def _json(body: bytes, status: int = 200) -> Response:
    return Response(body, status_code=status, media_type="application/json")


def _control_error(field: str | None, message: str) -> Response:
    return _json(json_bytes({"error": {"message": message, "field": field}}), 400)


class _Handlers:
    def __init__(self, model: ScriptedModel, closing: asyncio.Event | None) -> None:
        self.model = model
        self.closing = closing
        self.created = int(time.time())

    def _play(
        self,
        assignment: Assignment,
        frames: list[Frame],
        *,
        streaming: bool,
        shutdown_body: bytes,
    ) -> PlayedStep:
        index = assignment.step_index
        model = self.model

        async def gate() -> None:
            assert index is not None
            await model.pass_gate(index)

        def on_usage(in_stream: bool) -> None:
            assert index is not None
            model.record_usage_sent(index, in_stream=in_stream)

        def on_abandon() -> None:
            assert index is not None
            model.record_abandoned(index)

        scripted = index is not None
        return PlayedStep(
            frames,
            headers=SSE_HEADERS if streaming else JSON_HEADERS,
            gate=gate if scripted else None,
            on_usage=on_usage if scripted else None,
            on_abandon=on_abandon if scripted else None,
            chunk_delay=assignment.step.chunk_delay,
            fault=assignment.step.fault,
            closing=self.closing,
            shutdown_body=shutdown_body,
        )

    async def openai_chat(self, request: Request) -> Response | PlayedStep:
        try:
            body = parse_body(await request.body())
            parsed = openai_format.parse_request(body)
        except BadRequest as error:
            return _json(openai_format.error_body(error), 400)
        assignment = self.model.assign(body, has_tools=parsed.has_tools)
        if parsed.stream:
            frames = openai_format.stream_frames(
                assignment.step, model=parsed.model, include_usage=parsed.include_usage
            )
        else:
            whole = openai_format.completion_body(assignment.step, model=parsed.model)
            frames = [Frame(whole, usage_mark="usage")]
        return self._play(
            assignment,
            frames,
            streaming=parsed.stream,
            shutdown_body=openai_format.error_body(SHUTTING_DOWN, "server_error"),
        )

    async def anthropic_messages(self, request: Request) -> Response | PlayedStep:
        try:
            body = parse_body(await request.body())
            parsed = anthropic_format.parse_request(body)
        except BadRequest as error:
            return _json(anthropic_format.error_body(error), 400)
        assignment = self.model.assign(body, has_tools=parsed.has_tools)
        if parsed.stream:
            frames = anthropic_format.stream_frames(assignment.step, model=parsed.model)
        else:
            whole = anthropic_format.message_body(assignment.step, model=parsed.model)
            frames = [Frame(whole, usage_mark="usage")]
        return self._play(
            assignment,
            frames,
            streaming=parsed.stream,
            shutdown_body=anthropic_format.error_body(SHUTTING_DOWN, "api_error"),
        )

    async def models(self, request: Request) -> Response:
        return _json(openai_format.models_body(self.model.model_id, self.created))

    async def control_release(self, request: Request) -> Response:
        try:
            body = parse_body(await request.body())
        except BadRequest as error:
            return _control_error(error.field, error.message)
        count, release_all = body.get("count"), body.get("all")
        if (count is None) == (release_all is None):
            return _control_error(None, 'send exactly one of {"count": n} or {"all": true}')
        if release_all is not None:
            if release_all is not True:
                return _control_error("all", f"all: must be true, got {release_all!r}")
            self.model.release_all()
        else:
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                return _control_error(
                    "count", f"count: a non-negative integer is required, got {count!r}"
                )
            self.model.release(count)
        return _json(json_bytes(self.model.state()))

    async def control_state(self, request: Request) -> Response:
        return _json(json_bytes(self.model.state()))


async def _not_served(request: Request, error: Exception) -> Response:
    status = error.status_code if isinstance(error, HTTPException) else 500
    message = (
        f"the scripted model server does not serve {request.method} {request.url.path}; "
        f"it serves {ROUTES_SERVED}"
    )
    body: dict[str, Any] = {"error": {"message": message, "type": "not_found_error"}}
    return _json(json_bytes(body), status)


def create_app(model: ScriptedModel, closing: asyncio.Event | None = None) -> Starlette:
    """Build the ASGI app. `closing`, set on the server's loop, releases held requests."""
    handlers = _Handlers(model, closing)
    routes = [
        Route("/v1/chat/completions", handlers.openai_chat, methods=["POST"]),
        Route("/v1/messages", handlers.anthropic_messages, methods=["POST"]),
        Route("/v1/models", handlers.models, methods=["GET"]),
        Route("/_control/release", handlers.control_release, methods=["POST"]),
        Route("/_control/state", handlers.control_state, methods=["GET"]),
    ]
    return Starlette(routes=routes, exception_handlers={404: _not_served, 405: _not_served})
