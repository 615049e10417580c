"""Model-based check: after any sequence of events the incrementally kept aggregates equal a
from-scratch recomputation over the same window."""

from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from reference_app.client.readouts import ReadoutValues, render_readouts
from reference_app.client.store import ClientStore, total_tokens
from tests.reference_app.client import client_shapes as shapes

WINDOW = 4
LIMITS = {shapes.MODEL_ID: 50_000}

message_indexes = st.integers(min_value=0, max_value=12)
costs = st.one_of(
    st.none(),
    st.integers(min_value=0, max_value=200_000).map(lambda tenths_of_cents: tenths_of_cents / 1000),
    st.sampled_from([0.1, 0.2, 0.125, 0.005, 1e-7, 0.30000000000000004]),
)
usages = st.one_of(
    st.just(shapes.tokens()),
    st.builds(
        shapes.tokens,
        input=st.integers(0, 60_000),
        output=st.integers(0, 4_000),
        reasoning=st.integers(0, 1_000),
        cache_read=st.integers(0, 5_000),
        cache_write=st.integers(0, 5_000),
    ),
)


def _key(info: dict[str, Any]) -> tuple[float, str]:
    return (float(info["time"]["created"]), info["id"])


def _exact(value: float) -> Decimal:
    return Decimal(str(value))


class WindowModel:
    """The window kept the slow, obvious way: a sorted list, re-derived on every read."""

    def __init__(self) -> None:
        self.infos: list[dict[str, Any]] = []
        self.session_cost: float | None = 0.0
        self.outside = False

    def upsert(self, info: dict[str, Any]) -> None:
        self.remove(info["id"])
        if len(self.infos) >= WINDOW and _key(info) < _key(self.infos[0]):
            self.outside = True
            return
        self.infos = sorted([*self.infos, info], key=_key)
        if len(self.infos) > WINDOW:
            self.infos = self.infos[-WINDOW:]
            self.outside = True

    def remove(self, message_id: str) -> None:
        self.infos = [info for info in self.infos if info["id"] != message_id]

    def values(self, client_fix: bool) -> ReadoutValues:
        assistants = [info for info in self.infos if info["role"] == "assistant"]
        # The context readouts follow the last reply that reported usage; an empty one (a turn
        # just started) must not drop them to zero.
        reporting = [info for info in assistants if total_tokens(info) > 0]
        last = reporting[-1] if reporting else None
        sidebar_cost = self.session_cost
        if client_fix:
            message_costs = [info["cost"] for info in assistants]
            if self.session_cost is None or None in message_costs:
                sidebar_cost = None
            else:
                summed = sum((_exact(cost) for cost in message_costs), Decimal(0))
                sidebar_cost = float(max(_exact(self.session_cost), summed))
        return ReadoutValues(
            tokens=total_tokens(last) if last else 0,
            context_limit=LIMITS[shapes.MODEL_ID],
            sidebar_cost=sidebar_cost,
            session_cost=self.session_cost,
            incomplete=self.outside,
        )


class IncrementalEqualsRecomputed(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.stores = {
            fix: ClientStore(client_fix=fix, window=WINDOW, context_limits=LIMITS)
            for fix in (False, True)
        }
        self.model = WindowModel()
        self.updated = 1_000
        for store in self.stores.values():
            store.load_sessions([shapes.session_info("ses_1", cost=0.0)])
            store.load_messages("ses_1", [])

    def _apply(self, event: dict[str, Any]) -> None:
        for store in self.stores.values():
            store.apply(event)

    @rule(index=message_indexes, cost=costs, usage=usages)
    def assistant_message_updated(self, index: int, cost: float | None, usage: Any) -> None:
        info = shapes.assistant_info(f"msg_{index:03d}", created=index, cost=cost, usage=usage)
        self.model.upsert(info)
        self._apply(shapes.message_updated(info))

    @rule(index=message_indexes)
    def user_message_updated(self, index: int) -> None:
        info = shapes.user_info(f"msg_{index:03d}", created=index)
        self.model.upsert(info)
        self._apply(shapes.message_updated(info))

    @rule(index=message_indexes)
    def message_removed(self, index: int) -> None:
        self.model.remove(f"msg_{index:03d}")
        self._apply(shapes.message_removed("ses_1", f"msg_{index:03d}"))

    @rule(cost=costs)
    def session_total_published(self, cost: float | None) -> None:
        self.updated += 1
        self.model.session_cost = cost
        self._apply(shapes.session_updated(shapes.session_info(cost=cost, updated=self.updated)))

    @precondition(lambda self: bool(self.model.infos))
    @rule()
    def resynced_from_rest(self) -> None:
        entries = [shapes.with_parts(info) for info in self.model.infos]
        self.model.outside = len(entries) >= WINDOW
        for store in self.stores.values():
            store.load_messages("ses_1", entries)

    @invariant()
    def derived_values_match(self) -> None:
        for fix, store in self.stores.items():
            expected = self.model.values(fix)
            assert store.values("ses_1") == expected
            assert store.readouts("ses_1") == render_readouts(expected)
            held = [entry["info"]["id"] for entry in store.messages("ses_1")]
            assert held == [info["id"] for info in self.model.infos]


IncrementalEqualsRecomputed.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=30,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestIncrementalEqualsRecomputed = IncrementalEqualsRecomputed.TestCase
