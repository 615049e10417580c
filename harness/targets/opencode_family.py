"""Real opencode-family agents (opencode, Kilo CLI) as targets: install, isolate, configure, serve.

Both ship one native binary with the same ``serve`` command, config schema and HTTP API; they
differ in package names, the prefix of their environment switches (``OPENCODE_*`` / ``KILO_*``)
and a few extra switches. :class:`Flavor` holds those differences; everything else is here.

Isolation: the agent gets its own HOME and XDG folders and a project folder under the run's
workdir, so it reads none of the user's config, auth or sessions and writes nothing outside the
run. Autoupdate, sharing, telemetry, the models.dev fetch, LSP downloads and external/default
plugins are switched off, both in the config and through the environment (the environment also
covers code paths that run before the config is read).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from harness.drivers.base import TargetInfo
from harness.errors import TargetError
from harness.targets.base import ModelPlan, TargetPlan
from harness.targets.npm_cache import InstalledPackage, ensure_installed, tail

__all__ = [
    "PROVIDER_ID",
    "Flavor",
    "OpencodeFamilyTarget",
    "RunningAgent",
    "agent_config",
    "agent_env",
]

PROVIDER_ID = "freshness"
"""The custom provider every scenario model is registered under."""

START_TIMEOUT = 60.0
SETTLE_QUIET = 1.0
STOP_GRACE = 5.0


@dataclass(frozen=True)
class Flavor:
    """What differs between members of the family."""

    name: str
    package: str
    version: str
    binary: str
    platform_stems: tuple[str, ...]
    """Platform packages' names without ``-linux-x64`` and the like."""
    env_prefix: str
    """``OPENCODE`` or ``KILO``: the prefix of the agent's environment switches."""
    config_name: str
    """The config file's name inside the agent's folder under XDG_CONFIG_HOME."""
    app_dir: str
    """The agent's folder name under the XDG folders (``opencode``, ``kilo``)."""
    extra_env: Mapping[str, str] = field(default_factory=dict)


def _per_million(value: float | None) -> float:
    # opencode treats a missing price as 0 (free), never as unknown: an unpriced scenario model
    # can only be given as 0 here, and the report must say so rather than hide it.
    return float(value) if value is not None else 0.0


def _model_entry(model: ModelPlan) -> dict[str, Any]:
    return {
        "name": model.id,
        # The scripted model streams tool calls; the agent must send its tools on every step
        # request, because the scripted server answers a request without tools off-script.
        "tool_call": True,
        "reasoning": False,
        "attachment": False,
        "temperature": True,
        "cost": {
            "input": _per_million(model.price_input),
            "output": _per_million(model.price_output),
            "cache_read": _per_million(model.price_cache_read),
            "cache_write": _per_million(model.price_cache_write),
        },
        # The output limit must stay below the context, or the agent reserves the whole window.
        "limit": {"context": model.context, "output": max(1, min(32_000, model.context // 4))},
    }


def agent_config(plan: TargetPlan) -> dict[str, Any]:
    """The agent's JSON config: one custom provider at the scripted model server (pure)."""
    if not plan.models:
        raise TargetError("configure: the scenario declares no model")
    if plan.provider != "openai":
        # The agent's own Anthropic provider would be fetched from npm at run time; only the
        # openai-compatible one is known to work offline against the scripted model.
        raise TargetError(
            f"configure: the scenario asks for the {plan.provider} wire format"
            " (agent.provider), but this target is driven through @ai-sdk/openai-compatible"
            " only; run it on the reference target"
        )
    first = plan.models[0].id
    return {
        "$schema": "https://opencode.ai/config.json",
        "autoupdate": False,
        "share": "disabled",
        "snapshot": False,
        "enabled_providers": [PROVIDER_ID],
        "model": f"{PROVIDER_ID}/{first}",
        # Title generation goes to the small model; keep it on the scripted server too, where a
        # request without tools gets a short unscripted answer outside the script.
        "small_model": f"{PROVIDER_ID}/{first}",
        "lsp": False,
        "formatter": False,
        "permission": {"edit": "allow", "bash": "allow", "webfetch": "deny"},
        "provider": {
            PROVIDER_ID: {
                "npm": "@ai-sdk/openai-compatible",
                "name": "Freshness scripted model",
                "options": {
                    "baseURL": plan.openai_base_url,
                    "apiKey": "freshness-scripted",
                    # Usage arrives in the last stream chunk only when the client asks for it.
                    "includeUsage": True,
                },
                "models": {model.id: _model_entry(model) for model in plan.models},
            }
        },
    }


@dataclass(frozen=True)
class Layout:
    """The run's private folders for the agent."""

    root: Path
    home: Path
    config_home: Path
    data_home: Path
    cache_home: Path
    state_home: Path
    project: Path
    config_file: Path
    log: Path

    @classmethod
    def under(cls, workdir: Path, flavor: Flavor) -> Layout:
        root = (workdir / flavor.name).resolve()
        config_home = root / "xdg-config"
        return cls(
            root=root,
            home=root / "home",
            config_home=config_home,
            data_home=root / "xdg-data",
            cache_home=root / "xdg-cache",
            state_home=root / "xdg-state",
            project=root / "project",
            config_file=config_home / flavor.app_dir / flavor.config_name,
            log=workdir.resolve() / "target.log",
        )

    def create(self) -> None:
        for folder in (
            self.home,
            self.config_home,
            self.data_home,
            self.cache_home,
            self.state_home,
            self.project,
            self.config_file.parent,
        ):
            folder.mkdir(parents=True, exist_ok=True)


def agent_env(flavor: Flavor, layout: Layout, base: Mapping[str, str]) -> dict[str, str]:
    """The agent's environment: the caller's PATH and locale, nothing else of the user's (pure)."""
    kept = {key: base[key] for key in ("PATH", "LANG", "LC_ALL", "TZ", "TERM") if key in base}
    p = flavor.env_prefix
    env = {
        **kept,
        "HOME": str(layout.home),
        "USERPROFILE": str(layout.home),
        "XDG_CONFIG_HOME": str(layout.config_home),
        "XDG_DATA_HOME": str(layout.data_home),
        "XDG_CACHE_HOME": str(layout.cache_home),
        "XDG_STATE_HOME": str(layout.state_home),
        # The project folder is its own git root: the agent must not climb into the repo
        # that holds the run folder, read its AGENTS.md or snapshot its files.
        "GIT_CEILING_DIRECTORIES": str(layout.root),
        f"{p}_CONFIG": str(layout.config_file),
        f"{p}_DISABLE_PROJECT_CONFIG": "1",
        f"{p}_DISABLE_AUTOUPDATE": "1",
        f"{p}_DISABLE_SHARE": "1",
        f"{p}_DISABLE_MODELS_FETCH": "1",
        f"{p}_DISABLE_LSP_DOWNLOAD": "1",
        f"{p}_DISABLE_DEFAULT_PLUGINS": "1",
        f"{p}_DISABLE_CLAUDE_CODE": "1",
        f"{p}_DISABLE_EXTERNAL_SKILLS": "1",
        f"{p}_DISABLE_PRUNE": "1",
        f"{p}_DISABLE_AUTOCOMPACT": "1",
        f"{p}_DISABLE_EMBEDDED_WEB_UI": "1",
        "DO_NOT_TRACK": "1",
        "NO_COLOR": "1",
    }
    env.update(flavor.extra_env)
    return env


@dataclass
class RunningAgent:
    info: TargetInfo
    process: subprocess.Popen[bytes]
    log_path: Path
    install: InstalledPackage
    start_seconds: float
    provider_id: str = PROVIDER_ID

    async def stop(self) -> None:
        await asyncio.to_thread(stop_process_group, self.process)


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the agent's whole process group, then SIGKILL what is left after a grace period.

    The agent may spawn children (a shell tool, a plugin host); they share its group because it
    was started as a session leader, so one signal to the group reaches them all.
    """
    pgid = process.pid
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_GRACE)
    # The leader may be gone while a child lingers: kill the group regardless.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_GRACE)
    deadline = time.monotonic() + STOP_GRACE
    while time.monotonic() < deadline and _group_alive(pgid):
        time.sleep(0.05)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class OpencodeFamilyTarget:
    """A Target for one flavor; ``start`` installs (cached), configures and serves."""

    def __init__(self, flavor: Flavor, cache: Path | None = None) -> None:
        self.flavor = flavor
        self.name = flavor.name
        self.applies_fixes = False
        self._cache = cache

    def install(self) -> InstalledPackage:
        return ensure_installed(
            self.flavor.package,
            self.flavor.version,
            binary=self.flavor.binary,
            platform_stems=self.flavor.platform_stems,
            cache=self._cache,
        )

    def prepare(self, plan: TargetPlan) -> tuple[Layout, dict[str, str]]:
        """Write the isolated folders and config; return them with the environment."""
        layout = Layout.under(plan.workdir, self.flavor)
        layout.create()
        layout.config_file.write_text(json.dumps(agent_config(plan), indent=2), encoding="utf-8")
        if not (layout.project / ".git").exists():
            subprocess.run(
                ["git", "init", "-q", str(layout.project)],
                check=False,
                capture_output=True,
                env={**os.environ, "HOME": str(layout.home)},
            )
        return layout, agent_env(self.flavor, layout, os.environ)

    async def start(self, plan: TargetPlan) -> RunningAgent:
        # A real agent has no fix switches: plan.server_fix/client_fix are ignored, and the
        # fix mode only changes what the scenario expects of it.
        installed = await asyncio.to_thread(self.install)
        layout, env = await asyncio.to_thread(self.prepare, plan)
        # Port 0: the agent binds a free port itself and prints it. Picking one here and handing
        # it over races with every other server on the machine during the agent's seconds-long
        # startup (seen: a reference agent took the port and answered in its place).
        command = [
            str(installed.binary),
            "serve",
            "--port",
            "0",
            "--hostname",
            "127.0.0.1",
            "--print-logs",
            "--log-level",
            "INFO",
        ]
        started = time.monotonic()
        offset = layout.log.stat().st_size if layout.log.exists() else 0
        process = await asyncio.to_thread(self._spawn, command, layout, env)
        try:
            base_url = await self._wait_ready(process, layout.log, offset)
        except BaseException:
            await asyncio.to_thread(stop_process_group, process)
            raise
        info = TargetInfo(
            base_url=base_url,
            client_fix=plan.client_fix,
            context_limits={model.id: model.context for model in plan.models},
            workdir=str(plan.workdir),
            extra={
                "target": self.name,
                "version": self.flavor.version,
                "binary": str(installed.binary),
                "project": str(layout.project),
                "home": str(layout.home),
                "config": str(layout.config_file),
                "log": str(layout.log),
                "provider_id": PROVIDER_ID,
                # opencode's session.updated trails the step-finish part by 0.1-0.3 s (more on a
                # loaded machine): it comes from a summary write forked after the step. A surface
                # that settles on a shorter quiet spell reads that lag as a freeze.
                "settle_quiet_s": str(SETTLE_QUIET),
            },
        )
        return RunningAgent(
            info=info,
            process=process,
            log_path=layout.log,
            install=installed,
            start_seconds=time.monotonic() - started,
        )

    def _spawn(
        self, command: list[str], layout: Layout, env: dict[str, str]
    ) -> subprocess.Popen[bytes]:
        with layout.log.open("ab") as log:
            log.write(f"$ {' '.join(command)}\n".encode())
            log.flush()
            try:
                # Its own session (and so process group): stop() signals the group, which
                # reaches any child the agent spawned, and a Ctrl-C in our terminal does not.
                return subprocess.Popen(
                    command,
                    cwd=layout.project,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as error:
                raise TargetError(f"start {self.name}: cannot run {command[0]}: {error}") from None

    async def _wait_ready(
        self, process: subprocess.Popen[bytes], log_path: Path, offset: int
    ) -> str:
        """Wait for the agent's "listening on URL" line, then for URL to answer GET /session."""
        deadline = time.monotonic() + START_TIMEOUT
        base_url: str | None = None
        client = httpx.AsyncClient(timeout=2.0)
        try:
            while True:
                code = process.poll()
                if code is not None:
                    raise TargetError(
                        f"start {self.name}: '{self.flavor.binary} serve' exited with code {code}"
                        f" before answering; last lines of {log_path}:\n{_log_tail(log_path)}"
                    )
                if base_url is None:
                    base_url = _listening_url(log_path, offset)
                if base_url is not None:
                    with contextlib.suppress(httpx.HTTPError):
                        response = await client.get(f"{base_url}/session")
                        if response.status_code < 500:
                            return base_url
                if time.monotonic() > deadline:
                    waited = "print its address" if base_url is None else f"answer at {base_url}"
                    raise TargetError(
                        f"start {self.name}: the server did not {waited} within "
                        f"{START_TIMEOUT:g}s; last lines of {log_path}:\n{_log_tail(log_path)}"
                    )
                await asyncio.sleep(0.1)
        finally:
            await client.aclose()


_LISTENING = re.compile(rb"listening on (http://127\.0\.0\.1:\d+)")


def _listening_url(log_path: Path, offset: int) -> str | None:
    try:
        with log_path.open("rb") as log:
            log.seek(offset)
            found = _LISTENING.search(log.read())
    except OSError:
        return None
    return found.group(1).decode() if found else None


def _log_tail(path: Path) -> str:
    try:
        return tail(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return "    (no log)"
