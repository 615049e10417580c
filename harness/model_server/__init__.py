"""The scripted model server: OpenAI- and Anthropic-compatible endpoints that answer from a
script of model steps, paced by a gate the harness runner opens."""

from harness.model_server.app import create_app
from harness.model_server.script import Fault, Finish, ModelStep, ScriptError, ToolCall, Usage
from harness.model_server.scripted_model import (
    TOOLLESS_ANSWER,
    RequestArrived,
    ScriptedModel,
    UsageSent,
)
from harness.model_server.server import ModelServer

__all__ = [
    "TOOLLESS_ANSWER",
    "Fault",
    "Finish",
    "ModelServer",
    "ModelStep",
    "RequestArrived",
    "ScriptError",
    "ScriptedModel",
    "ToolCall",
    "Usage",
    "UsageSent",
    "create_app",
]
