"""Item 6: stuck peers.

- a client that opens /event and stops reading: the server's memory for it is bounded (its
  queue stops at `subscriber_queue`), it is dropped, and when it reads again it is told to
  resync;
- a model provider that stalls mid-stream: the turn ends in session.error after the configured
  provider timeout, and the server keeps serving;
- a harness run whose target hangs ends at its deadline as an errored run (history.error set,
  verdict ERROR) and leaves no thread or child process behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.drivers.base import TargetInfo
from harness.model_server import ModelServer, ModelStep, ScriptedModel
from harness.runner import run_scenario
from harness.scenario.loader import load_scenario
from harness.targets.base import TargetPlan
from harness.targets.reference import ReferenceTarget
from harness.verdict import Status
from reference_app.server.bus import Bus
from reference_app.server.config import AgentConfig, ModelConfig, ProviderConfig, load_config
from reference_app.server.run import EmbeddedServer
from tests.hardening.agent_process import MODEL_ID, write_config

QUEUE_CAP = 500
EVENTS = 20_000
PAYLOAD = "x" * 1_000  # ~1 kB per event: 20 MB in all, far beyond any socket buffer


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def open_stuck_stream(base_url: str) -> socket.socket:
    """A raw /event connection with a tiny receive buffer, read up to the first event."""
    host, port = base_url.removeprefix("http://").split(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    sock.sendall(f"GET /event HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n"
                 .encode())
    sock.settimeout(10)
    received = b""
    while b"server.connected" not in received:
        received += sock.recv(4096)
    return sock


def read_to_end(sock: socket.socket, seconds: float) -> bytes:
    sock.settimeout(seconds)
    chunks: list[bytes] = []
    with contextlib.suppress(TimeoutError):
        while chunk := sock.recv(1 << 16):
            chunks.append(chunk)
    return b"".join(chunks)


def subscriber_pending(bus: Bus) -> list[int]:
    # White-box on purpose: the queue length is the figure the bound is about.
    with bus._lock:
        return [subscriber._pending for subscriber in bus._subscribers]


@pytest.mark.slow
def test_a_subscriber_that_stops_reading_is_bounded_dropped_and_told(tmp_path: Path) -> None:
    config = AgentConfig(
        models=[ModelConfig(id=MODEL_ID)],
        provider=ProviderConfig(kind="openai", base_url="http://127.0.0.1:9/v1"),
        data_dir=tmp_path / "data", subscriber_queue=QUEUE_CAP, replay_buffer=100,
    )
    with EmbeddedServer(config) as server:
        bus: Bus = server.app.state.bus
        sock = open_stuck_stream(server.base_url)
        try:
            deadline = time.monotonic() + 10
            while bus.subscriber_count != 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert bus.subscriber_count == 1
            rss_before = rss_kib()
            most_pending = 0
            for n in range(EVENTS):
                bus.publish({"id": f"evt_{n}", "type": "test.flood",
                             "properties": {"n": n, "pad": PAYLOAD}})
                if n % 500 == 0:
                    most_pending = max([most_pending, *subscriber_pending(bus)])
                    time.sleep(0.001)  # let the server's loop run, as real publishers do
            rss_after = rss_kib()
            # Dropped: the bus holds nothing more for it, whatever is published next.
            deadline = time.monotonic() + 10
            while bus.subscriber_count and time.monotonic() < deadline:
                time.sleep(0.01)
            assert bus.subscriber_count == 0
            assert most_pending <= QUEUE_CAP
            # Reading again, it gets what was queued, then server.resync, then the end.
            tail = read_to_end(sock, 10)
        finally:
            sock.close()
    events = [json.loads(line[len(b"data: "):]) for line in tail.splitlines()
              if line.startswith(b"data: ")]
    assert events, "nothing arrived after the client read again"
    assert events[-1]["type"] == "server.resync"
    floods = [event for event in events if event["type"] == "test.flood"]
    assert len(floods) < EVENTS
    print(f"\nstuck subscriber: {EVENTS} events x ~1 kB published; queue peaked at "
          f"{most_pending} (cap {QUEUE_CAP}); {len(floods)} delivered after it read again, "
          f"then server.resync; test-process RSS {rss_before} -> {rss_after} KiB")


async def test_a_provider_that_stalls_mid_stream_times_out_into_session_error(
    tmp_path: Path,
) -> None:
    model = ScriptedModel(model_id=MODEL_ID, gated=False)
    model.load([ModelStep(text="and then nothing more", fault="stall")])
    model_server = ModelServer(model)
    model_url = model_server.start()
    # The timeout comes from the config file, as a user would set it.
    config = load_config(write_config(tmp_path, f"{model_url}/v1", provider_timeout=1.0),
                         environ={})
    assert config.provider.timeout == 1.0
    server = EmbeddedServer(config)
    base_url = server.start()
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
            session_id = (await http.post("/session", json={})).json()["id"]
            errors: list[dict[str, Any]] = []
            connected = asyncio.Event()

            async def follow() -> None:
                async with http.stream("GET", "/event", timeout=httpx.Timeout(10, read=None)
                                       ) as stream:
                    async for line in stream.aiter_lines():
                        if not line.startswith("data: "):
                            continue
                        event = json.loads(line[6:])
                        if event["type"] == "server.connected":
                            connected.set()
                        if event["type"] == "session.error":
                            errors.append(event)
                            return

            follower = asyncio.create_task(follow())
            await asyncio.wait_for(connected.wait(), 10)
            started = time.monotonic()
            response = await http.post(f"/session/{session_id}/prompt_async", json={
                "parts": [{"type": "text", "text": "go"}],
                "model": {"providerID": "scripted", "modelID": MODEL_ID}})
            assert response.status_code == 204
            await asyncio.wait_for(follower, 20)
            elapsed = time.monotonic() - started
            assert errors[0]["properties"]["sessionID"] == session_id
            assert "timed out" in json.dumps(errors[0]["properties"]["error"])
            assert elapsed >= 1.0
            messages = (await http.get(f"/session/{session_id}/message")).json()
            assistant = messages[-1]
            assert "error" in assistant["info"]
            # The text streamed before the stall is kept, and the session is idle again.
            # (a prefix: the stall comes part-way through the step's text)
            texts = [p["text"] for p in assistant["parts"] if p["type"] == "text"]
            assert len(texts) == 1
            assert texts[0]
            assert "and then nothing more".startswith(texts[0])
            assert (await http.get("/session/status")).json() == {}
            print(f"\nstalled provider: session.error {elapsed:.2f}s after the prompt "
                  f"(provider timeout 1.0s)")
    finally:
        server.stop()
        model.release_all()
        model_server.stop()


# --- a harness run whose target hangs -------------------------------------------------------


class BlackHole:
    """A TCP listener that accepts connections and never answers a byte."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self._accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, name="black-hole", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                self._accepted.append(self.sock.accept()[0])

    def close(self) -> None:
        self.sock.close()
        for conn in self._accepted:
            conn.close()
        self._thread.join(timeout=5)


class ModelNeverAnswers(ReferenceTarget):
    """The reference agent, its provider pointed at a black hole with a long timeout: every
    turn hangs where it asks the model."""

    def __init__(self, hole: BlackHole) -> None:
        self.hole = hole

    def config_for(self, plan: TargetPlan) -> AgentConfig:
        config = super().config_for(plan)
        provider = config.provider.model_copy(update={"base_url": f"{self.hole.url}/v1",
                                                      "timeout": 600.0})
        return config.model_copy(update={"provider": provider})


class AgentNeverAnswers:
    """A target whose HTTP server accepts connections and never answers."""

    name = "black-hole"

    def __init__(self, hole: BlackHole) -> None:
        self.hole = hole

    async def start(self, plan: TargetPlan) -> Any:
        hole = self.hole

        class Running:
            info = TargetInfo(base_url=hole.url, client_fix=plan.client_fix,
                              context_limits={m.id: m.context for m in plan.models},
                              workdir=str(plan.workdir))
            provider_id = "scripted"

            async def stop(self) -> None:
                return None

        return Running()


SCENARIO = """\
version: 1
about: Report kind - a turn that never finishes.
models:
  paid: {context: 100000, price: {input: 3.0, output: 15.0}}
sessions:
  main: {title: Hang, model: paid}
steps:
  - open: main
  - prompt:
      text: go
      model_steps:
        - {tool: echo, usage: {input: 12000, output: 1000}}
        - {usage: {input: 14000, output: 1000}}
  - step
  - finish
expect:
  none: pass
  client: pass
  server: pass
  both: pass
"""


def child_processes() -> set[int]:
    children: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        with contextlib.suppress(OSError):
            children |= {int(pid) for pid in (task / "children").read_text().split()}
    return children


def settled_threads(before: set[str], seconds: float = 10) -> set[str]:
    """Threads alive now that were not before, after giving daemon threads time to end."""
    deadline = time.monotonic() + seconds
    while True:
        extra = {t.name for t in threading.enumerate() if t.is_alive()} - before
        if not extra or time.monotonic() > deadline:
            return extra
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("hang", ["model-never-answers", "agent-never-answers"])
def test_a_hanging_target_ends_at_the_deadline_as_an_errored_run(
    tmp_path: Path, hang: str
) -> None:
    path = tmp_path / "hang.yaml"
    path.write_text(SCENARIO)
    loaded = load_scenario(path)
    hole = BlackHole()
    target: Any = ModelNeverAnswers(hole) if hang == "model-never-answers" else (
        AgentNeverAnswers(hole))
    threads_before = {t.name for t in threading.enumerate()} | {"black-hole"}
    children_before = child_processes()
    try:
        started = time.monotonic()
        # A loop of its own, as the CLI runs it: when asyncio.run returns, its executor's
        # worker threads are joined, so any thread still alive was left behind by the run.
        result = asyncio.run(run_scenario(loaded, "server", runs_dir=tmp_path / "runs",
                                          target=target, step_timeout=60, run_timeout=3))
        elapsed = time.monotonic() - started
    finally:
        hole.close()
    assert result.history.error, "a run that hit its deadline must say so"
    assert result.verdict.status is Status.ERROR
    assert not result.verdict.ok
    # The deadline, not the 60 s step timeout, ended it (start-up and teardown included).
    assert elapsed < 9, f"took {elapsed:.1f}s"
    assert "deadline" in result.history.error
    assert settled_threads(threads_before) == set()
    assert child_processes() - children_before == set()
    print(f"\n{hang}: ended after {elapsed:.1f}s (deadline 3s), error: {result.history.error}")
