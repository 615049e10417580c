"""Play one scenario in one fix mode against a target, with surfaces attached, and judge it.

For each step: ask the target to do it (through :class:`Actions`), wait until the agent has done it
(the runner watches the event stream: a step-finish part, an idle session), then take a
checkpoint while the next model step is still held at the gate: every surface settles, is read
live, and read again from a freshly loaded instance; the scenario's arithmetic gives the expected
value. The history that results is checked by the pure oracles and judged against the scenario's
expectation for the mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from harness.anomalies import Anomaly
from harness.checks import check_history
from harness.drivers.base import LiveValue, Surface, TargetInfo
from harness.drivers.event_stream import EventStream, ReceivedEvent, is_idle, is_step_finish
from harness.drivers.tls import shared_ssl_context
from harness.errors import FreshnessError, TargetError
from harness.expected import ExpectedState
from harness.history import Checkpoint, History, Reading, write_trace
from harness.model_server import ModelServer, ModelStep, ScriptedModel, ToolCall, Usage
from harness.scenario.loader import LoadedScenario
from harness.scenario.model import SHIPPED, RunMode
from harness.scenario.steps import BaseStep, ModelStepSpec
from harness.staleness import Staleness, summarize_staleness
from harness.targets.base import ModelPlan, RunningTarget, Target, TargetPlan
from harness.verdict import Verdict, judge

__all__ = [
    "DEFAULT_SURFACES",
    "SURFACE_FACTORIES",
    "RunResult",
    "fixes_for",
    "run_scenario",
    "scripted_step",
]

DEFAULT_SURFACES: tuple[str, ...] = ("store", "protocol")


def _store() -> Surface:
    from harness.drivers.store import StoreSurface

    return StoreSurface()


def _protocol() -> Surface:
    from harness.drivers.protocol import ProtocolSurface

    return ProtocolSurface()


def _web() -> Surface:
    from harness.drivers.web import WebSurface

    return WebSurface()


def _tui() -> Surface:
    from harness.drivers.tui import TuiSurface

    return TuiSurface()


def _terminal() -> Surface:
    from harness.drivers.terminal import TerminalSurface

    return TerminalSurface()


# Factories import lazily so that a run on the store never loads Textual or Playwright.
SURFACE_FACTORIES: dict[str, Callable[[], Surface]] = {
    "store": _store,
    "protocol": _protocol,
    "web": _web,
    "tui": _tui,
    "terminal": _terminal,
}


def fixes_for(mode: RunMode) -> tuple[bool, bool]:
    """(server_fix, client_fix) for a fix mode; an agent as shipped has neither switch."""
    return mode in ("server", "both"), mode in ("client", "both")


@dataclass
class RunResult:
    loaded: LoadedScenario
    mode: RunMode
    history: History
    anomalies: list[Anomaly]
    verdict: Verdict
    staleness: list[Staleness]
    artifacts: Path
    seconds: float


def scripted_step(spec: ModelStepSpec) -> ModelStep:
    """A scenario's model step as the scripted model server plays it."""
    calls = (ToolCall(name=spec.tool, arguments=dict(spec.tool_args)),) if spec.tool else ()
    usage = spec.usage
    return ModelStep(
        text=spec.text,
        reasoning=spec.reasoning,
        tool_calls=calls,
        usage=Usage(
            input=usage.input,
            output=usage.output,
            reasoning=usage.reasoning,
            cache_read=usage.cache_read,
            cache_write=usage.cache_write,
        ),
    )


@dataclass
class _Turn:
    pending: deque[int]
    idle_before: int


class _FinishIndex:
    """Step-finish part ids per session and child sessions per parent, kept up to date from
    the events received so far. The runner asks after every event while it waits for a step;
    rescanning the whole history each time cost O(events) per event, on the same loop that
    timestamps the protocol surface's events."""

    def __init__(self) -> None:
        self._reset(None)

    def _reset(self, source: list[ReceivedEvent] | None) -> None:
        self._source = source
        self._seen = 0
        self._finishes: dict[str, set[str]] = {}
        self._children: dict[str, set[str]] = {}

    def family_finishes(self, events: list[ReceivedEvent], session_id: str) -> set[str]:
        if events is not self._source:  # a different history: index it from the start
            self._reset(events)
        for event in events[self._seen :]:
            info = event.properties.get("info") or {}
            if event.type == "session.created" and info.get("parentID") is not None:
                self._children.setdefault(str(info["parentID"]), set()).add(str(info.get("id")))
            owner = (event.properties.get("part") or {}).get("sessionID")
            if owner is not None and is_step_finish(owner)(event):
                part_id = str(event.properties["part"].get("id"))
                self._finishes.setdefault(owner, set()).add(part_id)
        self._seen = len(events)
        family = {session_id} | self._children.get(session_id, set())
        return set().union(*(self._finishes.get(member, set()) for member in family))


@dataclass
class _Play:
    """One run in progress: the live parts and the bookkeeping the steps need."""

    loaded: LoadedScenario
    model: ScriptedModel
    target: RunningTarget
    http: httpx.AsyncClient
    events: EventStream
    surfaces: list[Surface]
    step_timeout: float
    session_ids: dict[str, str] = field(default_factory=dict)
    turns: dict[str, _Turn] = field(default_factory=dict)
    finished_steps: dict[str, set[str]] = field(default_factory=dict)
    released_last: int | None = None
    shows: frozenset[str] = frozenset()
    open_name: str | None = None
    finish_index: _FinishIndex = field(default_factory=_FinishIndex)

    # -- Actions -------------------------------------------------------------------------------

    async def open_session(self, session: str) -> None:
        self.open_name = session
        for surface in self.surfaces:
            await surface.show(self._id(session))

    async def prompt(
        self,
        session: str,
        text: str,
        model_steps: Sequence[ModelStepSpec],
        model: str | None = None,
    ) -> None:
        session_id = self._id(session)
        first = len(self.model.steps)
        self.model.extend(scripted_step(spec) for spec in model_steps)
        model_id = model or self.loaded.scenario.sessions[session].model
        self.turns[session] = _Turn(
            pending=deque(range(first, first + len(model_steps))),
            idle_before=self.events.count(is_idle(session_id)),
        )
        await self._call(
            "POST",
            f"/session/{session_id}/prompt_async",
            {
                "parts": [{"type": "text", "text": text}],
                "model": {"providerID": self.target.provider_id, "modelID": model_id},
            },
        )
        # The turn is under way once the agent has asked for the first model step.
        await self.model.wait_request(first, timeout=self.step_timeout)

    async def release(self, session: str, count: int) -> None:
        session_id = self._id(session)
        turn = self.turns[session]
        for _ in range(count):
            index = turn.pending.popleft()
            done = len(self._step_finishes(session_id))
            self.model.release(1)

            def advanced(_events: object, done: int = done) -> bool:
                return len(self._step_finishes(session_id)) > done

            await self.events.wait_for(
                advanced,
                self.step_timeout,
                f"the agent to finish model step {index} of session {session!r}",
            )
            self.released_last = index
        if turn.pending:
            # Mid-turn: the agent has asked for the next step, which waits at the gate.
            await self.model.wait_request(turn.pending[0], timeout=self.step_timeout)

    async def finish(self, session: str) -> None:
        turn = self.turns.get(session)
        if turn is None:
            return
        if turn.pending:
            await self.release(session, len(turn.pending))
        session_id = self._id(session)
        await self.events.wait_for(
            lambda _events: self.events.count(is_idle(session_id)) > turn.idle_before,
            self.step_timeout,
            f"session {session!r} to go idle",
        )
        del self.turns[session]

    async def reload(self) -> None:
        for surface in self.surfaces:
            await surface.reload()

    async def rename(self, session: str, title: str) -> None:
        await self._call("PATCH", f"/session/{self._id(session)}", {"title": title})

    async def disconnect(self) -> None:
        for surface in self.surfaces:
            await _capability(surface, "disconnect")()

    async def reconnect(self) -> None:
        for surface in self.surfaces:
            await _capability(surface, "reconnect")()

    async def restart_server(self) -> None:
        restart: Callable[[], Awaitable[None]] | None = getattr(self.target, "restart", None)
        if restart is None:
            raise TargetError("this target cannot restart its server in place")
        await restart()
        for turn in self.turns.values():
            for index in turn.pending:
                # The held step's request was cut with the old server; the gate still counts
                # it, so it is released for the next turn's steps to pass.
                await self.model.wait_abandoned(index, timeout=self.step_timeout)
                self.model.release(1)
        self.turns.clear()
        # The runner's own view of /event ended with the old server; a new one keeps the
        # history so far, which step and idle counts are taken against.
        fresh = EventStream(self.target.info.base_url)
        fresh.events = self.events.events
        await self.events.close()
        await fresh.start()
        self.events = fresh

    async def external_write(
        self, session: str, text: str, model_steps: Sequence[ModelStepSpec], model: str | None
    ) -> None:
        command: Callable[[str, str, str], list[str]] | None = getattr(
            self.target, "oneshot_command", None
        )
        if command is None:
            raise TargetError("this target has no one-shot command to write from another process")
        self.model.extend(scripted_step(spec) for spec in model_steps)
        # Its steps stream as soon as asked: the other process is not what is being watched.
        self.model.release(len(model_steps))
        model_id = model or self.loaded.scenario.sessions[session].model
        process = await asyncio.create_subprocess_exec(
            *command(self._id(session), text, model_id),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            _, stderr = await asyncio.wait_for(process.communicate(), self.step_timeout * 2)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise TargetError("the one-shot run did not finish in time") from None
        if process.returncode != 0:
            raise TargetError(f"the one-shot run failed: {stderr.decode(errors='replace')}")

    async def attach_client(self) -> None:
        windows = sum(1 for surface in self.surfaces if "#" in surface.name)
        firsts = [s for s in self.surfaces if s.name in SURFACE_FACTORIES]
        number = windows // max(len(firsts), 1) + 2
        for surface in firsts:
            # Each attach is one more window of every surface: store#2, then store#3, ...
            second = SURFACE_FACTORIES[surface.name]()
            second.name = f"{surface.name}#{number}"
            _show_optional(second, self.shows)
            await second.attach(self.target.info)
            if self.open_name is not None:
                await second.show(self._id(self.open_name))
            self.surfaces.append(second)

    async def event_fault(self, fault: str, event_type: str) -> None:
        await self._call("POST", "/_test/event_faults", {fault: event_type})

    async def delete_session(self, session: str) -> None:
        await self._call("DELETE", f"/session/{self._id(session)}")

    async def revert(self, session: str) -> None:
        session_id = self._id(session)
        listed = await self._call("GET", f"/session/{session_id}/message")
        users = [m["info"]["id"] for m in listed if m["info"]["role"] == "user"]
        if not users:
            raise TargetError(f"session {session!r} has no turn to revert")
        await self._call("POST", f"/session/{session_id}/revert", {"messageID": users[-1]})

    async def compact(self, session: str, summary: ModelStepSpec) -> None:
        session_id = self._id(session)
        index = len(self.model.steps)
        self.model.extend([scripted_step(summary)])
        body = {
            "providerID": self.target.provider_id,
            "modelID": self.loaded.scenario.sessions[session].model,
        }
        # The agent answers once the summary is written, so the request waits for the step the
        # runner releases here.
        request = asyncio.create_task(self._call("POST", f"/session/{session_id}/summarize", body))
        asked = asyncio.create_task(self.model.wait_request(index, timeout=self.step_timeout))
        try:
            # A refused request never reaches the model: its error must not wait for a timeout.
            await asyncio.wait({request, asked}, return_when=asyncio.FIRST_COMPLETED)
            if not asked.done():
                await request
                raise TargetError(f"summarize answered before asking the model: {request.result()}")
            await asked
            self.model.release(1)
            await asyncio.wait_for(asyncio.shield(request), self.step_timeout)
        finally:
            for task in (request, asked):
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, TargetError):
                        await task
        self.released_last = index

    # -- helpers -------------------------------------------------------------------------------

    def _id(self, session: str) -> str:
        """The target's id of a scenario session; a subagent's child is found by its creation."""
        if session not in self.session_ids:
            spec = self.loaded.scenario.sessions[session]
            if spec.parent is None:
                raise TargetError(f"session {session!r} was never created")
            parent_id = self._id(spec.parent)
            for event in self.events.events:
                info = event.properties.get("info") or {}
                if (
                    event.type == "session.created"
                    and info.get("parentID") == parent_id
                    and info.get("title") == spec.title
                ):
                    self.session_ids[session] = str(info["id"])
                    break
            else:
                raise TargetError(
                    f"no subagent session titled {spec.title!r} was started under {spec.parent!r}"
                )
        return self.session_ids[session]

    def _step_finishes(self, session_id: str) -> set[str]:
        # A turn's steps include its subagents': they run inside the parent's tool call.
        return self.finish_index.family_finishes(self.events.events, session_id)

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            response = await self.http.request(method, path, json=body)
        except httpx.HTTPError as error:
            raise TargetError(f"{method} {path}: {error}") from None
        if response.status_code >= 400:
            raise TargetError(f"{method} {path} answered {response.status_code}: {response.text}")
        return response.json() if response.content else None

    async def create_sessions(self) -> None:
        for name, spec in self.loaded.scenario.sessions.items():
            if spec.parent is not None:
                continue  # a subagent's session: its parent's turn starts it
            info = await self._call("POST", "/session", {"title": spec.title})
            self.session_ids[name] = info["id"]


async def _checkpoint(
    play: _Play,
    *,
    index: int,
    step: BaseStep,
    line: int,
    state: ExpectedState,
    previous: Checkpoint | None,
    released: int | None,
) -> Checkpoint:
    await asyncio.gather(*(surface.settle() for surface in play.surfaces))
    sent_at = None
    if released is not None:
        sent = [s for s in play.model.sent if s.step_index == released]
        sent_at = sent[-1].t if sent else None
    expected = state.display()
    asserted = step.assertions()
    readings: dict[str, dict[str, Reading]] = {}
    for surface in play.surfaces:
        # An offline surface (its stream dropped on purpose) makes no live claim to check.
        offline = bool(getattr(surface, "offline", False))
        live: dict[str, LiveValue] = {} if offline else await surface.read_live()
        fresh = await surface.read_reload()
        before = previous.readings.get(surface.name, {}) if previous else {}
        row: dict[str, Reading] = {}
        for name in surface.readouts:
            value = live.get(name, LiveValue(None))
            latency = None
            moved = name not in before or before[name].live != value.shown
            if sent_at is not None and value.changed_at is not None and moved:
                latency = round((value.changed_at - sent_at) * 1000, 3)
            row[name] = Reading(
                live=value.shown,
                reload=fresh.get(name),
                expected=expected.get(name),
                asserted=asserted.get(name),
                latency_ms=latency,
                error="offline" if offline else None,
            )
        readings[surface.name] = row
    return Checkpoint(
        index=index,
        line=line,
        label=step.label(),
        readings=readings,
        mid_turn=any(state.turn_running(name) for name in state.sessions),
        session=state.opened,
    )


async def _play(play: _Play, history: History) -> None:
    state = ExpectedState.for_scenario(play.loaded.scenario)
    previous: Checkpoint | None = None
    for position, step in enumerate(play.loaded.scenario.steps):
        play.released_last = None
        await step.run(play, state)
        step.apply(state)
        checkpoint = await _checkpoint(
            play,
            index=position + 1,
            step=step,
            line=play.loaded.step_lines[position],
            state=state,
            previous=previous,
            released=play.released_last,
        )
        history.checkpoints.append(checkpoint)
        previous = checkpoint


def _plan(loaded: LoadedScenario, mode: RunMode, openai_base_url: str, workdir: Path) -> TargetPlan:
    server_fix, client_fix = fixes_for(mode)
    models = tuple(
        ModelPlan(
            id=name,
            context=spec.context,
            price_input=spec.price.input if spec.price else None,
            price_output=spec.price.output if spec.price else None,
            price_cache_read=spec.price.cache_read if spec.price else None,
            price_cache_write=spec.price.cache_write if spec.price else None,
        )
        for name, spec in loaded.scenario.models.items()
    )
    return TargetPlan(
        models,
        openai_base_url,
        server_fix,
        client_fix,
        workdir,
        replay_buffer=loaded.scenario.agent.replay_buffer,
        event_faults=loaded.scenario.agent.event_faults,
        provider=loaded.scenario.agent.provider,
    )


def _default_target() -> Target:
    from harness.targets.reference import ReferenceTarget

    return ReferenceTarget()


async def run_scenario(
    loaded: LoadedScenario,
    mode: RunMode,
    *,
    surfaces: Sequence[str] = DEFAULT_SURFACES,
    runs_dir: Path = Path(".freshness/runs"),
    target: Target | None = None,
    step_timeout: float = 20.0,
    run_timeout: float = 300.0,
) -> RunResult:
    """Run one scenario in one fix mode; never raises for a target's failure (it is recorded)."""
    started = time.monotonic()
    chosen = [s for s in surfaces if s in loaded.scenario.surfaces]
    workdir = runs_dir / f"{loaded.name}-{mode}-{uuid.uuid4().hex[:8]}"
    workdir.mkdir(parents=True, exist_ok=True)
    history = History(
        scenario=loaded.name, path=_shown_path(loaded.path), mode=mode, surfaces=tuple(chosen)
    )
    target = target or _default_target()
    history.meta["target"] = target.name
    expect_line = loaded.expect_lines.get(target.name if mode == SHIPPED else mode)
    if expect_line is not None:
        history.meta["expect_line"] = expect_line
    model = ScriptedModel(model_id="scripted", gated=True)
    model_server = ModelServer(model)
    opened: list[Surface] = []
    running: RunningTarget | None = None
    http: httpx.AsyncClient | None = None
    events: EventStream | None = None
    play: _Play | None = None
    deadline: asyncio.Timeout | None = None
    try:
        base = await asyncio.to_thread(model_server.start)
        running = await target.start(_plan(loaded, mode, f"{base}/v1", workdir))
        # The deadline covers everything asked of the started target, not only the steps: a
        # target that accepts connections and never answers used to run past it on the
        # event stream's and HTTP client's own timeouts. (Starting has its own limits; a
        # real agent's first install may take minutes.)
        async with asyncio.timeout(run_timeout) as deadline:
            http = httpx.AsyncClient(
                base_url=running.info.base_url, timeout=10.0, verify=shared_ssl_context()
            )
            events = EventStream(running.info.base_url)
            await events.start()
            shows = ExpectedState.for_scenario(loaded.scenario).shows
            play = _Play(loaded, model, running, http, events, opened, step_timeout,
                         shows=shows)
            await play.create_sessions()
            await _attach_surfaces(chosen, shows, running.info, opened)
            await _play(play, history)
    except (FreshnessError, TimeoutError, httpx.HTTPError, OSError) as error:
        history.error = _run_error(error, deadline, run_timeout)
    finally:
        if play is not None:
            events = play.events  # a restart replaces the runner's stream
        # Surfaces attached mid-run (a second client) are judged like the first ones.
        history.surfaces = (*chosen, *(s.name for s in opened if s.name not in chosen))
        model.release_all()
        for surface in opened:
            with contextlib.suppress(Exception):
                await surface.close()
        if events is not None:
            await events.close()
        if http is not None:
            await http.aclose()
        await _stop_servers(running, model_server)
    write_trace(history, workdir / "trace.jsonl")
    anomalies = check_history(history)
    verdict = _verdict(loaded, mode, target.name, history, anomalies)
    return RunResult(
        loaded=loaded,
        mode=mode,
        history=history,
        anomalies=anomalies,
        verdict=verdict,
        staleness=summarize_staleness(history),
        artifacts=workdir,
        seconds=time.monotonic() - started,
    )


def _verdict(
    loaded: LoadedScenario, mode: RunMode, target: str, history: History, anomalies: list[Anomaly]
) -> Verdict:
    readouts = {
        surface: set(history.readouts_on(surface)) or _declared(surface.split("#")[0])
        for surface in history.surfaces
    }
    return judge(
        loaded.name,
        mode,
        anomalies,
        loaded.scenario.expectation(mode, target),
        readouts,
        error=history.error,
        unread=_never_read(history),
    )


def _never_read(history: History) -> dict[str, tuple[str, ...]]:
    """Readouts a surface could not read at any checkpoint: an unknown, never a pass."""
    unread: dict[str, tuple[str, ...]] = {}
    for surface in history.surfaces:
        names = tuple(
            name
            for name in history.readouts_on(surface)
            if all(reading.live is None for _, reading in history.series(surface, name))
        )
        if names:
            unread[surface] = names
    return unread


async def _stop_servers(running: RunningTarget | None, model_server: ModelServer) -> None:
    """The agent and the model server stop independently, and each sits out its uvicorn's
    shutdown ticks (100-200 ms): stopping them together costs one wait instead of two."""

    async def stop_target() -> None:
        if running is not None:
            with contextlib.suppress(Exception):
                await running.stop()

    await asyncio.gather(stop_target(), _in_own_thread(model_server.stop, "model-server-stop"))


async def _in_own_thread(work: Callable[[], object], name: str) -> None:
    """`work()` in a thread that ends with it. Not the loop's executor: a second stop running
    beside the target's would make the executor keep a second idle thread for the loop's life."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def settle(error: BaseException | None) -> None:
        if done.done():  # the waiter was cancelled meanwhile
            return
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)

    def run() -> None:
        try:
            work()
        except BaseException as error:  # handed to the awaiting coroutine
            loop.call_soon_threadsafe(settle, error)
        else:
            loop.call_soon_threadsafe(settle, None)

    threading.Thread(target=run, name=name, daemon=True).start()
    await done


def _shown_path(path: Path) -> str:
    """The scenario's path as a reader typed it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


async def _attach_surfaces(
    chosen: Sequence[str], shows: frozenset[str], info: TargetInfo, opened: list[Surface]
) -> None:
    """Attaches each chosen surface; `opened` holds those attached so far, for the close."""
    for name in chosen:
        surface = SURFACE_FACTORIES[name]()
        _show_optional(surface, shows)
        await surface.attach(info)
        opened.append(surface)


def _run_error(error: BaseException, deadline: asyncio.Timeout | None, run_timeout: float) -> str:
    if deadline is not None and deadline.expired():
        return f"TimeoutError: the run passed its {run_timeout:g}s deadline"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _show_optional(surface: Surface, groups: frozenset[str]) -> None:
    # Some readouts exist only where a scenario needs them (family totals with subagents, the
    # session list's size where sessions are deleted); a surface that can show a group names it
    # in `optional_readouts`.
    extra: dict[str, tuple[str, ...]] = getattr(surface, "optional_readouts", {})
    for group in sorted(groups):
        surface.readouts = (*surface.readouts, *extra.get(group, ()))


def _capability(surface: Surface, name: str) -> Callable[[], Awaitable[None]]:
    method: Callable[[], Awaitable[None]] | None = getattr(surface, name, None)
    if method is None:
        raise TargetError(
            f"the {surface.name} surface cannot {name}; list the surfaces that can in the"
            " scenario's `surfaces`"
        )
    return method


def _declared(surface: str) -> set[str]:
    return set(SURFACE_FACTORIES[surface]().readouts)
