"""Section b: many sessions and clients at once against the reference agent as its own process.

The agent runs as `python -m reference_app.server` (server fix on), so its CPU and memory are its
own, read from /proc. The scripted model runs in this process with its gate open at a fixed pace:
one step released every 1/rate seconds, whichever session asked first. Each step's input tokens
are 10,000 + its index, so a client that sees a message.updated knows which step it carries and
can time the session.updated that follows against the moment the model server sent that usage.

Losses: every client records the sequence number of every event it received and, at the end, is
held against the newest sequence the server published (read from a fresh connection's
server.connected). A gap that the server announced with server.resync is a resync, not a loss.

A stalled client connects with a tiny receive buffer and never reads. Its bounded queue must
overflow, the server must drop it, tell it to resync, and not grow while it sits there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from httpx_sse import ServerSentEvent, aconnect_sse

from bench.tables import Table, fmt_ms, percentile
from harness.model_server import ModelServer, ModelStep, ScriptedModel, ToolCall, Usage
from reference_app.client.follow import Client

__all__ = ["LoadResult", "load_tables", "measure_load"]

STEP_INPUT_BASE = 10_000
_TICK = os.sysconf("SC_CLK_TCK")


class _TimedClient(Client):
    """The reference client, also noting event sequences and when each step's total landed."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.seqs: list[int] = []
        self.first_seq: int | None = None
        self.step_seen: dict[str, int] = {}
        self.landed: list[tuple[int, float]] = []  # (step index, monotonic when applied)

    def _on_message(self, message: ServerSentEvent, resuming: bool) -> None:
        super()._on_message(message, resuming)
        now = time.monotonic()
        if not message.id:
            return
        seq = int(message.id)
        data = message.data
        if '"server.connected"' in data:
            if self.first_seq is None:
                self.first_seq = seq
            return
        self.seqs.append(seq)
        # Only the two event kinds the lag needs are parsed a second time.
        if '"message.updated"' in data:
            info = json.loads(data)["properties"]["info"]
            tokens = (info.get("tokens") or {}).get("input", 0)
            if info.get("role") == "assistant" and tokens >= STEP_INPUT_BASE:
                self.step_seen[str(info["sessionID"])] = tokens - STEP_INPUT_BASE
        elif '"session.updated"' in data:
            session_id = str(json.loads(data)["properties"]["sessionID"])
            step = self.step_seen.pop(session_id, None)
            if step is not None:
                self.landed.append((step, now))


@dataclass
class LoadResult:
    sessions: int
    clients: int
    rate: float
    seconds: float
    subscriber_queue: int
    steps_sent: int = 0
    lags_ms: list[float] = field(default_factory=list)
    published: int = 0
    expected_deliveries: int = 0
    lost: int = 0
    resyncs: int = 0
    cpu_percent: float = 0.0
    rss_start_mb: float = 0.0
    rss_samples: list[tuple[float, float]] = field(default_factory=list)
    peak_rss_mb: float = 0.0
    stalled_told_to_resync: bool | None = None
    stalled_bytes: int = 0
    error: str | None = None


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime


def _status_mb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _config(path: Path, model_url: str, data: Path, queue: int) -> None:
    path.write_text(
        "server_fix = true\n"
        f"max_steps = 1000000\nsubscriber_queue = {queue}\n"
        f'data_dir = "{data}"\n'
        "[provider]\n"
        f'kind = "openai"\nbase_url = "{model_url}"\n'
        "[[models]]\n"
        'id = "paid"\ncontext_limit = 1000000\n'
        "price = {input = 3.0, output = 15.0}\n",
        encoding="utf-8",
    )


def _start_server(config: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "reference_app.server", "--config", str(config), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith("http"):
        process.kill()
        _, err = process.communicate(timeout=5)
        raise RuntimeError(f"the reference server did not start: {line} {err[-2000:]}")
    return process, line


async def _stalled_client(base_url: str) -> socket.socket:
    """Subscribes to /event and then reads nothing: a frozen tab, a suspended laptop."""
    host, port = base_url.removeprefix("http://").split(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # A small window so the kernel buffers little and the server's queue takes the backlog.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    await asyncio.to_thread(sock.connect, (host, int(port)))
    sock.sendall(b"GET /event HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n")
    return sock


def _drain_stalled(sock: socket.socket, seconds: float) -> tuple[bool, int]:
    """Reads what the stalled client was sent, until a server.resync shows, the server closes,
    a second passes without data or `seconds` are up; True when a server.resync came."""
    sock.settimeout(1.0)
    received = bytearray()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and b"server.resync" not in received:
        try:
            chunk = sock.recv(1 << 20)
        except TimeoutError:
            break
        if not chunk:
            break
        received += chunk
    sock.close()
    return b"server.resync" in received, len(received)


async def _newest_seq(base_url: str) -> int:
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=10) as http,
        aconnect_sse(http, "GET", "/event") as source,
    ):
        async for message in source.aiter_sse():
            return int(message.id)
    raise RuntimeError("the event stream ended before server.connected")


async def _drive(
    model: ScriptedModel, pid: int, rate: float, seconds: float, result: LoadResult
) -> None:
    """Release model steps at `rate` for `seconds`, sampling the server's CPU and memory."""
    cpu_before, started = _cpu_seconds(pid), time.monotonic()
    released, next_sample = 0, started
    while (now := time.monotonic()) < started + seconds:
        due = int((now - started) * rate) + 1
        if due > released:
            model.release(due - released)
            released = due
        if now >= next_sample:
            result.rss_samples.append((now - started, _status_mb(pid, "VmRSS")))
            next_sample += max(seconds / 8, 0.25)
        await asyncio.sleep(min(1 / rate, 0.02))
    elapsed = time.monotonic() - started
    result.cpu_percent = (_cpu_seconds(pid) - cpu_before) / elapsed * 100
    result.rss_samples.append((elapsed, _status_mb(pid, "VmRSS")))


def _account(result: LoadResult, model: ScriptedModel, clients: list[_TimedClient]) -> None:
    """Lags from the clients' notes and the model's sent times; losses against the server's
    newest sequence."""
    sent = {record.step_index: record.t for record in model.sent}
    result.steps_sent = len(sent)
    for client in clients:
        result.lags_ms += [(t - sent[step]) * 1000 for step, t in client.landed if step in sent]
        # The first bootstrap counts as one resync; only later ones mean the client fell behind.
        resynced = client.resyncs > 1
        result.resyncs += max(0, client.resyncs - 1)
        if client.first_seq is None or not result.published:
            continue
        expected = set(range(client.first_seq + 1, result.published + 1))
        result.expected_deliveries += len(expected)
        # A resync announces its gap; only a client that never resynced can lose silently.
        if not resynced:
            result.lost += len(expected - set(client.seqs))


async def measure_load(
    *,
    sessions: int,
    clients_per_session: int,
    rate: float,
    seconds: float,
    subscriber_queue: int,
    stalled: bool = True,
) -> LoadResult:
    result = LoadResult(sessions, sessions * clients_per_session, rate, seconds, subscriber_queue)
    total_steps = int(rate * seconds * 1.5) + sessions * 4 + 100
    model = ScriptedModel(model_id="paid", gated=True)
    model.load(
        ModelStep(
            tool_calls=(ToolCall("echo", {"text": "x"}),),
            usage=Usage(input=STEP_INPUT_BASE + i, output=10),
        )
        for i in range(total_steps)
    )
    model_server = ModelServer(model)
    base = await asyncio.to_thread(model_server.start)
    folder = Path(tempfile.mkdtemp(prefix="freshness-bench-load-"))
    config = folder / "agent.toml"
    _config(config, f"{base}/v1", folder / "data", subscriber_queue)
    process, url = await asyncio.to_thread(_start_server, config)
    clients: list[_TimedClient] = []
    stall: socket.socket | None = None
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            ids = [
                (await http.post("/session", json={"title": f"load {i}"})).json()["id"]
                for i in range(sessions)
            ]
            for session_id in ids:
                for _ in range(clients_per_session):
                    client = _TimedClient(url)
                    await client.bootstrap(session_id)
                    await client.start()
                    clients.append(client)
            if stalled:
                stall = await _stalled_client(url)
            await asyncio.sleep(0.3)
            result.rss_start_mb = _status_mb(process.pid, "VmRSS")
            for session_id in ids:
                response = await http.post(
                    f"/session/{session_id}/prompt_async",
                    json={
                        "parts": [{"type": "text", "text": "load"}],
                        "model": {"providerID": "scripted", "modelID": "paid"},
                    },
                )
                response.raise_for_status()
            await _drive(model, process.pid, rate, seconds, result)
            # Let what is in flight land: the released steps finish, then the streams go quiet.
            await asyncio.sleep(1.0)
            result.published = await _newest_seq(url)
            await asyncio.sleep(0.5)
            result.peak_rss_mb = _status_mb(process.pid, "VmHWM")
        if stall is not None:
            result.stalled_told_to_resync, result.stalled_bytes = await asyncio.to_thread(
                _drain_stalled, stall, 15.0
            )
            stall = None
    except (OSError, httpx.HTTPError, RuntimeError, TimeoutError) as error:
        result.error = f"{type(error).__name__}: {error}"
    finally:
        for client in clients:
            with contextlib.suppress(Exception):
                await client.close()
        if stall is not None:
            stall.close()
        process.terminate()
        try:
            await asyncio.to_thread(process.wait, 10)
        except subprocess.TimeoutExpired:
            process.kill()
        model.release_all()
        await asyncio.to_thread(model_server.stop)
    _account(result, model, clients)
    return result


def load_tables(result: LoadResult) -> list[Table]:
    table = Table(
        f"Load: {result.sessions} sessions x {result.clients // max(result.sessions, 1)} clients, "
        f"{result.rate:g} model steps/s in total, {result.seconds:g} s "
        "(reference agent as its own process, server fix)",
        ["measure", "value"],
    )
    if result.error:
        table.notes.append(f"the load run failed: {result.error}")
    lags = result.lags_ms
    table.add("model steps sent", result.steps_sent)
    table.add("session.updated applied by clients (lag samples)", len(lags))
    if lags:
        table.add(
            "lag p50 / p90 / p99 / max ms (usage sent -> client applied the total)",
            " / ".join(fmt_ms(percentile(lags, q)) for q in (0.5, 0.9, 0.99))
            + f" / {fmt_ms(max(lags))}",
        )
    table.add("events published (server sequence)", result.published)
    table.add("event deliveries expected (all reading clients)", result.expected_deliveries)
    table.add("events lost (must be 0)", result.lost)
    table.add("resyncs of reading clients", result.resyncs)
    table.add("server CPU (% of one core, during the load)", f"{result.cpu_percent:.0f}%")
    table.add("server RSS before the load MB", f"{result.rss_start_mb:.1f}")
    table.add(
        "server RSS over the load MB (t s: MB)",
        ", ".join(f"{t:.0f}: {mb:.0f}" for t, mb in result.rss_samples),
    )
    table.add("server peak RSS MB", f"{result.peak_rss_mb:.1f}")
    if result.stalled_told_to_resync is not None:
        table.add(
            "stalled client dropped and told to resync",
            "yes" if result.stalled_told_to_resync else "NO",
        )
        table.add("bytes the stalled client was sent", result.stalled_bytes)
    table.notes.append(
        f"per-subscriber queue: {result.subscriber_queue} events (server config "
        "subscriber_queue); a stalled client costs the server at most that many queued events"
    )
    return [table]
