"""The agent loop: one prompt becomes a turn of model steps, each streamed, recorded and
announced, with tool calls run between steps until the model stops.

Events of a turn, in order:
  session.status(busy); message.updated(user) + its text part; message.updated(assistant);
  per step: step-start part, text/reasoning parts (message.part.updated, then
  message.part.delta per chunk, then message.part.updated with the full text), tool parts
  (pending), then at the step finish the usage write (usage.py: step-finish part,
  message.updated, and session.updated only with the server fix), then the tools run
  (running -> completed | error);
  finally message.updated(completed), session.status(idle), session.idle.
A failure (provider down, HTTP error, broken stream, timeout) or an abort ends the turn with
the assistant message's `error` set and a session.error event, keeping what was recorded.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from . import events
from .bus import Bus
from .clock import now_ms
from .config import PROVIDER_ID, AgentConfig, ModelConfig
from .ids import new_id
from .pricing import step_cost
from .providers import (
    AssistantTurn,
    Finish,
    Provider,
    ProviderError,
    ReasoningDelta,
    TextDelta,
    ToolCallItem,
    ToolResultTurn,
    ToolSpec,
    Turn,
    UserTurn,
)
from .repo import Repository, is_default_title
from .tools import BUILTIN_TOOLS, ToolError, ToolOutcome, run_tool
from .types import JSON
from .usage import apply_step_usage

__all__ = ["Agent", "SessionBusy", "UnknownModel"]

log = logging.getLogger(__name__)

AGENT_NAME = "build"
# The tool that starts a subagent: it runs in the agent (it needs the model and the store), not in
# the workspace sandbox, so it is not one of BUILTIN_TOOLS.
TASK_TOOL = ToolSpec(
    "task",
    "Hand a self-contained piece of work to a subagent. It works in its own child session and "
    "answers with its final message.",
    {"type": "object",
     "properties": {"description": {"type": "string", "description": "a few words: the title"},
                    "prompt": {"type": "string", "description": "what the subagent must do"}},
     "required": ["description", "prompt"]},
)
AGENT_TOOLS: tuple[ToolSpec, ...] = (*BUILTIN_TOOLS, TASK_TOOL)
SUMMARY_PROMPT = ("Summarize the conversation so far for a colleague who takes over: what was "
                  "asked, what was done, what is left. The summary replaces the history.")
TITLE_PROMPT = "Write a title of at most eight words for a conversation that starts with:\n\n"


class SessionBusy(RuntimeError):
    def __init__(self, session_id: str) -> None:
        super().__init__(f"session {session_id} is busy with a turn; abort it or wait for idle")
        self.session_id = session_id


class UnknownModel(ValueError):
    pass


@dataclass
class _Step:
    """The parts one model step has open, so a failure can close them honestly."""

    session_id: str
    message_id: str
    text: JSON | None = None
    reasoning: JSON | None = None
    texts: list[str] = field(default_factory=list)
    tool_parts: list[JSON] = field(default_factory=list)
    calls: list[ToolCallItem] = field(default_factory=list)


class Agent:
    def __init__(self, config: AgentConfig, repo: Repository, bus: Bus, provider: Provider) -> None:
        self.config = config
        self.repo = repo
        self.bus = bus
        self.provider = provider
        self._turns: dict[str, asyncio.Task[None]] = {}
        self._background: set[asyncio.Task[None]] = set()

    # --- control ------------------------------------------------------------------------

    def resolve_model(self, model_id: str | None) -> ModelConfig:
        if model_id is None:
            return self.config.models[0]
        model = self.config.model(model_id)
        if model is None:
            known = ", ".join(model.id for model in self.config.models)
            raise UnknownModel(f"unknown model {model_id!r}; configured: {known}")
        return model

    def status(self) -> dict[str, JSON]:
        """opencode's /session/status: only sessions that are not idle appear."""
        return {session_id: {"type": "busy"} for session_id in self._turns}

    def is_busy(self, session_id: str) -> bool:
        return session_id in self._turns

    def start_turn(self, session_id: str, text: str, model: ModelConfig) -> None:
        """Starts a turn in the background. Must be called on the server's event loop."""
        if session_id in self._turns:
            raise SessionBusy(session_id)
        # Busy is published before the HTTP answer so a client never sees 204 then idle.
        self.bus.publish(events.session_status(session_id, "busy"))
        task = asyncio.create_task(self._turn(session_id, text, model), name=f"turn {session_id}")
        self._turns[session_id] = task
        task.add_done_callback(lambda _task: self._turns.pop(session_id, None))

    def revert(self, session_id: str, message_id: str) -> list[str]:
        """Removes the message and everything after it (the session's history goes back to
        before it); returns the removed ids. Spent is not refunded: the session row stays.

        opencode hides reverted messages and deletes them at the next prompt; removing them at
        once gives every client the same view with fewer states to get wrong."""
        if session_id in self._turns:
            raise SessionBusy(session_id)
        removed = self.repo.delete_messages_from(session_id, message_id)
        for removed_id in removed:
            self.bus.publish(events.message_removed(session_id, removed_id))
        return removed

    async def summarize(self, session_id: str, model: ModelConfig) -> None:
        """Compaction: the model writes a summary of the session so far, which replaces every
        older message. The summary step is billed like any other; nothing is refunded.
        Returns when done, as opencode's POST /session/{id}/summarize does."""
        if session_id in self._turns:
            raise SessionBusy(session_id)
        self.bus.publish(events.session_status(session_id, "busy"))
        task = asyncio.create_task(self._compact(session_id, model),
                                   name=f"compact {session_id}")
        self._turns[session_id] = task
        task.add_done_callback(lambda _task: self._turns.pop(session_id, None))
        # Waiting does not cancel the compaction if the caller goes away; abort() does.
        await asyncio.wait({task})
        failure = None if task.cancelled() else task.exception()
        if failure is not None:
            raise failure

    async def abort(self, session_id: str) -> bool:
        task = self._turns.get(session_id)
        if task is None:
            return False
        task.cancel()
        await asyncio.wait({task})
        return True

    async def wait_idle(self, session_id: str) -> None:
        task = self._turns.get(session_id)
        if task is not None:
            await asyncio.wait({task})

    async def shutdown(self) -> None:
        tasks = [*self._turns.values(), *self._background]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    # --- the turn -----------------------------------------------------------------------

    def _publish_part(self, part: JSON) -> JSON:
        stored = self.repo.save_part(part)
        self.bus.publish(events.message_part_updated(stored))
        return stored

    def _new_part(self, step: _Step, kind: str, **fields: Any) -> JSON:
        return self._publish_part({"id": new_id("prt"), "sessionID": step.session_id,
                                   "messageID": step.message_id, "type": kind, **fields})

    async def _turn(self, session_id: str, text: str, model: ModelConfig) -> None:
        assistant: JSON | None = None
        try:
            first_prompt = self.repo.count_messages(session_id) == 0
            history = self._history(session_id)
            user = self.repo.add_message(
                session_id, "user",
                {"agent": AGENT_NAME, "model": {"providerID": PROVIDER_ID, "modelID": model.id}},
            )
            self.bus.publish(events.message_updated(user))
            self._publish_part({"id": new_id("prt"), "sessionID": session_id,
                                "messageID": user["id"], "type": "text", "text": text})
            if first_prompt and self.config.generate_titles:
                self._spawn(self._generate_title(session_id, text, model))
            workspace = str(self.config.workspace)
            assistant = self.repo.add_message(
                session_id, "assistant",
                {"parentID": user["id"], "modelID": model.id, "providerID": PROVIDER_ID,
                 "mode": AGENT_NAME, "agent": AGENT_NAME,
                 "path": {"cwd": workspace, "root": workspace}},
                # Nothing is billed before a step finishes; an unpriced step then turns this
                # unknown (NULL absorbs in `cost = cost + ?`), as it does the session total.
                cost=0.0,
            )
            self.bus.publish(events.message_updated(assistant))
            reason = await self._steps(session_id, assistant["id"], model,
                                       [*history, UserTurn(text)])
            self.bus.publish(events.message_updated(
                self.repo.finish_message(assistant["id"], finish=reason)))
        except asyncio.CancelledError:
            self._fail(session_id, assistant,
                       {"name": "MessageAbortedError", "data": {"message": "aborted"}})
            raise
        except ProviderError as error:
            log.info("turn in %s failed: %s", session_id, error)
            self._fail(session_id, assistant, error.to_json())
        except Exception as error:  # a server bug must still end the turn, not wedge it busy
            log.exception("turn in %s crashed", session_id)
            message = f"{type(error).__name__}: {error}"
            self._fail(session_id, assistant,
                       {"name": "UnknownError", "data": {"message": message}})
        finally:
            self.bus.publish(events.session_status(session_id, "idle"))
            self.bus.publish(events.session_idle(session_id))

    async def _compact(self, session_id: str, model: ModelConfig) -> None:
        summary: JSON | None = None
        try:
            history = self._history(session_id)
            workspace = str(self.config.workspace)
            summary = self.repo.add_message(
                session_id, "assistant",
                {"parentID": None, "modelID": model.id, "providerID": PROVIDER_ID,
                 "mode": "compaction", "agent": "compaction", "summary": True,
                 "path": {"cwd": workspace, "root": workspace}},
                cost=0.0,
            )
            self.bus.publish(events.message_updated(summary))
            step = _Step(session_id, summary["id"])
            # The request offers the tools, as every turn's does, so a provider sees one shape
            # of request; a summary runs none of them.
            try:
                finish = await self._stream_step(step, model, [*history, UserTurn(SUMMARY_PROMPT)])
            except BaseException:
                self._close_open_parts(step, "the compaction was interrupted")
                raise
            self.bus.publish(events.message_updated(
                self.repo.finish_message(summary["id"], finish=finish.reason)))
            for removed_id in self.repo.delete_messages_before(session_id, summary["id"]):
                self.bus.publish(events.message_removed(session_id, removed_id))
            self.bus.publish(events.session_compacted(session_id))
        except asyncio.CancelledError:
            self._fail(session_id, summary,
                       {"name": "MessageAbortedError", "data": {"message": "aborted"}})
            raise
        except ProviderError as error:
            self._fail(session_id, summary, error.to_json())
            raise
        finally:
            self.bus.publish(events.session_status(session_id, "idle"))
            self.bus.publish(events.session_idle(session_id))

    def _fail(self, session_id: str, assistant: JSON | None, error: JSON) -> None:
        if assistant is not None:
            try:
                finished = self.repo.finish_message(assistant["id"], error=error)
            except LookupError:  # the session was deleted under the turn
                pass
            else:
                self.bus.publish(events.message_updated(finished))
        self.bus.publish(events.session_error(session_id, error))

    async def _steps(self, session_id: str, message_id: str, model: ModelConfig,
                     turns: list[Turn]) -> str:
        reason = "stop"
        for _ in range(self.config.max_steps):
            step = _Step(session_id, message_id)
            try:
                finish = await self._stream_step(step, model, turns)
            except BaseException:
                self._close_open_parts(step, "the step was interrupted")
                raise
            reason = finish.reason
            results = await self._run_tools(step, model)
            turns.append(AssistantTurn("".join(step.texts), tuple(step.calls)))
            turns.extend(results)
            if not step.calls:
                return reason
        return reason

    async def _stream_step(self, step: _Step, model: ModelConfig, turns: list[Turn]) -> Finish:
        self._new_part(step, "step-start")
        async for item in self.provider.stream(model_id=model.id, turns=turns,
                                               tools=AGENT_TOOLS):
            if isinstance(item, TextDelta):
                if step.text is None:
                    step.text = self._new_part(step, "text", text="", time={"start": now_ms()})
                step.texts.append(item.text)
                step.text["text"] += item.text
                self.bus.publish(events.message_part_delta(step.text, "text", item.text))
            elif isinstance(item, ReasoningDelta):
                if step.reasoning is None:
                    step.reasoning = self._new_part(step, "reasoning", text="",
                                                    time={"start": now_ms()})
                step.reasoning["text"] += item.text
                self.bus.publish(events.message_part_delta(step.reasoning, "text", item.text))
            elif isinstance(item, ToolCallItem):
                step.calls.append(item)
                step.tool_parts.append(self._new_part(
                    step, "tool", callID=item.call_id, tool=item.name,
                    state={"status": "pending", "input": item.arguments,
                           "raw": json.dumps(item.arguments)},
                ))
            elif isinstance(item, Finish):
                self._close_streamed_parts(step)
                apply_step_usage(
                    self.repo.database, self.bus,
                    session_id=step.session_id, message_id=step.message_id,
                    usage=item.usage, cost=step_cost(item.usage, model.price),
                    reason=item.reason, server_fix=self.config.server_fix,
                )
                # Let the event streams write the usage events before the turn runs tools and
                # builds the next request: without this the events wait in the subscribers'
                # queues for all of that synchronous work (several ms per step).
                await asyncio.sleep(0)
                return item
        raise ProviderError("the provider stream ended without a finish")

    def _close_streamed_parts(self, step: _Step) -> None:
        """Stores the full text of the step's text and reasoning parts, stamped ended."""
        for name in ("reasoning", "text"):
            part: JSON | None = getattr(step, name)
            if part is not None:
                part["time"] = {**part["time"], "end": now_ms()}
                self._publish_part(part)
                setattr(step, name, None)

    def _close_open_parts(self, step: _Step, why: str) -> None:
        """After a failure: keep the text streamed so far, mark unfinished tools errored."""
        self._close_streamed_parts(step)
        now = now_ms()
        for part in step.tool_parts:
            if part["state"]["status"] in {"pending", "running"}:
                start = part["state"].get("time", {}).get("start", now)
                part["state"] = {"status": "error", "input": part["state"]["input"],
                                 "error": why, "time": {"start": start, "end": now}}
                self._publish_part(part)

    async def _subagent(self, parent_id: str, arguments: JSON, model: ModelConfig) -> ToolOutcome:
        """The task tool: a child session (parentID set) runs a whole turn of its own, billed to
        the child; the parent gets the child's last words as the tool's result."""
        description, prompt = arguments.get("description"), arguments.get("prompt")
        if not isinstance(description, str) or not isinstance(prompt, str) or not prompt:
            raise ToolError("task needs a string `description` and a non-empty `prompt`")
        child = self.repo.create_session(title=description or None, parent_id=parent_id)
        child_id = child["id"]
        self.bus.publish(events.session_created(child))
        self.bus.publish(events.session_status(child_id, "busy"))
        # The child is busy while the parent's turn runs it: a prompt to it now is refused, and
        # aborting it aborts the turn that waits for it.
        current = asyncio.current_task()
        if current is not None:
            self._turns[child_id] = current
        try:
            await self._turn(child_id, prompt, model)
        finally:
            self._turns.pop(child_id, None)
        answer = ""
        for message in reversed(self.repo.list_messages(child_id, limit=1)):
            answer = "".join(p["text"] for p in message["parts"] if p["type"] == "text")
        return ToolOutcome(title=description, output=answer, metadata={"sessionId": child_id})

    async def _run_tools(self, step: _Step, model: ModelConfig) -> list[ToolResultTurn]:
        results: list[ToolResultTurn] = []
        for call, part in zip(step.calls, step.tool_parts, strict=True):
            start = now_ms()
            part["state"] = {"status": "running", "input": call.arguments,
                             "time": {"start": start}}
            self._publish_part(part)
            try:
                if call.name == TASK_TOOL.name:
                    outcome = await self._subagent(step.session_id, call.arguments, model)
                else:
                    outcome = await asyncio.to_thread(run_tool, call.name, call.arguments,
                                                      self.config.workspace)
            except ToolError as error:
                part["state"] = {"status": "error", "input": call.arguments, "error": str(error),
                                 "time": {"start": start, "end": now_ms()}}
                results.append(ToolResultTurn(call.call_id, call.name, str(error), is_error=True))
            else:
                part["state"] = {"status": "completed", "input": call.arguments,
                                 "output": outcome.output, "title": outcome.title,
                                 "metadata": outcome.metadata,
                                 "time": {"start": start, "end": now_ms()}}
                results.append(ToolResultTurn(call.call_id, call.name, outcome.output))
            self._publish_part(part)
        return results

    # --- context and titles -------------------------------------------------------------

    def _history(self, session_id: str) -> list[Turn]:
        """Earlier messages as model turns; an assistant message splits at its step-starts."""
        turns: list[Turn] = []
        for message in self.repo.list_messages(session_id):
            parts = message["parts"]
            if message["info"]["role"] == "user":
                text = "".join(p["text"] for p in parts if p["type"] == "text")
                turns.append(UserTurn(text))
                continue
            groups: list[list[JSON]] = []
            for part in parts:
                if part["type"] == "step-start" or not groups:
                    groups.append([])
                groups[-1].append(part)
            for group in groups:
                text = "".join(p["text"] for p in group if p["type"] == "text")
                done = [p for p in group if p["type"] == "tool"
                        and p["state"]["status"] in {"completed", "error"}]
                calls = tuple(ToolCallItem(p["callID"], p["tool"], p["state"]["input"])
                              for p in done)
                if text or calls:
                    turns.append(AssistantTurn(text, calls))
                for p in done:
                    failed = p["state"]["status"] == "error"
                    output = p["state"]["error"] if failed else p["state"]["output"]
                    turns.append(ToolResultTurn(p["callID"], p["tool"], output, is_error=failed))
        return turns

    def _spawn(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            await work

        task = asyncio.create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _generate_title(self, session_id: str, text: str, model: ModelConfig) -> None:
        """Asks the model for a title, without tools, as real agents do. A failure only
        costs the title."""
        try:
            chunks = [item.text async for item in self.provider.stream(
                model_id=model.id, turns=[UserTurn(TITLE_PROMPT + text)], tools=())
                if isinstance(item, TextDelta)]
            lines = "".join(chunks).strip().splitlines()
            title = lines[0].strip()[:100] if lines else ""
            if not title or not is_default_title(self.repo.get_session(session_id)["title"]):
                return
            # Like a rename, this carries the session's current totals: it refreshes a stale
            # cost as a side effect, which scenarios must not mistake for the fix.
            self.bus.publish(events.session_updated(self.repo.rename_session(session_id, title)))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("title generation for %s failed", session_id, exc_info=True)

