"""The reference agent in a process of its own, for the benchmark only.

`freshness run` embeds the agent in the harness's process, where it shares one interpreter lock
with the model server and the surfaces. Real agents (opencode) run as their own process; this
target does the same for the reference agent, so the two compare like for like and the figure
shows what the agent itself can do with a core of its own.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from dataclasses import dataclass

import yaml

from harness.drivers.base import TargetInfo
from harness.errors import TargetError
from harness.targets.base import TargetPlan
from harness.targets.reference import ReferenceTarget

__all__ = ["ReferenceProcessTarget"]


@dataclass
class RunningProcess:
    info: TargetInfo
    process: subprocess.Popen[str]
    provider_id: str = "scripted"

    async def stop(self) -> None:
        self.process.terminate()  # the server stops cleanly on SIGTERM
        try:
            await asyncio.to_thread(self.process.wait, 10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            await asyncio.to_thread(self.process.wait)


class ReferenceProcessTarget(ReferenceTarget):
    # Same name: the scenario's expectations for the reference agent apply unchanged.
    name = "reference"

    async def start(self, plan: TargetPlan) -> RunningProcess:  # type: ignore[override]
        config = self.config_for(plan)
        path = plan.workdir / "agent.yaml"
        path.write_text(yaml.safe_dump(config.model_dump(mode="json")), encoding="utf-8")
        command = [sys.executable, "-m", "reference_app.server", "--config", str(path)]
        process = await asyncio.to_thread(
            subprocess.Popen,
            [*command, "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert process.stdout is not None
        line = (await asyncio.to_thread(process.stdout.readline)).strip()
        if not line.startswith("http"):
            process.kill()
            raise TargetError(f"the reference server process did not start: {line!r}")
        info = TargetInfo(
            base_url=line,
            client_fix=plan.client_fix,
            context_limits={model.id: model.context for model in plan.models},
            workdir=str(plan.workdir),
        )
        return RunningProcess(info=info, process=process)
