"""Step kinds of the scenario language.

Each kind is one small class: its fields (what the YAML says), ``apply`` (what it does to the
scenario's own arithmetic, pure) and ``run`` (what it asks the target to do, through the
:class:`Actions` the runner provides). Adding a kind means adding a class here and naming it in
``STEP_KINDS``; the loader, schema and runner pick it up from there.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Protocol, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from harness.expected import ExpectedState, ScenarioArithmeticError

__all__ = [
    "STEP_KINDS",
    "STEP_KIND_NAMES",
    "Actions",
    "AttachClientStep",
    "BaseStep",
    "CheckStep",
    "CompactStep",
    "DelayEventStep",
    "DeleteSessionStep",
    "DisconnectStep",
    "DuplicateEventStep",
    "ExternalWriteStep",
    "FinishStep",
    "ModelStepSpec",
    "OpenStep",
    "PromptStep",
    "ReconnectStep",
    "ReloadStep",
    "RenameStep",
    "RepeatStep",
    "RestartServerStep",
    "RevertStep",
    "Step",
    "StepStep",
    "UsageSpec",
]

# Numbers are strict: YAML reads `true` and "100" as a bool and a string, and pydantic would
# quietly turn them into 1 and 100 tokens.
TokenCount = Annotated[int, Field(ge=0, le=100_000_000, strict=True)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UsageSpec(_Strict):
    """Tokens one model step reports, of all five kinds."""

    input: TokenCount = 0
    output: TokenCount = 0
    reasoning: TokenCount = 0
    cache_read: TokenCount = 0
    cache_write: TokenCount = 0

    @property
    def total(self) -> int:
        return self.input + self.output + self.reasoning + self.cache_read + self.cache_write


class ModelStepSpec(_Strict):
    """One step of the scripted model: what it streams and the usage it reports at the end."""

    text: Annotated[str, Field(max_length=100_000)] = ""
    reasoning: Annotated[str, Field(max_length=100_000)] = ""
    tool: str | None = None
    """A built-in tool the agent runs before asking the model again (e.g. ``echo``)."""
    tool_args: dict[str, Any] = Field(default_factory=dict)
    usage: UsageSpec
    repeat: Annotated[int, Field(ge=1, le=1_000, strict=True)] = 1
    """This step, this many times in a row: a long agentic turn without a screen of copies."""
    session: str | None = None
    """The child session whose step this is: a subagent's, after the parent's `task` call."""


class Actions(Protocol):
    """What a step may ask of the system under test; the runner implements it."""

    async def open_session(self, session: str) -> None: ...
    async def prompt(
        self,
        session: str,
        text: str,
        model_steps: Sequence[ModelStepSpec],
        model: str | None = None,
    ) -> None: ...
    async def release(self, session: str, count: int) -> None: ...
    async def finish(self, session: str) -> None: ...
    async def reload(self) -> None: ...
    async def rename(self, session: str, title: str) -> None: ...
    async def revert(self, session: str) -> None: ...
    async def disconnect(self) -> None: ...
    async def reconnect(self) -> None: ...
    async def delete_session(self, session: str) -> None: ...
    async def restart_server(self) -> None: ...
    async def external_write(
        self, session: str, text: str, model_steps: Sequence[ModelStepSpec], model: str | None
    ) -> None: ...
    async def attach_client(self) -> None: ...
    async def event_fault(self, fault: str, event_type: str) -> None: ...
    async def compact(self, session: str, summary: ModelStepSpec) -> None: ...


class BaseStep(_Strict):
    kind: ClassVar[str]

    @model_validator(mode="before")
    @classmethod
    def _bare_word(cls, raw: Any) -> Any:
        # `- finish` is shorthand for `- finish: {}`.
        return {raw: {}} if isinstance(raw, str) else raw

    def label(self) -> str:
        return self.kind

    def apply(self, state: ExpectedState) -> None:
        """Advance the scenario's own arithmetic; raise ScenarioArithmeticError if impossible."""

    async def run(self, actions: Actions, state: ExpectedState) -> None:
        """Ask the target to do this step. ``state`` is the arithmetic *before* ``apply``."""

    def assertions(self) -> dict[str, str]:
        """Values the step states a readout must show at its checkpoint."""
        return {}

    def shows(self) -> set[str]:
        """Optional readout groups a scenario with this step must show (see ExpectedState)."""
        return set()

    def size(self) -> int:
        """How many things this step asks of the target: itself and each model step it streams,
        with every `repeat` multiplied out (the loader bounds a scenario's total)."""
        return 1


class _SessionArgs(_Strict):
    session: str | None = None
    """A session name from `sessions`; the open one when omitted."""


class OpenStep(BaseStep):
    kind = "open"
    open: str

    def label(self) -> str:
        return f"open {self.open}"

    def apply(self, state: ExpectedState) -> None:
        state.open_session(self.open)

    async def run(self, actions: Actions, state: ExpectedState) -> None:
        await actions.open_session(self.open)


class PromptArgs(_SessionArgs):
    text: Annotated[str, Field(min_length=1, max_length=100_000)]
    model_steps: Annotated[list[ModelStepSpec], Field(min_length=1, max_length=1_000)]
    model: str | None = None
    """A model from `models` for this turn only (a session that mixes priced and unpriced)."""

    def expanded(self) -> list[ModelStepSpec]:
        """The model steps as the model streams them, each `repeat` written out."""
        return [step for step in self.model_steps for _ in range(step.repeat)]

    def size(self) -> int:
        return 1 + sum(step.repeat for step in self.model_steps)


class PromptStep(BaseStep):
    kind = "prompt"
    prompt: PromptArgs

    def label(self) -> str:
        return "prompt"

    def size(self) -> int:
        return self.prompt.size()

    def apply(self, state: ExpectedState) -> None:
        state.start_turn(
            self.prompt.session,
            [step.usage for step in self.prompt.expanded()],
            self.prompt.model,
            owners=[step.session for step in self.prompt.expanded()],
        )

    async def run(self, actions: Actions, state: ExpectedState) -> None:
        session = state.resolve(self.prompt.session)
        await actions.prompt(session, self.prompt.text, self.prompt.expanded(), self.prompt.model)


class StepArgs(_SessionArgs):
    count: Annotated[int, Field(ge=1, le=1_000, strict=True)] = 1


class StepStep(BaseStep):
    """Release the next model step(s) of the running turn; the checkpoint follows mid-turn."""

    kind = "step"
    step: StepArgs

    def label(self) -> str:
        return "step" if self.step.count == 1 else f"step x{self.step.count}"

    def apply(self, state: ExpectedState) -> None:
        state.release(self.step.session, self.step.count)

    async def run(self, actions: Actions, state: ExpectedState) -> None:
        await actions.release(state.resolve(self.step.session), self.step.count)


class FinishStep(BaseStep):
    """Release every remaining model step and wait until the turn is over."""

    kind = "finish"
    finish: _SessionArgs

    def apply(self, state: ExpectedState) -> None:
        state.finish(self.finish.session)

    async def run(self, actions: Actions, state: ExpectedState) -> None:
        await actions.finish(state.resolve(self.finish.session))


class _NoArgs(_Strict):
    pass


class ReloadStep(BaseStep):
    """Every surface reloads, as a person presses reload: live values start from storage again."""

    kind = "reload"
    reload: _NoArgs

    async def run(self, actions: Actions, state: ExpectedState) -> None:
        await actions.reload()


class RenameArgs(_SessionArgs):
    title: Annotated[str, Field(min_length=1, max_length=500)]


class RenameStep(BaseStep):
    kind = "rename"
    rename: RenameArgs

    @model_validator(mode="before")
    @classmethod
    def _title_only(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and isinstance(raw.get("rename"), str):
            return {"rename": {"title": raw["rename"]}}
        return raw

    def apply(self, state: ExpectedState) -> None:
        # Nothing to add up; the session must exist, or the run would fail only when it got here.
        state.existing(self.rename.session)

    async def run(self, actions: Actions, state: ExpectedState) -> None:
        await actions.rename(state.resolve(self.rename.session), self.rename.title)


class CheckStep(BaseStep):
    """State what readouts must show here, written as displayed ("13,000", "13%", "$0.05")."""

    kind = "check"
    check: Annotated[dict[str, Annotated[str, Field(max_length=100)]], Field(min_length=1)]

    def apply(self, state: ExpectedState) -> None:
        state.resolve(None)  # no readout shows anything before a session is open
        expected = state.display()
        for name, shown in self.check.items():
            if name not in expected:
                known = ", ".join(sorted(expected))
                raise ScenarioArithmeticError(f"unknown readout {name!r}; known: {known}")
            if expected[name] != shown:
                raise ScenarioArithmeticError(
                    f"check says {name} shows {shown!r}, but the scenario's usage and prices give"
                    f" {expected[name]!r}"
                )

    def assertions(self) -> dict[str, str]:
        return dict(self.check)


class RevertStep(BaseStep):
    """Undo the session's last turn: its messages go, what it cost stays spent."""

    kind = "revert"
    revert: _SessionArgs

    def apply(self, state: ExpectedState) -> None:
        state.revert(self.revert.session)

    async def run(self, actions: Actions, state: ExpectedState) -> None:
        await actions.revert(state.resolve(self.revert.session))


class CompactArgs(_SessionArgs):
    text: Annotated[str, Field(max_length=100_000)] = "Summary of the session so far"
    usage: UsageSpec
    """What the summary step itself reports: it is billed like any model step."""


class CompactStep(BaseStep):
    """Compaction: the model summarizes the session and the summary replaces older messages."""

    kind = "compact"
    compact: CompactArgs

    def apply(self, state: ExpectedState) -> None:
        state.compact(self.compact.session, self.compact.usage)

    async def run(self, actions: Actions, state: ExpectedState) -> None:
        summary = ModelStepSpec(text=self.compact.text, usage=self.compact.usage)
        await actions.compact(state.resolve(self.compact.session), summary)


class DisconnectStep(BaseStep):
    """Every surface's live event stream drops and stays down until `reconnect`; steps go on.

    While offline a surface has no live claim to check, so its checkpoints record no live value.
    """

    kind = "disconnect"
    disconnect: _NoArgs

    async def run(self, actions: Actions, state: ExpectedState) -> None:
        await actions.disconnect()


class ReconnectStep(BaseStep):
    """Surfaces come back: they resume by Last-Event-ID, or reload when the server says resync."""

    kind = "reconnect"
    reconnect: _NoArgs

    async def run(self, actions: Actions, state: ExpectedState) -> None:
        await actions.reconnect()


class DeleteSessionStep(BaseStep):
    """Another session is deleted (not the open one); the session list must lose it."""

    kind = "delete_session"
    delete_session: str

    def label(self) -> str:
        return f"delete {self.delete_session}"

    def apply(self, state: ExpectedState) -> None:
        state.delete_session(self.delete_session)

    async def run(self, actions: Actions, state: ExpectedState) -> None:
        await actions.delete_session(self.delete_session)

    def shows(self) -> set[str]:
        return {"list"}


class ExternalWriteStep(BaseStep):
    """Another writer: a one-shot run in a process of its own adds a whole turn to the session
    through the database, past the server, which announces nothing of it."""

    kind = "external_write"
    external_write: PromptArgs

    def label(self) -> str:
        return "external write"

    def size(self) -> int:
        return self.external_write.size()

    def apply(self, state: ExpectedState) -> None:
        args = self.external_write
        busy = [name for name in state.sessions if state.turn_running(name)]
        if busy:
            raise ScenarioArithmeticError(
                f"a turn is running in {busy[0]!r}; `finish` it before another process writes"
            )
        steps = args.expanded()
        state.start_turn(args.session, [step.usage for step in steps], args.model)
        state.finish(args.session)

    async def run(self, actions: Actions, state: ExpectedState) -> None:
        args = self.external_write
        await actions.external_write(
            state.resolve(args.session), args.text, args.expanded(), args.model
        )


EventType = Annotated[str, Field(pattern=r"^[a-z]+(\.[a-z]+)+$", max_length=100)]


class DuplicateEventStep(BaseStep):
    """The agent delivers the next event of this type twice (needs `agent: {event_faults: true}`).
    Nothing may be counted twice."""

    kind = "duplicate_event"
    duplicate_event: EventType

    def label(self) -> str:
        return f"duplicate {self.duplicate_event}"

    async def run(self, actions: Actions, state: ExpectedState) -> None:
        await actions.event_fault("duplicate", self.duplicate_event)


class DelayEventStep(BaseStep):
    """The agent holds the next event of this type back and delivers it after the next one of
    the same type for that session (needs `agent: {event_faults: true}`). The older one must not
    overwrite the newer."""

    kind = "delay_event"
    delay_event: EventType

    def label(self) -> str:
        return f"delay {self.delay_event}"

    async def run(self, actions: Actions, state: ExpectedState) -> None:
        await actions.event_fault("delay", self.delay_event)


class RestartServerStep(BaseStep):
    """The agent server stops and starts again on the same port and data; a running turn is cut
    at the step held at the gate. Surfaces must recover on their own, without a reload."""

    kind = "restart_server"
    restart_server: _NoArgs

    def apply(self, state: ExpectedState) -> None:
        state.restart_server()

    async def run(self, actions: Actions, state: ExpectedState) -> None:
        await actions.restart_server()


class AttachClientStep(BaseStep):
    """A second instance of every surface attaches now (a second window) and opens the same
    session; from here on it is read like the first and must show the same."""

    kind = "attach_client"
    attach_client: _NoArgs

    async def run(self, actions: Actions, state: ExpectedState) -> None:
        await actions.attach_client()


class RepeatArgs(_Strict):
    times: Annotated[int, Field(ge=1, le=1_000, strict=True)]
    steps: Annotated[list[Step], Field(min_length=1, max_length=100)]


class RepeatStep(BaseStep):
    """Do a block of steps several times, with one checkpoint after the whole block.

    For history that must be long but needs no look at every step: a session past the client's
    message window takes fifty turns, and a checkpoint after each would make the run slow without
    proving anything more.
    """

    kind = "repeat"
    repeat: RepeatArgs

    def label(self) -> str:
        return f"repeat x{self.repeat.times}"

    def shows(self) -> set[str]:
        return set().union(*(step.shows() for step in self.repeat.steps))

    def size(self) -> int:
        return self.repeat.times * sum(step.size() for step in self.repeat.steps)

    def apply(self, state: ExpectedState) -> None:
        for _ in range(self.repeat.times):
            for step in self.repeat.steps:
                step.apply(state)

    async def run(self, actions: Actions, state: ExpectedState) -> None:
        # Each inner step runs against the arithmetic as it stands before it, as the runner
        # does for top-level steps; a copy keeps the caller's state for its own `apply`.
        scratch = copy.deepcopy(state)
        for _ in range(self.repeat.times):
            for step in self.repeat.steps:
                await step.run(actions, scratch)
                step.apply(scratch)


STEP_KINDS: tuple[type[BaseStep], ...] = (
    OpenStep,
    PromptStep,
    StepStep,
    FinishStep,
    ReloadStep,
    RenameStep,
    CheckStep,
    RepeatStep,
    RevertStep,
    CompactStep,
    DisconnectStep,
    ReconnectStep,
    DeleteSessionStep,
    RestartServerStep,
    AttachClientStep,
    ExternalWriteStep,
    DuplicateEventStep,
    DelayEventStep,
)


STEP_KIND_NAMES: frozenset[str] = frozenset(kind.kind for kind in STEP_KINDS)


def _kind_of(raw: Any) -> str | None:
    if isinstance(raw, BaseStep):
        return raw.kind
    if isinstance(raw, str):
        return raw
    if isinstance(raw, dict) and len(raw) == 1:
        key = next(iter(raw))
        return key if isinstance(key, str) else None
    return None


_STEP_ERROR = (
    "each step is one of: "
    + ", ".join(kind.kind for kind in STEP_KINDS)
    + " (written `- finish` or `- prompt: {...}`)"
)

if TYPE_CHECKING:
    Step = BaseStep
else:
    # Built from STEP_KINDS so that a new kind needs no edit here.
    Step = Annotated[
        Union[tuple(Annotated[kind, Tag(kind.kind)] for kind in STEP_KINDS)],  # noqa: UP007
        Discriminator(_kind_of, custom_error_type="unknown_step", custom_error_message=_STEP_ERROR),
    ]

# `repeat` holds steps of any kind, itself included; its fields resolve once `Step` exists.
RepeatArgs.model_rebuild()
RepeatStep.model_rebuild()
