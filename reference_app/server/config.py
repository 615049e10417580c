"""Configuration of the reference agent server (the contract in docs/architecture.md).

A config comes from a TOML or YAML file (`load_config`), then the environment
(`apply_environment`: FRESHNESS_SERVER_FIX, FRESHNESS_SERVER_PASSWORD), then CLI flags
(__main__.py). Later sources win.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = [
    "PROVIDER_ID",
    "AgentConfig",
    "ConfigError",
    "ModelConfig",
    "Price",
    "ProviderConfig",
    "apply_environment",
    "load_config",
]

# Every configured model is served under this provider id, whatever wire format it speaks.
PROVIDER_ID = "scripted"

_TRUTHY = {"1", "true", "yes", "on"}


class ConfigError(ValueError):
    """A config file that cannot be read or does not match the schema."""


class _Strict(BaseModel):
    # A misspelt key must fail loudly rather than silently fall back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Price(_Strict):
    """Dollars per one million tokens. Reasoning tokens are billed at the output price."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_read: float = Field(default=0.0, ge=0)
    cache_write: float = Field(default=0.0, ge=0)


class ModelConfig(_Strict):
    id: str = Field(min_length=1)
    name: str = ""
    context_limit: int = Field(default=200_000, gt=0)
    price: Price | None = None  # None: unpriced, its spend is unknown (null), never $0

    @model_validator(mode="after")
    def _default_name(self) -> ModelConfig:
        if not self.name:
            object.__setattr__(self, "name", self.id)
        return self


class ProviderConfig(_Strict):
    kind: Literal["openai", "anthropic"]
    base_url: str = Field(min_length=1)
    api_key: str = "scripted"
    timeout: float = Field(default=60.0, gt=0)  # seconds of silence before a step fails


class AgentConfig(_Strict):
    models: list[ModelConfig] = Field(min_length=1)
    provider: ProviderConfig
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535)
    server_fix: bool = False
    replay_buffer: int = Field(default=1000, ge=1)
    subscriber_queue: int = Field(default=10_000, ge=1)
    password: str | None = None
    generate_titles: bool = False
    max_steps: int = Field(default=50, ge=1)
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    """Largest request body accepted (413 beyond it): a title or prompt is stored and sent back
    to every client, so an unbounded one grows memory and every later list response."""
    event_faults: bool = False
    """Test switch: POST /_test/event_faults may then duplicate or delay the next event of a
    type. Never on in a real deployment."""

    def model(self, model_id: str) -> ModelConfig | None:
        return next((model for model in self.models if model.id == model_id), None)

    @property
    def workspace(self) -> Path:
        """The only directory the built-in tools may touch."""
        return self.data_dir / "workspace"

    @property
    def database_path(self) -> Path:
        return self.data_dir / "agent.sqlite3"


def _read_mapping(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read config file ({error.strerror})") from error
    try:
        if path.suffix == ".toml":
            data: Any = tomllib.loads(text)
        elif path.suffix in {".yaml", ".yml"}:
            data = yaml.safe_load(text)
        else:
            raise ConfigError(f"{path}: unknown config format; use a .toml, .yaml or .yml file")
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as error:
        raise ConfigError(f"{path}: not valid {path.suffix[1:].upper()}: {error}") from error
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of settings")
    return data


def load_config(path: str | Path, *, environ: Mapping[str, str] | None = None) -> AgentConfig:
    """Read a config file, then apply the environment. A relative data_dir is taken
    relative to the file, so a config can sit beside its data."""
    path = Path(path)
    data = _read_mapping(path)
    if "data_dir" in data and not Path(str(data["data_dir"])).is_absolute():
        data["data_dir"] = str(path.parent / str(data["data_dir"]))
    try:
        config = AgentConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(f"{path}: invalid config:\n{error}") from error
    return apply_environment(config, os.environ if environ is None else environ)


def apply_environment(config: AgentConfig, environ: Mapping[str, str]) -> AgentConfig:
    """FRESHNESS_SERVER_FIX=1 turns the server fix on; FRESHNESS_SERVER_PASSWORD sets the
    password. Unset variables leave the config as it is."""
    changes: dict[str, Any] = {}
    fix = environ.get("FRESHNESS_SERVER_FIX")
    if fix is not None and fix.strip() != "":
        changes["server_fix"] = fix.strip().lower() in _TRUTHY
    password = environ.get("FRESHNESS_SERVER_PASSWORD")
    if password:
        changes["password"] = password
    return config.model_copy(update=changes) if changes else config
