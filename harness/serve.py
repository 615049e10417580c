"""``freshness serve``: the reference agent and a scripted model, for a person to try by hand.

The model plays a three-step paid turn for every prompt (without gates, at a walking pace so the
numbers can be watched), which is enough to see the frozen cost with curl or the terminal UI.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

from harness.errors import FreshnessError
from harness.model_server import ModelServer, ModelStep, ScriptedModel, ToolCall, Usage
from reference_app.server.config import AgentConfig, ModelConfig, Price, ProviderConfig
from reference_app.server.run import EmbeddedServer

__all__ = ["DEMO_MODEL", "demo_turn", "serve_forever"]

DEMO_MODEL = "demo"
_TURNS = 200


def demo_turn() -> list[ModelStep]:
    pace = 0.15  # seconds between chunks: slow enough to watch the numbers climb
    return [
        ModelStep(
            text="Let me look at the files first.",
            tool_calls=(ToolCall(name="list", arguments={"path": "."}),),
            usage=Usage(input=12_000, output=1_000),
            chunk_delay=pace,
        ),
        ModelStep(
            text="Now I will write the change.",
            reasoning="The test expects the parser to accept trailing commas.",
            tool_calls=(ToolCall(name="echo", arguments={"text": "patched"}),),
            usage=Usage(input=14_000, output=1_500, reasoning=500),
            chunk_delay=pace,
        ),
        ModelStep(
            text="Done: the parser accepts trailing commas now.",
            usage=Usage(input=16_000, output=1_200, cache_read=2_000),
            chunk_delay=pace,
        ),
    ]


def serve_forever(*, port: int, model_port: int, server_fix: bool, data_dir: Path) -> int:
    model = ScriptedModel(model_id=DEMO_MODEL, gated=False)
    model.load(step for _ in range(_TURNS) for step in demo_turn())
    model_server = ModelServer(model, port=model_port)
    try:
        model_url = model_server.start()
    except OSError as error:
        raise FreshnessError(
            f"serve: the scripted model cannot listen on port {model_port} ({error.strerror})"
        ) from None
    config = AgentConfig(
        models=[
            ModelConfig(
                id=DEMO_MODEL,
                context_limit=100_000,
                price=Price(input=3.0, output=15.0, cache_read=0.3, cache_write=3.75),
            )
        ],
        provider=ProviderConfig(kind="openai", base_url=f"{model_url}/v1"),
        data_dir=data_dir,
        port=port,
        server_fix=server_fix,
    )
    try:
        agent = EmbeddedServer(config)
        url = agent.start()
    except OSError as error:
        model_server.stop()
        where = f"port {port}" if error.filename is None else f"data folder {data_dir}"
        raise FreshnessError(
            f"serve: the reference agent cannot use {where} ({error.strerror})"
        ) from None
    print(f"reference agent  {url}   (server fix {'ON' if server_fix else 'OFF'})")
    print(f"scripted model   {model_url}/v1")
    print("try:")
    print(f"  curl -s -X POST {url}/session -H 'content-type: application/json' -d '{{}}'")
    print(f"  curl -N {url}/event")
    print(
        f"  curl -s -X POST {url}/session/SESSION_ID/prompt_async"
        " -H 'content-type: application/json'"
        f' -d \'{{"parts":[{{"type":"text","text":"hi"}}],'
        f'"model":{{"providerID":"scripted","modelID":"{DEMO_MODEL}"}}}}\''
    )
    print(f"  curl -s {url}/session/SESSION_ID")
    print("Ctrl-C stops both.")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        agent.stop()
        model_server.stop()
    return 0
