"""The scenario's own arithmetic: what each readout must show after each step.

Pure: usage times price, summed in the order the steps happen, formatted as displayed. This is the
``expected`` oracle's source of truth, and the loader runs it once over a whole scenario so that a
step that cannot happen (a ``step`` with no turn running, a ``check`` that disagrees with the
arithmetic) is reported with its line before anything starts.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from harness.display import NO_VALUE, format_cost, format_percent, format_tokens

if TYPE_CHECKING:
    from harness.scenario.model import ModelSpec, Price, Scenario

__all__ = [
    "ExpectedState",
    "PendingStep",
    "ScenarioArithmeticError",
    "SessionTotals",
    "Usage",
    "step_cost",
]


class ScenarioArithmeticError(ValueError):
    """A step that cannot happen given the steps before it."""


class Usage(Protocol):
    @property
    def input(self) -> int: ...
    @property
    def output(self) -> int: ...
    @property
    def reasoning(self) -> int: ...
    @property
    def cache_read(self) -> int: ...
    @property
    def cache_write(self) -> int: ...
    @property
    def total(self) -> int: ...


def step_cost(usage: Usage, price: Price | None) -> float | None:
    """Dollars one model step costs; None when the model has no price (spend unknown)."""
    if price is None:
        return None
    return (
        usage.input * price.input
        + (usage.output + usage.reasoning) * price.output
        + usage.cache_read * price.cache_read
        + usage.cache_write * price.cache_write
    ) / 1_000_000


@dataclass
class SessionTotals:
    model: str
    context: int
    price: Price | None
    title: str
    cost: float | None = 0.0
    last_tokens: int = 0
    last_context: int = 0
    """The context window of the model that reported ``last_tokens`` (a turn may switch model)."""
    token_sum: int = 0
    pending: deque[PendingStep] = field(default_factory=deque)
    steps_done: int = 0
    shows_tokens: bool = False
    """Whether any step has reported usage: until then no message tells the model's window."""
    turns: list[tuple[int, int]] = field(default_factory=list)
    """Per turn still in the history: the (tokens, context) of its last step with usage."""
    summary: tuple[int, int] | None = None
    """After a compaction, the summary's (tokens, context): the history's oldest message."""
    parent: str | None = None
    spawned: bool = True
    """False for a child session until its subagent has run a step."""
    deleted: bool = False

    def _follow_last_message(self) -> None:
        # Context readouts follow the last assistant message that reported usage; when a revert
        # or compaction removes it, they fall back to the one before (occupancy may fall).
        shown = [entry for entry in self.turns if entry[0] > 0]
        last = shown[-1] if shown else self.summary
        self.last_tokens, self.last_context = last if last else (0, 0)
        self.shows_tokens = last is not None

    def settle(self, step: PendingStep) -> None:
        cost = step_cost(step.usage, step.price)
        # Unknown is absorbing, as SQL NULL is in `cost = cost + ?`: one unpriced step makes the
        # whole total unknown rather than silently too low; a session that mixes priced and
        # unpriced steps therefore shows its total as unknown, never as the priced part alone.
        self.cost = None if cost is None or self.cost is None else self.cost + cost
        if step.usage.total > 0:
            self.last_tokens = step.usage.total
            self.last_context = step.context
            self.shows_tokens = True
            if self.turns:
                self.turns[-1] = (step.usage.total, step.context)
        elif self.turns:
            # The turn's message takes each step's tokens as they are, so a step that reports
            # none leaves it with none, and the context readouts fall back past it.
            self.turns[-1] = (0, step.context)
            self._follow_last_message()
        self.token_sum += step.usage.total
        self.steps_done += 1


@dataclass(frozen=True)
class PendingStep:
    """One model step of a running turn, with the model it runs on."""

    usage: Usage
    price: Price | None
    context: int
    owner: str | None = None
    """The session billed for it when not the turn's own: a subagent's child session."""


@dataclass
class ExpectedState:
    sessions: dict[str, SessionTotals]
    opened: str | None = None
    models: dict[str, ModelSpec] = field(default_factory=dict)
    shows: frozenset[str] = frozenset()
    """Optional readout groups this scenario shows: "family" (subagents), "list" (the session
    list's size, where sessions are deleted)."""

    @classmethod
    def for_scenario(cls, scenario: Scenario) -> ExpectedState:
        shows = {"family"} if any(spec.parent for spec in scenario.sessions.values()) else set()
        for step in scenario.steps:
            shows.update(step.shows())
        return cls(
            shows=frozenset(shows),
            models=dict(scenario.models),
            sessions={
                name: SessionTotals(
                    model=spec.model,
                    context=scenario.models[spec.model].context,
                    price=scenario.models[spec.model].price,
                    title=spec.title,
                    parent=spec.parent,
                    spawned=spec.parent is None,
                )
                for name, spec in scenario.sessions.items()
            }
        )

    def resolve(self, session: str | None) -> str:
        if session is None:
            if self.opened is None:
                raise ScenarioArithmeticError("no session is open yet; add `- open: NAME` first")
            return self.opened
        if session not in self.sessions:
            known = ", ".join(self.sessions)
            raise ScenarioArithmeticError(f"unknown session {session!r}; known: {known}")
        return session

    def existing(self, session: str | None) -> str:
        """The session's name, when it exists on the agent here (not deleted, not a subagent's
        that has not started yet)."""
        name = self.resolve(session)
        if self.sessions[name].deleted:
            raise ScenarioArithmeticError(f"session {name!r} was deleted")
        if not self.sessions[name].spawned:
            raise ScenarioArithmeticError(
                f"session {name!r} is a subagent's and does not exist until its parent's turn"
                " has run one of its steps"
            )
        return name

    def open_session(self, session: str) -> None:
        self.opened = self.existing(session)

    def family_cost(self, session: str) -> float | None:
        """A session's spend plus its child sessions', each counted once; unknown absorbs."""
        total = self.sessions[session].cost
        for child in self.sessions.values():
            if child.parent == session and child.spawned:
                total = None if total is None or child.cost is None else total + child.cost
        return total

    def start_turn(
        self,
        session: str | None,
        usages: Iterable[Usage],
        model: str | None = None,
        owners: Iterable[str | None] = (),
    ) -> None:
        """A prompt's model steps, on the session's model or on ``model`` for this turn only;
        ``owners`` names, step by step, the child session a subagent's step is billed to."""
        name = self.existing(session)
        totals = self.sessions[name]
        if totals.pending:
            raise ScenarioArithmeticError(
                "a turn is still running in this session; `finish` it before the next prompt"
            )
        busy = [other for other, held in self.sessions.items() if held.pending and other != name]
        if busy:
            # The scripted model answers requests in the order they arrive, and `step` releases
            # the next one whichever session sent it: two turns at once cannot be scripted.
            raise ScenarioArithmeticError(
                f"a turn is still running in {busy[0]!r}; `finish` it before prompting"
                f" {name!r} (the scripted model plays one turn at a time)"
            )
        price, context = totals.price, totals.context
        if model is not None:
            if model not in self.models:
                known = ", ".join(self.models)
                raise ScenarioArithmeticError(f"unknown model {model!r}; known: {known}")
            price, context = self.models[model].price, self.models[model].context
        steps = list(usages)
        billed = list(owners) or [None] * len(steps)
        for owner in billed:
            if owner is not None and self.sessions[self.resolve(owner)].parent != name:
                raise ScenarioArithmeticError(
                    f"a step of this turn is billed to {owner!r}, which is not a child session"
                    f" of {name!r} (give it `parent: {name}` in `sessions`)"
                )
        totals.pending.extend(
            PendingStep(usage, price, context, owner)
            for usage, owner in zip(steps, billed, strict=True)
        )
        totals.turns.append((0, 0))

    def _idle(self, session: str | None, what: str) -> SessionTotals:
        totals = self.sessions[self.resolve(session)]
        if totals.pending:
            raise ScenarioArithmeticError(
                f"a turn is still running in this session; `finish` it before `{what}`"
            )
        return totals

    def revert(self, session: str | None) -> None:
        """The last turn leaves the history; the money it cost stays spent."""
        totals = self._idle(session, "revert")
        if not totals.turns:
            raise ScenarioArithmeticError("there is no turn to revert in this session")
        totals.turns.pop()
        totals._follow_last_message()

    def compact(self, session: str | None, usage: Usage) -> None:
        """A summary step, billed like any step, replaces every message before it."""
        totals = self._idle(session, "compact")
        totals.settle(PendingStep(usage, totals.price, totals.context))
        totals.turns = []
        totals.summary = (usage.total, totals.context) if usage.total > 0 else None
        totals._follow_last_message()

    def release(self, session: str | None, count: int) -> None:
        totals = self.sessions[self.resolve(session)]
        if count > len(totals.pending):
            raise ScenarioArithmeticError(
                f"`step` releases {count} model step(s) but the turn has {len(totals.pending)} left"
            )
        for _ in range(count):
            self._settle(totals, totals.pending.popleft())

    def finish(self, session: str | None) -> None:
        totals = self.sessions[self.resolve(session)]
        while totals.pending:
            self._settle(totals, totals.pending.popleft())

    def _settle(self, turn_owner: SessionTotals, step: PendingStep) -> None:
        if step.owner is None:
            turn_owner.settle(step)
            return
        child = self.sessions[step.owner]
        child.spawned = True
        child.settle(step)

    def turn_running(self, session: str) -> bool:
        return bool(self.sessions[session].pending)

    def display(self) -> dict[str, str]:
        """Every readout of the open session, as it must be displayed."""
        if self.opened is None:
            return {}
        totals = self.sessions[self.opened]
        cost = format_cost(totals.cost)
        tokens = format_tokens(totals.last_tokens)
        shown = {
            "sidebar.tokens": tokens,
            # Context readouts follow the last assistant message with usage; before there is
            # one, nothing tells the client the model's window, so there is no percent.
            "sidebar.percent": (
                format_percent(totals.last_tokens, totals.last_context)
                if totals.shows_tokens
                else NO_VALUE
            ),
            "sidebar.cost": cost,
            "sessions.cost": cost,
            "footer.tokens": tokens,
            "footer.cost": cost,
            "session.tokens": format_tokens(totals.token_sum),
            "session.cost": cost,
        }
        if "family" in self.shows:
            # Only scenarios with subagents show a family total, as only their sessions have one.
            family = format_cost(self.family_cost(self.opened))
            shown["sidebar.family.cost"] = family
            shown["session.family.cost"] = family
        if "list" in self.shows:
            listed = [t for t in self.sessions.values() if t.spawned and not t.deleted]
            shown["sessions.count"] = format_tokens(len(listed))
        return shown

    def restart_server(self) -> None:
        """A restart cuts every running turn at the step held at the gate: it is never billed,
        and the agent never asks for the steps after it."""
        for name, totals in self.sessions.items():
            if len(totals.pending) > 1:
                raise ScenarioArithmeticError(
                    f"session {name!r} has {len(totals.pending)} model steps left; a restart cuts"
                    " the turn at the one held at the gate, so write it as the turn's last"
                )
            totals.pending.clear()

    def delete_session(self, session: str) -> None:
        name = self.resolve(session)
        totals = self._idle(name, "delete_session")
        if name == self.opened:
            raise ScenarioArithmeticError(
                f"session {name!r} is open; open another before deleting it (its readouts would"
                " have nothing to show)"
            )
        if totals.deleted or not totals.spawned:
            raise ScenarioArithmeticError(f"session {name!r} does not exist here to delete")
        totals.deleted = True
