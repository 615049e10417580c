"""The config and environment an opencode-family agent gets (pure: nothing is installed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import TargetError
from harness.targets.base import ModelPlan, TargetPlan
from harness.targets.kilo import KILO
from harness.targets.npm_cache import platform_package_names
from harness.targets.opencode import OPENCODE
from harness.targets.opencode_family import PROVIDER_ID, Layout, agent_config, agent_env
from harness.targets.registry import TARGETS, make_target

PAID = ModelPlan("paid", 100_000, 3.0, 15.0, 0.3, 3.75)
LOCAL = ModelPlan("local", 32_000, None, None, None, None)


def plan(tmp_path: Path, *models: ModelPlan) -> TargetPlan:
    return TargetPlan(models or (PAID,), "http://127.0.0.1:5555/v1", False, False, tmp_path)


def test_provider_points_at_the_scripted_model_server(tmp_path: Path) -> None:
    config = agent_config(plan(tmp_path))
    provider = config["provider"][PROVIDER_ID]
    assert provider["npm"] == "@ai-sdk/openai-compatible"
    assert provider["options"]["baseURL"] == "http://127.0.0.1:5555/v1"
    assert provider["options"]["includeUsage"] is True
    assert config["model"] == f"{PROVIDER_ID}/paid"
    assert config["small_model"] == f"{PROVIDER_ID}/paid"
    assert config["enabled_providers"] == [PROVIDER_ID]


def test_each_model_carries_its_prices_and_limits(tmp_path: Path) -> None:
    models = agent_config(plan(tmp_path, PAID, LOCAL))["provider"][PROVIDER_ID]["models"]
    assert models["paid"]["cost"] == {
        "input": 3.0,
        "output": 15.0,
        "cache_read": 0.3,
        "cache_write": 3.75,
    }
    assert models["paid"]["limit"] == {"context": 100_000, "output": 25_000}
    assert models["paid"]["tool_call"] is True
    # opencode has no "unknown price": an unpriced model can only be configured as free.
    assert models["local"]["cost"] == {
        "input": 0.0,
        "output": 0.0,
        "cache_read": 0.0,
        "cache_write": 0.0,
    }
    assert models["local"]["limit"]["context"] == 32_000


def test_updates_sharing_and_snapshots_are_off(tmp_path: Path) -> None:
    config = agent_config(plan(tmp_path))
    assert config["autoupdate"] is False
    assert config["share"] == "disabled"
    assert config["snapshot"] is False


def test_a_plan_without_models_is_a_configure_error(tmp_path: Path) -> None:
    empty = TargetPlan((), "http://127.0.0.1:1/v1", False, False, tmp_path)
    with pytest.raises(TargetError, match="configure"):
        agent_config(empty)


def test_the_anthropic_wire_format_is_refused_at_configure(tmp_path: Path) -> None:
    anthropic = TargetPlan((PAID,), "http://127.0.0.1:1/v1", False, False, tmp_path,
                           provider="anthropic")
    with pytest.raises(TargetError, match=r"configure: .*anthropic wire format"):
        agent_config(anthropic)


@pytest.mark.parametrize("flavor", [OPENCODE, KILO], ids=lambda f: f.name)
def test_environment_is_isolated_under_the_workdir(tmp_path: Path, flavor: object) -> None:
    from harness.targets.opencode_family import Flavor

    assert isinstance(flavor, Flavor)
    layout = Layout.under(tmp_path, flavor)
    user = {
        "PATH": "/usr/bin",
        "HOME": "/root",
        "OPENAI_API_KEY": "secret",
        "XDG_CONFIG_HOME": "/x",
    }
    env = agent_env(flavor, layout, user)
    for key in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        assert Path(env[key]).is_relative_to(tmp_path.resolve()), key
    assert "OPENAI_API_KEY" not in env
    assert env["PATH"] == "/usr/bin"
    p = flavor.env_prefix
    for switch in ("DISABLE_AUTOUPDATE", "DISABLE_SHARE", "DISABLE_MODELS_FETCH"):
        assert env[f"{p}_{switch}"] == "1"
    assert env[f"{p}_CONFIG"] == str(layout.config_file)


def test_kilo_turns_off_its_own_telemetry(tmp_path: Path) -> None:
    env = agent_env(KILO, Layout.under(tmp_path, KILO), {})
    assert env["KILO_TELEMETRY_LEVEL"] == "off"
    assert env["KILO_DISABLE_SESSION_INGEST"] == "1"


def test_platform_packages_are_named_like_the_published_ones() -> None:
    names = platform_package_names("@kilocode/cli")
    assert all(name.startswith("@kilocode/cli-") for name in names)
    assert {name.replace("-baseline", "") for name in names} == {names[0].replace("-baseline", "")}


def test_registry_knows_the_real_targets() -> None:
    assert {"reference", "opencode", "kilo"} <= set(TARGETS)
    assert make_target("opencode").name == "opencode"
    assert make_target("kilo").name == "kilo"
