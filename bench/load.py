"""Section b: many sessions and clients at once against the reference agent as its own process.

The agent runs as `python -m reference_app.server` (server fix on), so its CPU and memory are its
own, read from /proc. The scripted model runs in this process with its gate opened at a fixed
pace: one step released every 1/rate seconds, whichever session asked first. Each step's input
tokens are 10,000 + its index, so a client that sees a message.updated knows which step it
carries and can time the session.updated that follows against the moment the model server sent
that usage. The reading clients run in a process of their own (bench/load_clients.py), so their
parsing does not share an interpreter lock with the scripted model.

Losses: every client records the sequence number of every event it received and, at the end, is
held against the newest sequence the server published (read from a fresh connection's
server.connected). A gap that the server announced with server.resync is a resync, not a loss.

A stalled client connects with a tiny receive buffer and never reads. Its bounded queue must
overflow, the server must drop it, tell it to resync, and not grow while it sits there.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from httpx_sse import aconnect_sse

from bench.load_clients import STEP_INPUT_BASE
from bench.tables import Table, fmt_ms, percentile
from harness.model_server import ModelServer, ModelStep, ScriptedModel, ToolCall, Usage

__all__ = ["LoadResult", "load_tables", "measure_load"]

_TICK = os.sysconf("SC_CLK_TCK")


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
    # stderr to a file, not a pipe: an unread pipe fills and the server's next log line blocks it.
    log = config.with_suffix(".log")
    with log.open("w", encoding="utf-8") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "reference_app.server", "--config", str(config), "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith("http"):
        process.kill()
        process.wait(timeout=5)
        tail = log.read_text(encoding="utf-8")[-2000:]
        raise RuntimeError(f"the reference server did not start: {line} {tail}")
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


def _start_readers(url: str, per_session: int, ids: list[str]) -> subprocess.Popen[str]:
    readers = subprocess.Popen(
        [sys.executable, "-m", "bench.load_clients", url, str(per_session), *ids],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert readers.stdout is not None
    if readers.stdout.readline().strip() != "ready":
        readers.kill()
        raise RuntimeError("the reading clients did not start")
    return readers


def _stop_readers(readers: subprocess.Popen[str], newest: int) -> dict[str, Any]:
    out, _ = readers.communicate(f"stop {newest}\n", timeout=60)
    report: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return report


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


def _account(result: LoadResult, model: ScriptedModel, report: dict[str, Any]) -> None:
    """Lags from the clients' notes and the model's sent times (one monotonic clock for every
    process on the machine); losses as the client process counted them."""
    sent = {record.step_index: record.t for record in model.sent}
    result.steps_sent = len(sent)
    result.lags_ms = [(t - sent[step]) * 1000 for step, t in report["landed"] if step in sent]
    result.expected_deliveries = int(report["expected"])
    result.lost = int(report["lost"])
    result.resyncs = int(report["resyncs"])


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
    readers: subprocess.Popen[str] | None = None
    report: dict[str, Any] = {"landed": [], "expected": 0, "lost": 0, "resyncs": 0}
    stall: socket.socket | None = None
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            ids = [
                (await http.post("/session", json={"title": f"load {i}"})).json()["id"]
                for i in range(sessions)
            ]
            readers = await asyncio.to_thread(_start_readers, url, clients_per_session, ids)
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
            result.peak_rss_mb = _status_mb(process.pid, "VmHWM")
            report = await asyncio.to_thread(_stop_readers, readers, result.published)
        if stall is not None:
            result.stalled_told_to_resync, result.stalled_bytes = await asyncio.to_thread(
                _drain_stalled, stall, 15.0
            )
            stall = None
    except (
        OSError,
        httpx.HTTPError,
        RuntimeError,
        TimeoutError,
        ValueError,
        subprocess.TimeoutExpired,
    ) as error:
        result.error = f"{type(error).__name__}: {error}"
    finally:
        if readers is not None and readers.poll() is None:
            readers.kill()
        if stall is not None:
            stall.close()
        process.terminate()
        try:
            await asyncio.to_thread(process.wait, 10)
        except subprocess.TimeoutExpired:
            process.kill()
        model.release_all()
        await asyncio.to_thread(model_server.stop)
        shutil.rmtree(folder, ignore_errors=True)
    _account(result, model, report)
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
