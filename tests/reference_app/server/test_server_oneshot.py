"""The one-shot run: a turn written to the data folder by another process, announced to nobody."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from harness.model_server import ModelServer, ModelStep, ScriptedModel, Usage
from reference_app.server.oneshot import main, run_once
from reference_app.server.run import EmbeddedServer
from tests.reference_app.server.server_helpers import cost_of, make_config, new_session

USAGE = Usage(input=14_000, output=600)


async def test_a_one_shot_turn_lands_in_the_served_database_without_an_event(
    tmp_path: Path, model: ScriptedModel, model_server: ModelServer, follow: Any,
    http: httpx.AsyncClient,
) -> None:
    model.gated = False
    model.load([ModelStep(text="Summary posted", usage=USAGE)])
    config = make_config(tmp_path / "agent", model_server.base_url, server_fix=True)
    with EmbeddedServer(config) as server:
        log = await follow(server.base_url)
        session_id = await new_session(http, server.base_url)

        info = await run_once(config, "Summarise", session_id=session_id)

        assert info["cost"] == pytest.approx(cost_of(USAGE))
        stored = (await http.get(f"{server.base_url}/session/{session_id}")).json()
        assert stored["cost"] == pytest.approx(cost_of(USAGE))
        messages = (await http.get(f"{server.base_url}/session/{session_id}/message")).json()
        assert [m["info"]["role"] for m in messages] == ["user", "assistant"]
        # Even with the server fix on, the serving process never saw the write.
        assert [e["type"] for e in log.payloads] == ["server.connected", "session.created"]


def test_the_command_line_refuses_an_unknown_session(
    tmp_path: Path, model_server: ModelServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_config(tmp_path / "agent", model_server.base_url)
    path = tmp_path / "config.yaml"
    settings = config.model_dump(mode="json")
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")

    status = main(["--config", str(path), "--session", "ses_nothing", "hello"])

    assert status == 2
    assert "ses_nothing" in capsys.readouterr().err
