"""Item 3: fuzz the reference server from its own OpenAPI document (`GET /doc`).

Every operation but `/event` (an endless stream) gets schemathesis cases that fit the schema
and cases that break it, against unknown ids and against a real session; the server is pointed
at a scripted model that answers at once, so prompts run real turns. No answer may be a 5xx,
no request may hang (each has a timeout), and afterwards a normal turn still bills exactly.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.core.result import Ok
from schemathesis.generation.modes import GenerationMode

from harness.model_server import ModelServer, ModelStep, ScriptedModel, Usage
from reference_app.server.config import AgentConfig, ModelConfig, Price, ProviderConfig
from reference_app.server.run import EmbeddedServer

MODEL_ID = "scripted-1"
EXAMPLES = 8  # per operation x mode x (unknown ids | a real session); ~700 requests in all
REQUEST_TIMEOUT = 10.0
SKIPPED_PATHS = {"/event"}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, ScriptedModel]]:
    model = ScriptedModel(model_id=MODEL_ID, gated=False)
    model_server = ModelServer(model)
    model_url = model_server.start()
    config = AgentConfig(
        models=[ModelConfig(id=MODEL_ID, context_limit=100_000,
                            price=Price(input=2.0, output=8.0))],
        provider=ProviderConfig(kind="openai", base_url=f"{model_url}/v1", timeout=5),
        data_dir=tmp_path / "data", server_fix=True,
    )
    server = EmbeddedServer(config)
    try:
        yield server.start(), model
    finally:
        server.stop()
        model_server.stop()


def sender(operation: Any, strategy: Any, base_url: str,
           seen: Counter[tuple[str, str, int]], server_errors: list[str]) -> Any:
    """A hypothesis test that sends one operation's generated cases."""

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
              derandomize=True)
    @given(case=strategy)
    def send(case: Any) -> None:
        response = case.call(base_url=base_url, timeout=REQUEST_TIMEOUT)
        seen[(operation.method.upper(), operation.path, response.status_code)] += 1
        if response.status_code >= 500:
            server_errors.append(
                f"{operation.method.upper()} {case.formatted_path} query={case.query} "
                f"body={case.body!r} -> {response.status_code} {response.text[:200]}")

    return send


def fuzz(base_url: str) -> tuple[Counter[tuple[str, str, int]], list[str], int]:
    """Runs every case; returns status counts, the 5xx seen (as text) and cases sent."""
    document = httpx.get(f"{base_url}/doc", timeout=REQUEST_TIMEOUT).json()
    schema = schemathesis.openapi.from_dict(document)
    seen: Counter[tuple[str, str, int]] = Counter()
    server_errors: list[str] = []
    for result in schema.get_all_operations():
        # An operation the document describes wrongly is itself a failure worth seeing.
        assert isinstance(result, Ok), result.err()
        operation = result.ok()
        if operation.path in SKIPPED_PATHS:
            continue
        # A session per operation, so a DELETE in the fuzzing cannot starve the others.
        session_id = httpx.post(f"{base_url}/session", json={}, timeout=REQUEST_TIMEOUT
                                ).json()["id"]
        targets: list[dict[str, Any] | None] = [None]
        if "{sessionID}" in operation.path:
            targets.append({"sessionID": session_id})
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for path_parameters in targets:
                strategy = operation.as_strategy(generation_mode=mode,
                                                 path_parameters=path_parameters)
                try:
                    sender(operation, strategy, base_url, seen, server_errors)()
                except Unsatisfiable:
                    # Nothing to break: an operation whose only input is a path id.
                    continue
    return seen, server_errors, sum(seen.values())


@pytest.mark.slow
def test_fuzzing_from_the_openapi_document_finds_no_server_error(
    served: tuple[str, ScriptedModel],
) -> None:
    base_url, model = served
    started = time.monotonic()
    seen, server_errors, sent = fuzz(base_url)
    elapsed = time.monotonic() - started
    print(f"\nfuzzed {sent} requests over {len({(m, p) for m, p, _ in seen})} operations "
          f"in {elapsed:.1f}s; statuses {sorted(Counter(s for _, _, s in seen.elements()).items())}")
    assert server_errors == []
    assert sent > 100

    # Still serving correct answers: wait out the turns the fuzzing started, then one more.
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT) as http:
        deadline = time.monotonic() + 30
        while http.get("/session/status").json() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert http.get("/session/status").json() == {}
        model.load([ModelStep(text="after the storm", usage=Usage(input=1_000, output=250))])
        session_id = http.post("/session", json={"title": "after"}).json()["id"]
        response = http.post(f"/session/{session_id}/prompt_async", json={
            "parts": [{"type": "text", "text": "still there?"}],
            "model": {"providerID": "scripted", "modelID": MODEL_ID}})
        assert response.status_code == 204
        while http.get("/session/status").json() and time.monotonic() < deadline + 30:
            time.sleep(0.05)
        session = http.get(f"/session/{session_id}").json()
        assert session["tokens"]["input"] == 1_000
        assert session["tokens"]["output"] == 250
        assert session["cost"] == pytest.approx((1_000 * 2.0 + 250 * 8.0) / 1e6)
        messages = http.get(f"/session/{session_id}/message").json()
        assert [m["info"]["role"] for m in messages] == ["user", "assistant"]
        assert "error" not in messages[-1]["info"]
