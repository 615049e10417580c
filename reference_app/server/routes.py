"""HTTP routes, named and shaped like the opencode API subset."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sse_starlette import EventSourceResponse

from . import events
from .agent import Agent, SessionBusy, UnknownModel
from .bus import Bus
from .config import PROVIDER_ID
from .errors import BadRequest
from .providers.base import ProviderError
from .repo import Repository
from .stream import event_stream
from .types import JSON

__all__ = ["router"]

router = APIRouter()

# SQLite integers are 64-bit signed; a larger LIMIT does not fit the driver and used to end in
# a 500 (found by fuzzing from /doc). Anything this big already means "all of them".
MAX_LIMIT = 2**63 - 1


def _refuse_lone_surrogates(value: Any) -> None:
    # JSON may escape half a UTF-16 pair ("\\ud800"); Python decodes it to a str that UTF-8
    # cannot encode, so storing it crashed the turn and every later read of the session.
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(
                "contains a lone UTF-16 surrogate (\\ud800-\\udfff), which is not text"
            ) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_lone_surrogates(key)
            _refuse_lone_surrogates(item)
    elif isinstance(value, list):
        for item in value:
            _refuse_lone_surrogates(item)


class _Body(BaseModel):
    # Unknown fields are refused, as opencode's schemas (additionalProperties: false) do.
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _text_only(cls, value: Any) -> Any:
        _refuse_lone_surrogates(value)
        return value


class SessionCreateBody(_Body):
    title: str | None = None
    parentID: str | None = None
    agent: str | None = None
    metadata: dict[str, Any] | None = None


class SessionUpdateBody(_Body):
    title: str | None = Field(default=None, min_length=1)
    metadata: dict[str, Any] | None = None


class ModelRef(_Body):
    providerID: str
    modelID: str


class TextPartInput(_Body):
    type: Literal["text"]
    text: str
    id: str | None = None
    synthetic: bool | None = None
    ignored: bool | None = None
    time: dict[str, int] | None = None
    metadata: dict[str, Any] | None = None


class PromptBody(_Body):
    parts: list[TextPartInput] = Field(min_length=1)
    model: ModelRef | None = None
    messageID: str | None = None
    agent: str | None = None
    noReply: bool | None = None
    system: str | None = None
    tools: dict[str, bool] | None = None
    variant: str | None = None


class RevertBody(_Body):
    messageID: str = Field(min_length=1)
    partID: str | None = None


class SummarizeBody(_Body):
    providerID: str
    modelID: str
    auto: bool | None = None


def _repo(request: Request) -> Repository:
    repo: Repository = request.app.state.repo
    return repo


def _bus(request: Request) -> Bus:
    bus: Bus = request.app.state.bus
    return bus


def _agent(request: Request) -> Agent:
    agent: Agent = request.app.state.agent
    return agent


@router.get("/session/status")
async def session_status(request: Request) -> dict[str, JSON]:
    return _agent(request).status()


@router.get("/config/models")
async def config_models(request: Request) -> list[JSON]:
    """Read-only: the configured models with their context limits (the web page's percent)."""
    return [{"id": model.id, "providerID": PROVIDER_ID, "name": model.name,
             "limit": {"context": model.context_limit}}
            for model in request.app.state.config.models]


@router.post("/session")
async def create_session(request: Request, body: SessionCreateBody | None = None) -> JSON:
    body = body or SessionCreateBody()
    if body.parentID is not None and not _exists(request, body.parentID):
        raise BadRequest("parentID", f"no session {body.parentID!r} to be the parent")
    info = _repo(request).create_session(title=body.title, parent_id=body.parentID)
    _bus(request).publish(events.session_created(info))
    return info


def _exists(request: Request, session_id: str) -> bool:
    try:
        _repo(request).get_session(session_id)
    except LookupError:
        return False
    return True


@router.get("/session")
async def list_sessions(
    request: Request, limit: Annotated[int | None, Query(ge=0, le=MAX_LIMIT)] = None
) -> list[JSON]:
    return _repo(request).list_sessions(limit=limit)


@router.get("/session/{sessionID}")
async def get_session(request: Request, sessionID: str) -> JSON:
    return _repo(request).get_session(sessionID)


@router.patch("/session/{sessionID}")
async def update_session(
    request: Request, sessionID: str, body: SessionUpdateBody
) -> JSON:
    repo = _repo(request)
    if body.title is None:
        return repo.get_session(sessionID)
    # The rename reads the whole row, so this session.updated carries the current totals:
    # a rename refreshes a stale cost as a side effect, as in real agents.
    info = repo.rename_session(sessionID, body.title)
    _bus(request).publish(events.session_updated(info))
    return info


@router.delete("/session/{sessionID}")
async def delete_session(request: Request, sessionID: str) -> bool:
    _repo(request).get_session(sessionID)
    await _agent(request).abort(sessionID)
    info = _repo(request).delete_session(sessionID)
    _bus(request).publish(events.session_deleted(info))
    return True


@router.get("/session/{sessionID}/message")
async def list_messages(
    request: Request,
    sessionID: str,
    limit: Annotated[int | None, Query(ge=0, le=MAX_LIMIT)] = None,
) -> list[JSON]:
    return _repo(request).list_messages(sessionID, limit=limit)


@router.get("/session/{sessionID}/message/{messageID}")
async def get_message(request: Request, sessionID: str, messageID: str) -> JSON:
    return _repo(request).get_message(sessionID, messageID)


@router.post("/session/{sessionID}/prompt_async", status_code=204)
async def prompt_async(
    request: Request, sessionID: str, body: PromptBody
) -> Response:
    _repo(request).get_session(sessionID)
    agent = _agent(request)
    if body.model is not None and body.model.providerID != PROVIDER_ID:
        raise BadRequest("model.providerID",
                         f"unknown provider {body.model.providerID!r}; use {PROVIDER_ID!r}")
    try:
        model = agent.resolve_model(body.model.modelID if body.model else None)
    except UnknownModel as error:
        raise BadRequest("model.modelID", str(error)) from error
    text = "\n".join(part.text for part in body.parts if not part.ignored)
    try:
        agent.start_turn(sessionID, text, model)
    except SessionBusy as error:
        return JSONResponse({"_tag": "SessionBusyError", "sessionID": sessionID,
                             "message": str(error)}, status_code=409)
    return Response(status_code=204)


@router.post("/session/{sessionID}/abort")
async def abort(request: Request, sessionID: str) -> bool:
    _repo(request).get_session(sessionID)
    return await _agent(request).abort(sessionID)


@router.post("/session/{sessionID}/revert")
async def revert(request: Request, sessionID: str, body: RevertBody) -> Response:
    """Back to before `messageID`: it and every later message go (message.removed each).
    The session's totals stay: money spent is not refunded."""
    repo = _repo(request)
    repo.get_session(sessionID)
    try:
        _agent(request).revert(sessionID, body.messageID)
    except SessionBusy as error:
        return _busy(sessionID, error)
    return JSONResponse(repo.get_session(sessionID))


@router.post("/session/{sessionID}/summarize")
async def summarize(request: Request, sessionID: str, body: SummarizeBody) -> Response:
    """Compaction: a summary written by the model replaces the older messages; the summary's
    own step is billed. Answers when it is done."""
    _repo(request).get_session(sessionID)
    agent = _agent(request)
    if body.providerID != PROVIDER_ID:
        raise BadRequest("providerID", f"unknown provider {body.providerID!r}; use {PROVIDER_ID!r}")
    try:
        model = agent.resolve_model(body.modelID)
    except UnknownModel as error:
        raise BadRequest("modelID", str(error)) from error
    try:
        await agent.summarize(sessionID, model)
    except SessionBusy as error:
        return _busy(sessionID, error)
    except ProviderError as error:
        # The provider failed, not this server: opencode answers a named error with 400.
        return JSONResponse(error.to_json(), status_code=400)
    return JSONResponse(True)


@router.get("/session/{sessionID}/children")
async def children(request: Request, sessionID: str) -> list[JSON]:
    """Sessions started by this one (subagents), each with its own totals."""
    return _repo(request).list_children(sessionID)


class EventFaultBody(_Body):
    duplicate: str | None = None
    delay: str | None = None


@router.post("/_test/event_faults", include_in_schema=False)
async def event_faults(request: Request, body: EventFaultBody) -> Response:
    """Arm a one-shot fault on the next event of a type; 404 unless the config's
    `event_faults` test switch is on."""
    faults = _bus(request).faults
    if faults is None:
        return JSONResponse({"name": "NotFoundError",
                             "data": {"message": "event faults are off in this server"}},
                            status_code=404)
    if body.duplicate:
        faults.duplicate(body.duplicate)
    if body.delay:
        faults.delay(body.delay)
    return JSONResponse(True)


def _busy(session_id: str, error: SessionBusy) -> JSONResponse:
    return JSONResponse({"_tag": "SessionBusyError", "sessionID": session_id,
                         "message": str(error)}, status_code=409)


@router.get("/event")
async def subscribe(
    request: Request,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> EventSourceResponse:
    after: int | None = None
    if last_event_id is not None and last_event_id.strip():
        try:
            after = int(last_event_id)
        except ValueError:
            raise BadRequest("Last-Event-ID", "must be an integer event sequence",
                             kind="Headers") from None
        if after < 0:
            raise BadRequest("Last-Event-ID", "must not be negative", kind="Headers")
    return EventSourceResponse(event_stream(_bus(request), after))
