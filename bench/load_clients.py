"""The load section's reading clients, in a process of their own.

Forty clients parsing every event would otherwise share one interpreter lock with the scripted
model server in the benchmark's process, and the lag would measure that process instead of the
agent. Protocol on stdin/stdout, one line each: this prints `ready` once every client follows
the stream; it is sent `stop <newest sequence>`; it prints one JSON object and exits.

    python -m bench.load_clients URL CLIENTS_PER_SESSION SESSION_ID...
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable

from httpx_sse import ServerSentEvent

from reference_app.client.follow import Client
from reference_app.client.store import ClientStore

__all__ = ["STEP_INPUT_BASE", "main"]

STEP_INPUT_BASE = 10_000  # a step's input tokens are this plus its index in the script


class TimedClient(Client):
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


def _caught_up(client: TimedClient, newest: int) -> Callable[[ClientStore], bool]:
    def done(_store: ClientStore) -> bool:
        return bool(client.seqs) and client.seqs[-1] >= newest

    return done


def _report(clients: list[TimedClient], newest: int) -> dict[str, object]:
    landed: list[tuple[int, float]] = []
    expected = lost = resyncs = 0
    for client in clients:
        landed += client.landed
        # The first bootstrap counts as one resync; only later ones mean the client fell behind.
        resyncs += max(0, client.resyncs - 1)
        if client.first_seq is None:
            continue
        wanted = set(range(client.first_seq + 1, newest + 1))
        expected += len(wanted)
        # A resync announces its gap; only a client that never resynced can lose silently.
        if client.resyncs <= 1:
            lost += len(wanted - set(client.seqs))
    return {"landed": landed, "expected": expected, "lost": lost, "resyncs": resyncs}


async def _main(url: str, per_session: int, session_ids: list[str]) -> None:
    clients: list[TimedClient] = []
    for session_id in session_ids:
        for _ in range(per_session):
            client = TimedClient(url)
            await client.bootstrap(session_id)
            await client.start()
            clients.append(client)
    print("ready", flush=True)
    line = await asyncio.to_thread(sys.stdin.readline)
    newest = int(line.split()[1])
    # Give the stragglers a moment to reach the newest event before counting what is missing.
    await asyncio.gather(
        *(client.wait_until(_caught_up(client, newest), 10) for client in clients),
        return_exceptions=True,  # a client still behind after 10 s is counted as it stands
    )
    print(json.dumps(_report(clients, newest)), flush=True)
    for client in clients:
        await client.close()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    asyncio.run(_main(args[0], int(args[1]), args[2:]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
