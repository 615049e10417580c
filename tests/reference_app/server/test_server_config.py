from __future__ import annotations

from pathlib import Path

import pytest

from reference_app.server.__main__ import main
from reference_app.server.config import AgentConfig, ConfigError, apply_environment, load_config

TOML = """
data_dir = "data"
server_fix = false

[provider]
kind = "openai"
base_url = "http://127.0.0.1:9/v1"

[[models]]
id = "scripted-1"
context_limit = 100000
price = { input = 3.0, output = 15.0, cache_read = 0.3, cache_write = 3.75 }

[[models]]
id = "free"
"""

YAML = """
data_dir: /tmp/freshness-data
provider: {kind: anthropic, base_url: "http://127.0.0.1:9"}
models:
  - {id: scripted-1, name: Scripted One, context_limit: 200000}
password: hunter2
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_toml_config_loads_with_data_dir_relative_to_the_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "agent.toml", TOML), environ={})
    assert config.data_dir == tmp_path / "data"
    assert config.host == "127.0.0.1"
    assert config.port == 0
    assert config.replay_buffer == 1000
    assert config.generate_titles is False
    assert config.models[0].price is not None
    assert config.models[0].price.cache_write == 3.75
    assert config.models[1].price is None
    assert config.models[1].name == "free"


def test_yaml_config_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "agent.yaml", YAML), environ={})
    assert config.provider.kind == "anthropic"
    assert config.models[0].name == "Scripted One"
    assert config.password == "hunter2"


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("true", True), ("0", False)])
def test_environment_switches_the_server_fix(tmp_path: Path, value: str, expected: bool) -> None:
    config = load_config(write(tmp_path, "agent.toml", TOML),
                         environ={"FRESHNESS_SERVER_FIX": value})
    assert config.server_fix is expected


def test_environment_sets_the_password(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "agent.toml", TOML), environ={})
    assert apply_environment(config, {"FRESHNESS_SERVER_PASSWORD": "pw"}).password == "pw"
    assert apply_environment(config, {}) is config


def test_misspelt_key_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "agent.toml", "server_fixx = true\n" + TOML)
    with pytest.raises(ConfigError, match=r"(?s)agent\.toml: invalid config.*server_fixx"):
        load_config(path, environ={})


@pytest.mark.parametrize(("name", "text", "message"), [
    ("agent.ini", "x", "unknown config format"),
    ("agent.toml", "= =", "not valid TOML"),
    ("agent.yaml", "- a list", "must be a mapping"),
])
def test_unreadable_configs_say_why(tmp_path: Path, name: str, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, name, text), environ={})


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.toml", environ={})


def test_model_lookup() -> None:
    config = AgentConfig.model_validate({
        "models": [{"id": "a"}], "provider": {"kind": "openai", "base_url": "http://x"},
        "data_dir": "/tmp/x"})
    assert config.model("a") is config.models[0]
    assert config.model("b") is None


def test_cli_reports_a_bad_config_with_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(tmp_path / "missing.toml")]) == 2
    assert "cannot read config file" in capsys.readouterr().err
