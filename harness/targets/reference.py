"""The reference agent as a target: embedded in this process, on an ephemeral loopback port."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass

import yaml

from harness.drivers.base import TargetInfo
from harness.targets.base import TargetPlan
from reference_app.server.config import AgentConfig, ModelConfig, Price, ProviderConfig
from reference_app.server.run import EmbeddedServer

__all__ = ["ReferenceTarget", "RunningReference"]


@dataclass
class RunningReference:
    info: TargetInfo
    server: EmbeddedServer
    provider_id: str = "scripted"

    async def stop(self) -> None:
        await asyncio.to_thread(self.server.stop)

    def oneshot_command(self, session_id: str, text: str, model_id: str) -> list[str]:
        """The command line of a one-shot run against this agent's data folder, in a process of
        its own (`opencode run` without `--attach`): it writes, this server announces nothing."""
        config_path = self.server.config.data_dir / "oneshot-config.yaml"
        if not config_path.exists():
            settings = self.server.config.model_dump(mode="json")
            # A relative data folder would be read relative to the config file.
            settings["data_dir"] = str(self.server.config.data_dir.resolve())
            config_path.write_text(yaml.safe_dump(settings), encoding="utf-8")
        return [
            sys.executable, "-m", "reference_app.server.oneshot", "--config", str(config_path),
            "--session", session_id, "--model", model_id, text,
        ]

    async def restart(self) -> None:
        """Stop the agent and start it again on the same port and data folder, as a person
        restarts a server mid-turn: the turn is cut, what was stored stays."""
        port = int(self.info.base_url.rsplit(":", 1)[1])
        await asyncio.to_thread(self.server.stop)
        self.server = EmbeddedServer(self.server.config.model_copy(update={"port": port}))
        await asyncio.to_thread(self.server.start)


class ReferenceTarget:
    name = "reference"
    applies_fixes = True

    def config_for(self, plan: TargetPlan) -> AgentConfig:
        models = []
        for model in plan.models:
            price = None
            if model.price_input is not None and model.price_output is not None:
                price = Price(
                    input=model.price_input,
                    output=model.price_output,
                    cache_read=model.price_cache_read or 0.0,
                    cache_write=model.price_cache_write or 0.0,
                )
            models.append(ModelConfig(id=model.id, context_limit=model.context, price=price))
        config = AgentConfig(
            models=models,
            provider=ProviderConfig(kind=plan.provider, base_url=plan.openai_base_url),
            data_dir=plan.workdir / "agent-data",
            server_fix=plan.server_fix,
        )
        if plan.replay_buffer is not None:
            config = config.model_copy(update={"replay_buffer": plan.replay_buffer})
        if plan.event_faults:
            config = config.model_copy(update={"event_faults": True})
        return config

    async def start(self, plan: TargetPlan) -> RunningReference:
        server = EmbeddedServer(self.config_for(plan))
        base_url = await asyncio.to_thread(server.start)
        info = TargetInfo(
            base_url=base_url,
            client_fix=plan.client_fix,
            context_limits={model.id: model.context for model in plan.models},
            workdir=str(plan.workdir),
        )
        return RunningReference(info=info, server=server)
