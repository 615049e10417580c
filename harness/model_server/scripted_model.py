"""The scripted model: which step answers which request, the gate that paces steps, and the
record of what was asked and when usage went out.

All state sits behind one lock because the HTTP server's thread and the harness runner's thread
both touch it. Waits (`wait_request`, `wait_usage_sent`, the gate itself) are coroutines that
work on any event loop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from harness.model_server.script import ModelStep, ScriptError, ToolCall, Usage
from harness.model_server.waiters import CrossLoopCondition

logger = logging.getLogger(__name__)

AssignmentKind = Literal["scripted", "toolless", "exhausted"]

# Side requests such as title generation are not part of the conversation under test; they get
# a few words and a token count small enough to stand out from scripted usage in a trace.
TOOLLESS_ANSWER = ModelStep(text="Scripted session", usage=Usage(input=12, output=3))
EXHAUSTED_ANSWER = ModelStep()


@dataclass(frozen=True, slots=True)
class UsageSent:
    """When a step's usage reached the wire.

    `t` is `time.monotonic()` and `wall` is `time.time()`, both taken just after the write.
    `in_stream` is False for an OpenAI stream without `include_usage`: the usage never goes out,
    so the moment recorded is the step's final chunk instead.
    """

    step_index: int
    t: float
    wall: float
    in_stream: bool = True


@dataclass(frozen=True, slots=True)
class RequestArrived:
    """A scripted step's request reached the server (and, if gated, is waiting at the gate)."""

    step_index: int
    t: float
    wall: float


@dataclass(frozen=True, slots=True)
class Assignment:
    """What one request is answered with. `step_index` is None outside the script."""

    kind: AssignmentKind
    step: ModelStep
    step_index: int | None = None


class ScriptedModel:
    """Answers model requests from a script of `ModelStep`s, in request order.

    Only requests that carry tools consume steps; others (title generation and the like) get
    `TOOLLESS_ANSWER`. A tools request after the script ran out gets an empty stop step with
    zero usage, counted in `unscripted_requests` and logged as a warning.

    With `gated=True` every scripted step waits before its first byte until `release()` lets it
    through, so a runner can hold the agent mid-turn and look at the UI between steps.
    """

    def __init__(self, model_id: str = "scripted", gated: bool = True) -> None:
        if not model_id:
            raise ScriptError("ScriptedModel.model_id must be a non-empty string")
        self._model_id = model_id
        self._lock = threading.RLock()
        self._changed = CrossLoopCondition(self._lock)
        self._gated = gated
        self._tool_call_serial = 0
        self._steps: list[ModelStep] = []
        self._reset_progress()

    def _reset_progress(self) -> None:
        self._next_step = 0
        self._released = 0
        self._served = 0
        self._requests: list[dict[str, Any]] = []
        self._arrived: list[RequestArrived] = []
        self._sent: list[UsageSent] = []
        self._abandoned: list[int] = []
        self._warnings: list[str] = []
        self._unscripted_requests = 0
        self._toolless_requests = 0

    # -- the script ---------------------------------------------------------------------------

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def steps(self) -> tuple[ModelStep, ...]:
        with self._lock:
            return tuple(self._steps)

    def load(self, steps: Iterable[ModelStep]) -> None:
        """Replace the script and start a fresh run: progress, records and releases reset."""
        prepared = self._prepare(steps)
        with self._lock:
            self._steps = prepared
            self._reset_progress()
            self._changed.notify()

    def extend(self, steps: Iterable[ModelStep]) -> None:
        """Append steps; requests already answered as exhausted are not replayed."""
        prepared = self._prepare(steps)
        with self._lock:
            self._steps.extend(prepared)
            self._changed.notify()

    def _prepare(self, steps: Iterable[ModelStep]) -> list[ModelStep]:
        prepared: list[ModelStep] = []
        for position, step in enumerate(steps):
            if not isinstance(step, ModelStep):
                raise ScriptError(f"script item {position} is {step!r}, expected ModelStep")
            prepared.append(self._with_call_ids(step))
        return prepared

    def _with_call_ids(self, step: ModelStep) -> ModelStep:
        # Ids are fixed at load time, not at streaming time, so both wire formats and any
        # later inspection of `steps` agree, and a rerun of the same script gives the same ids.
        if all(call.id for call in step.tool_calls):
            return step
        calls: list[ToolCall] = []
        with self._lock:
            for call in step.tool_calls:
                if call.id:
                    calls.append(call)
                    continue
                self._tool_call_serial += 1
                calls.append(dataclasses.replace(call, id=f"call_{self._tool_call_serial:04d}"))
        return dataclasses.replace(step, tool_calls=tuple(calls))

    # -- the gate -----------------------------------------------------------------------------

    @property
    def gated(self) -> bool:
        with self._lock:
            return self._gated

    @gated.setter
    def gated(self, value: bool) -> None:
        with self._lock:
            self._gated = value
            self._changed.notify()

    @property
    def released(self) -> int:
        """How many scripted steps (counted from the first) may stream."""
        with self._lock:
            return self._released

    def release(self, n: int = 1) -> None:
        """Let the next `n` gated steps stream, whether or not their requests arrived yet."""
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValueError(f"release(n) needs a non-negative integer, got {n!r}")
        with self._lock:
            self._released += n
            self._changed.notify()

    def release_all(self) -> None:
        """Open the gate for every step from now on (the same as `gated = False`)."""
        self.gated = False

    def _may_stream(self, step_index: int) -> bool:
        return not self._gated or step_index < self._released

    async def pass_gate(self, step_index: int) -> None:
        """Wait until `step_index` may stream. Cancel the await to abandon the request."""
        await self._changed.wait_for(lambda: self._may_stream(step_index))
        with self._lock:
            # An open gate counts as a release, so closing it again holds the *next* step.
            self._released = max(self._released, step_index + 1)
            self._served += 1
            self._changed.notify()

    # -- serving ------------------------------------------------------------------------------

    def assign(self, body: dict[str, Any], *, has_tools: bool) -> Assignment:
        """Record a request and decide what answers it."""
        with self._lock:
            self._requests.append(body)
            if not has_tools:
                self._toolless_requests += 1
                return Assignment("toolless", TOOLLESS_ANSWER)
            if self._next_step >= len(self._steps):
                self._unscripted_requests += 1
                message = (
                    f"model {self._model_id!r}: a request with tools arrived after all "
                    f"{len(self._steps)} scripted steps were used; answered with an empty stop "
                    "step and zero usage. Add steps to the scenario or check why the agent "
                    "asked again."
                )
                self._warnings.append(message)
                logger.warning(message)
                return Assignment("exhausted", EXHAUSTED_ANSWER)
            index = self._next_step
            self._next_step += 1
            self._arrived.append(RequestArrived(index, time.monotonic(), time.time()))
            self._changed.notify()
            return Assignment("scripted", self._steps[index], index)

    def record_usage_sent(self, step_index: int, *, in_stream: bool = True) -> UsageSent:
        record = UsageSent(step_index, time.monotonic(), time.time(), in_stream)
        with self._lock:
            self._sent.append(record)
            self._changed.notify()
        return record

    def record_abandoned(self, step_index: int) -> None:
        with self._lock:
            self._abandoned.append(step_index)
            self._changed.notify()

    # -- what happened ------------------------------------------------------------------------

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every parsed request body, scripted or not, in arrival order (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def arrived(self) -> list[RequestArrived]:
        with self._lock:
            return list(self._arrived)

    @property
    def sent(self) -> list[UsageSent]:
        with self._lock:
            return list(self._sent)

    @property
    def abandoned(self) -> list[int]:
        """Steps whose stream did not finish because the client left or the server stopped."""
        with self._lock:
            return list(self._abandoned)

    @property
    def served(self) -> int:
        """How many scripted steps have passed the gate and begun streaming."""
        with self._lock:
            return self._served

    @property
    def unscripted_requests(self) -> int:
        """Requests with tools that arrived after the script ran out."""
        with self._lock:
            return self._unscripted_requests

    @property
    def toolless_requests(self) -> int:
        with self._lock:
            return self._toolless_requests

    @property
    def warnings(self) -> list[str]:
        with self._lock:
            return list(self._warnings)

    async def wait_request(self, step_index: int, timeout: float = 5.0) -> RequestArrived:
        """Wait until the request for `step_index` has arrived (it may be held at the gate)."""
        await self._wait(lambda: len(self._arrived) > step_index, timeout, "request", step_index)
        with self._lock:
            return self._arrived[step_index]

    async def wait_usage_sent(self, step_index: int, timeout: float = 5.0) -> UsageSent:
        """Wait until the usage of `step_index` has been written to the stream."""
        await self._wait(
            lambda: self._find_sent(step_index) is not None, timeout, "usage of", step_index
        )
        with self._lock:
            found = self._find_sent(step_index)
        assert found is not None  # the predicate held under the same lock
        return found

    async def wait_abandoned(self, step_index: int, timeout: float = 5.0) -> None:
        """Wait until the server has seen `step_index`'s client leave (or has stopped) mid-step."""
        await self._wait(
            lambda: step_index in self._abandoned, timeout, "abandonment of", step_index
        )

    def _find_sent(self, step_index: int) -> UsageSent | None:
        return next((s for s in self._sent if s.step_index == step_index), None)

    async def _wait(
        self, predicate: Callable[[], bool], seconds: float, what: str, step_index: int
    ) -> None:
        try:
            async with asyncio.timeout(seconds):
                await self._changed.wait_for(predicate)
        except TimeoutError:
            state = self.state()
            raise TimeoutError(
                f"waited {seconds}s for the {what} step {step_index} of model "
                f"{self._model_id!r}; arrived={state['arrived']}, released={state['released']}, "
                f"gated={state['gated']}, served={state['served']}, "
                f"usage sent for {[s['step_index'] for s in state['sent']]}. "
                "Is the agent running, and was the step released?"
            ) from None

    def state(self) -> dict[str, Any]:
        """A JSON-ready snapshot, as served by `GET /_control/state`."""
        with self._lock:
            return {
                "model_id": self._model_id,
                "gated": self._gated,
                "steps_total": len(self._steps),
                "arrived": len(self._arrived),
                "released": self._released,
                "served": self._served,
                "sent": [dataclasses.asdict(s) for s in self._sent],
                "abandoned": list(self._abandoned),
                "requests": len(self._requests),
                "toolless_requests": self._toolless_requests,
                "unscripted_requests": self._unscripted_requests,
                "warnings": list(self._warnings),
            }
