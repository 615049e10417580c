"""The scenario language, version 1, as pydantic models.

A scenario names models (prices, context window), sessions, and a list of steps a person would take
with a coding agent; after every step the runner takes a checkpoint. Per fix mode it says what must
happen: ``pass``, or the anomalies the harness must raise. Step kinds live in
:mod:`harness.scenario.steps`; this module holds everything else.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.anomalies import EXPECTABLE_CODES
from harness.readouts import OPTIONAL_GROUPS, READOUTS, expand_patterns
from harness.scenario.steps import Step, UsageSpec

__all__ = [
    "FIX_MODES",
    "SHIPPED",
    "SURFACES",
    "AgentSpec",
    "ExpectedAnomaly",
    "FixMode",
    "ModelSpec",
    "Price",
    "RunMode",
    "Scenario",
    "SessionSpec",
]

FixMode = Literal["none", "client", "server", "both"]
FIX_MODES: tuple[FixMode, ...] = ("none", "client", "server", "both")
RunMode = FixMode | Literal["shipped"]
SHIPPED: RunMode = "shipped"
"""The one mode of an agent Freshness did not write: it runs as its authors ship it."""
SURFACES: tuple[str, ...] = ("store", "protocol", "tui", "terminal", "web")

Dollars = Annotated[float, Field(ge=0, le=1_000_000, strict=True)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Price(_Strict):
    """Dollars per million tokens; reasoning tokens are billed as output."""

    input: Dollars
    output: Dollars
    cache_read: Dollars = 0.0
    cache_write: Dollars = 0.0


class ModelSpec(_Strict):
    context: Annotated[int, Field(gt=0, le=100_000_000, strict=True)]
    price: Price | None = None
    """None: the model has no price, so its spend is unknown (never $0.00)."""


class SessionSpec(_Strict):
    title: Annotated[str, Field(max_length=500)] = "Untitled"
    model: str
    parent: str | None = None
    """A subagent's child session: a `task` tool call in the parent's turn starts it, with this
    title as its description; it does not exist before then."""


class AgentSpec(_Strict):
    """Settings of the agent under test that a scenario needs (the reference agent's config)."""

    replay_buffer: Annotated[int, Field(ge=1, le=100_000, strict=True)] | None = None
    """How many events the server keeps for Last-Event-ID replay: small forces a resync."""
    event_faults: Annotated[bool, Field(strict=True)] = False
    """Turn on the agent's test-only event fault injector (`duplicate_event`, `delay_event`)."""
    provider: Literal["openai", "anthropic"] = "openai"
    """The wire format the agent speaks to the scripted model. `openai` (chat completions, what
    opencode's openai-compatible provider speaks) has no field for cache-write tokens; a scenario
    that scripts `cache_write` needs `anthropic` (the Messages API), which carries all five."""


class ExpectedAnomaly(_Strict):
    """One anomaly a fix mode must raise: its code, the readouts (glob patterns) and surfaces."""

    code: str
    readouts: Annotated[tuple[str, ...], Field(min_length=1)]
    surfaces: tuple[str, ...] | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_short_form(cls, raw: Any) -> Any:
        # Written as `- FROZEN-UNTIL-RELOAD: [sidebar.cost]` with an optional `surfaces:` key.
        if not isinstance(raw, dict) or "code" in raw:
            return raw
        codes = [key for key in raw if key != "surfaces"]
        if len(codes) != 1:
            raise ValueError(
                "write one anomaly per item, as `- FROZEN-UNTIL-RELOAD: [sidebar.cost]`"
            )
        readouts = raw[codes[0]]
        if isinstance(readouts, str):
            readouts = [readouts]
        return {"code": codes[0], "readouts": readouts, "surfaces": raw.get("surfaces")}

    @field_validator("code")
    @classmethod
    def _known_code(cls, code: str) -> str:
        if code not in EXPECTABLE_CODES:
            raise ValueError(
                f"unknown anomaly code {code!r}; known: {', '.join(EXPECTABLE_CODES)}"
            )
        return code

    @field_validator("readouts")
    @classmethod
    def _names_readouts(cls, readouts: tuple[str, ...]) -> tuple[str, ...]:
        # A pattern naming no readout requires nothing: a typo would turn MISSED into PASS.
        for pattern in readouts:
            if not expand_patterns((pattern,), set(READOUTS)):
                known = ", ".join(sorted(READOUTS))
                raise ValueError(f"{pattern!r} names no readout; known readouts: {known}")
        return readouts

    @field_validator("surfaces")
    @classmethod
    def _known_surfaces(cls, surfaces: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return _known_surfaces(surfaces)


def _known_surfaces(surfaces: tuple[str, ...] | None) -> tuple[str, ...] | None:
    for surface in surfaces or ():
        if surface not in SURFACES:
            raise ValueError(f"unknown surface {surface!r}; known: {', '.join(SURFACES)}")
    return surfaces


Expectation = Literal["pass"] | Annotated[list[ExpectedAnomaly], Field(min_length=1)]


DocPath = tuple[str | int, ...]


def _usages(node: object, where: DocPath) -> Iterator[tuple[DocPath, UsageSpec]]:
    """Every usage a scenario scripts, wherever a step kind nests it, with its document path
    (field names are the YAML keys, so the path finds the line it was written on)."""
    if isinstance(node, UsageSpec):
        yield where, node
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from _usages(getattr(node, name), (*where, name))
    elif isinstance(node, list | tuple):
        for index, item in enumerate(node):
            yield from _usages(item, (*where, index))


class Scenario(_Strict):
    version: Literal[1]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    about: Annotated[str, Field(min_length=1)]
    """Which kind of public report this reproduces, in our own words."""
    models: Annotated[dict[str, ModelSpec], Field(min_length=1)]
    sessions: Annotated[dict[str, SessionSpec], Field(min_length=1)]
    steps: Annotated[list[Step], Field(min_length=1, max_length=10_000)]
    expect: dict[FixMode, Expectation]
    surfaces: Annotated[tuple[str, ...], Field(min_length=1)] = SURFACES
    """Surfaces this scenario applies to; others skip it (and say so). Never empty: a scenario
    that applies nowhere judges nothing, and nothing judged read as a pass."""
    agent: AgentSpec = AgentSpec()
    expect_targets: dict[str, Expectation] = Field(default_factory=dict)
    """What real agents do today, by target name (``opencode``, ``kilo``): they have no fix
    switches, so each runs once, as shipped. A target not named here is expected to pass."""

    @field_validator("surfaces")
    @classmethod
    def _known_scenario_surfaces(cls, surfaces: tuple[str, ...]) -> tuple[str, ...]:
        # A misspelt name would make every run skip the scenario, and a skip reads as a pass.
        _known_surfaces(surfaces)
        return surfaces

    def reference_problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Names that point nowhere, each with where in the document it was written."""
        problems: list[tuple[tuple[str | int, ...], str]] = []
        for name, session in self.sessions.items():
            if session.model not in self.models:
                problems.append(
                    (
                        ("sessions", name, "model"),
                        f"session {name!r} uses model {session.model!r},"
                        " which `models` does not define",
                    )
                )
            if session.parent is not None and session.parent not in self.sessions:
                problems.append(
                    (
                        ("sessions", name, "parent"),
                        f"session {name!r} names parent {session.parent!r},"
                        " which `sessions` does not define",
                    )
                )
        if self.agent.provider == "openai":
            problems.extend(
                (
                    (*where, "cache_write"),
                    "cache_write tokens have no field in the OpenAI wire format the agent is"
                    " driven through, so they would never reach it; add `agent: {provider:"
                    " anthropic}` to the scenario (the Anthropic format carries them)",
                )
                for where, usage in _usages(self.steps, ("steps",))
                if usage.cache_write
            )
        missing = [mode for mode in FIX_MODES if mode not in self.expect]
        if missing:
            problems.append(
                (
                    ("expect",),
                    f"`expect` must state every fix mode; missing: {', '.join(missing)}"
                    " (write `pass` or the anomalies it must raise)",
                )
            )
        return problems

    def expectation_problems(
        self, shows: frozenset[str]
    ) -> list[tuple[tuple[str | int, ...], str]]:
        """Expected anomalies that name only readouts this scenario never shows: they would
        require nothing, and a run that cannot show the bug would read as caught or pass."""
        visible = {
            name for name, known in READOUTS.items() if known.group is None or known.group in shows
        }
        stated: list[tuple[str, str, Expectation]] = [
            ("expect", mode, expected) for mode, expected in self.expect.items()
        ]
        stated += [("expect_targets", t, expected) for t, expected in self.expect_targets.items()]
        problems: list[tuple[tuple[str | int, ...], str]] = []
        for key, name, expected in stated:
            if expected == "pass":
                continue
            for index, anomaly in enumerate(expected):
                if expand_patterns(anomaly.readouts, visible):
                    continue
                groups = {
                    READOUTS[r].group for r in expand_patterns(anomaly.readouts, set(READOUTS))
                }
                needs = " or ".join(OPTIONAL_GROUPS[g] for g in sorted(g for g in groups if g))
                problems.append(
                    (
                        (key, name, index, anomaly.code),
                        f"{', '.join(anomaly.readouts)} is shown only by {needs}; this scenario"
                        " never shows it, so the expectation would require nothing",
                    )
                )
        return problems

    def expectation(self, mode: RunMode, target: str = "reference") -> tuple[ExpectedAnomaly, ...]:
        stated: Expectation
        if mode == "shipped":
            stated = self.expect_targets.get(target, "pass")
        else:
            stated = self.expect[mode]
        return () if stated == "pass" else tuple(stated)
