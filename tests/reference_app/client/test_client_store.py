"""The store against event dicts in the server's shapes: the bug, both sides of the client fix,
the window, snapshots that replace, and change notifications."""

from typing import Any

import pytest

from reference_app.client.readouts import (
    FOOTER_COST,
    FOOTER_TOKENS,
    READOUT_NAMES,
    SESSIONS_COST,
    SIDEBAR_COST,
    SIDEBAR_PERCENT,
    SIDEBAR_TOKENS,
)
from reference_app.client.store import ClientStore, UnknownSessionError, total_tokens
from tests.reference_app.client import client_shapes as shapes

LIMITS = {shapes.MODEL_ID: 100_000}
STEP_USAGE = [
    shapes.tokens(input=12_000, output=800, reasoning=200),
    shapes.tokens(input=14_000, output=500, cache_read=500),
    shapes.tokens(input=17_000, output=900, reasoning=100),
]
STEP_COST = [0.05, 0.04, 0.03]


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def opened_store(client_fix: bool = False, window: int = 100) -> ClientStore:
    store = ClientStore(client_fix=client_fix, window=window, context_limits=LIMITS)
    store.load_sessions([shapes.session_info("ses_1", cost=0.0)])
    store.load_messages("ses_1", [])
    return store


def run_turn(store: ClientStore, server_fix: bool = False) -> list[dict[str, str]]:
    """Apply what the server publishes for a three-step turn; readouts after each step."""
    seen = []
    store.apply(shapes.message_updated(shapes.user_info("msg_1", created=10)))
    message_cost = 0.0
    for step, (usage, cost) in enumerate(zip(STEP_USAGE, STEP_COST, strict=True)):
        message_cost += cost
        info = shapes.assistant_info("msg_2", created=11, cost=message_cost, usage=usage)
        store.apply(shapes.part_updated(shapes.step_finish_part(f"prt_{step}", "msg_2")))
        store.apply(shapes.message_updated(info))
        if server_fix:
            total = shapes.session_info("ses_1", cost=message_cost, updated=2_000 + step)
            store.apply(shapes.session_updated(total))
        seen.append(store.readouts("ses_1"))
    return seen


def test_bug_tokens_advance_while_every_cost_stays_frozen() -> None:
    seen = run_turn(opened_store())
    assert [shown[SIDEBAR_TOKENS] for shown in seen] == ["13,000", "15,000", "18,000"]
    assert [shown[SIDEBAR_PERCENT] for shown in seen] == ["13%", "15%", "18%"]
    assert [shown[FOOTER_TOKENS] for shown in seen] == ["13,000", "15,000", "18,000"]
    for name in (SIDEBAR_COST, SESSIONS_COST, FOOTER_COST):
        assert {shown[name] for shown in seen} == {"$0.00"}


def test_reload_confesses_the_stored_total() -> None:
    store = opened_store()
    run_turn(store)
    store.load_sessions([shapes.session_info("ses_1", cost=0.12, updated=2_000)])
    assert store.readouts("ses_1")[SIDEBAR_COST] == "$0.12"
    assert store.readouts("ses_1")[SESSIONS_COST] == "$0.12"


def test_client_fix_moves_the_sidebar_only() -> None:
    seen = run_turn(opened_store(client_fix=True))
    assert [shown[SIDEBAR_COST] for shown in seen] == ["$0.05", "$0.09", "$0.12"]
    assert {shown[SESSIONS_COST] for shown in seen} == {"$0.00"}
    assert {shown[FOOTER_COST] for shown in seen} == {"$0.00"}


def test_server_fix_moves_every_cost() -> None:
    seen = run_turn(opened_store(), server_fix=True)
    for name in (SIDEBAR_COST, SESSIONS_COST, FOOTER_COST):
        assert [shown[name] for shown in seen] == ["$0.05", "$0.09", "$0.12"]


def test_client_fix_never_reads_below_the_cached_total() -> None:
    store = ClientStore(client_fix=True, context_limits=LIMITS)
    store.load_sessions([shapes.session_info("ses_1", cost=3.5)])
    store.load_messages(
        "ses_1", [shapes.with_parts(shapes.assistant_info("msg_1", created=1, cost=0.25))]
    )
    assert store.readouts("ses_1")[SIDEBAR_COST] == "$3.50"


def test_tokens_are_the_last_assistant_messages_every_field() -> None:
    usage = shapes.tokens(input=1, output=20, reasoning=300, cache_read=4_000, cache_write=50_000)
    assert total_tokens(shapes.assistant_info("msg_1", created=1, usage=usage)) == 54_321
    assert total_tokens({"tokens": {"input": 5}}) == 5
    assert total_tokens({}) == 0


def test_tokens_are_occupancy_and_may_fall() -> None:
    store = opened_store()
    big = shapes.assistant_info("msg_1", created=1, usage=shapes.tokens(input=89_000, output=1_000))
    small = shapes.assistant_info("msg_3", created=3, usage=shapes.tokens(input=3_500, output=500))
    store.apply(shapes.message_updated(big))
    store.apply(shapes.message_updated(shapes.user_info("msg_2", created=2)))
    assert store.readouts("ses_1")[SIDEBAR_TOKENS] == "90,000"
    store.apply(shapes.message_updated(small))
    assert store.readouts("ses_1")[SIDEBAR_PERCENT] == "4%"


def test_a_turn_just_started_does_not_drop_the_context_readouts_to_zero() -> None:
    store = opened_store()
    reply = shapes.assistant_info("msg_1", created=1, usage=shapes.tokens(input=12_000, output=1_000))
    store.apply(shapes.message_updated(reply))
    store.apply(shapes.message_updated(shapes.user_info("msg_2", created=2)))
    # The next turn's assistant message exists before the model has said anything.
    store.apply(shapes.message_updated(shapes.assistant_info("msg_3", created=3)))

    assert store.readouts("ses_1")[SIDEBAR_TOKENS] == "13,000"


def test_a_user_message_after_the_reply_keeps_the_replys_tokens() -> None:
    store = opened_store()
    reply = shapes.assistant_info("msg_1", created=1, usage=shapes.tokens(input=7_000))
    store.apply(shapes.message_updated(reply))
    store.apply(shapes.message_updated(shapes.user_info("msg_2", created=2)))
    assert store.readouts("ses_1")[SIDEBAR_TOKENS] == "7,000"


def test_an_older_message_updating_late_does_not_become_the_last() -> None:
    store = opened_store()
    older = shapes.assistant_info("msg_1", created=1, usage=shapes.tokens(input=1_000))
    newer = shapes.assistant_info("msg_2", created=2, usage=shapes.tokens(input=2_000))
    store.apply(shapes.message_updated(older))
    store.apply(shapes.message_updated(newer))
    older["tokens"] = shapes.tokens(input=9_999)
    store.apply(shapes.message_updated(older))
    assert store.readouts("ses_1")[SIDEBAR_TOKENS] == "2,000"


def test_removing_the_last_reply_falls_back_to_the_one_before() -> None:
    store = opened_store(client_fix=True)
    first = shapes.assistant_info("msg_1", created=1, cost=0.5, usage=shapes.tokens(input=1_000))
    second = shapes.assistant_info("msg_3", created=3, cost=0.25, usage=shapes.tokens(input=3_000))
    store.apply(shapes.message_updated(first))
    store.apply(shapes.message_updated(shapes.user_info("msg_2", created=2)))
    store.apply(shapes.message_updated(second))
    assert store.readouts("ses_1")[SIDEBAR_COST] == "$0.75"
    assert store.apply(shapes.message_removed("ses_1", "msg_3")) is True
    shown = store.readouts("ses_1")
    assert shown[SIDEBAR_TOKENS] == "1,000"
    assert shown[SIDEBAR_COST] == "$0.50"
    store.apply(shapes.message_removed("ses_1", "msg_1"))
    assert store.readouts("ses_1")[SIDEBAR_TOKENS] == "0"
    assert store.apply(shapes.message_removed("ses_1", "msg_404")) is False


def test_a_growing_message_cost_counts_once() -> None:
    store = opened_store(client_fix=True)
    for cost in (0.1, 0.2, 0.3, 0.7):
        store.apply(shapes.message_updated(shapes.assistant_info("msg_1", created=1, cost=cost)))
    assert store.values("ses_1").sidebar_cost == 0.7


def test_sums_are_exact_whatever_the_order() -> None:
    forward, backward = opened_store(client_fix=True), opened_store(client_fix=True)
    costs = [0.1, 0.2, 0.005, 1e-9, 1234.565]
    for index, cost in enumerate(costs):
        forward.apply(
            shapes.message_updated(shapes.assistant_info(f"msg_{index}", created=index, cost=cost))
        )
    for index, cost in reversed(list(enumerate(costs))):
        backward.apply(
            shapes.message_updated(shapes.assistant_info(f"msg_{index}", created=index, cost=cost))
        )
    assert forward.values("ses_1") == backward.values("ses_1")
    assert forward.readouts("ses_1")[SIDEBAR_COST] == "$1,234.87"


class TestUnknownCost:
    def test_an_unpriced_reply_makes_the_fixed_sidebar_unknown(self) -> None:
        store = opened_store(client_fix=True)
        store.apply(shapes.message_updated(shapes.assistant_info("msg_1", created=1, cost=0.5)))
        store.apply(shapes.message_updated(shapes.assistant_info("msg_2", created=2, cost=None)))
        assert store.readouts("ses_1")[SIDEBAR_COST] == "unknown"
        store.apply(shapes.message_removed("ses_1", "msg_2"))
        assert store.readouts("ses_1")[SIDEBAR_COST] == "$0.50"

    def test_without_the_fix_the_cached_zero_still_shows(self) -> None:
        # The bug also hides unknown spend: the sidebar keeps the cached "$0.00".
        store = opened_store()
        store.apply(shapes.message_updated(shapes.assistant_info("msg_1", created=1, cost=None)))
        assert store.readouts("ses_1")[SIDEBAR_COST] == "$0.00"

    def test_a_null_session_total_is_unknown_everywhere(self) -> None:
        store = opened_store(client_fix=True)
        store.apply(shapes.session_updated(shapes.session_info("ses_1", cost=None, updated=2_000)))
        shown = store.readouts("ses_1")
        assert shown[SIDEBAR_COST] == shown[SESSIONS_COST] == shown[FOOTER_COST] == "unknown"

    def test_a_missing_cost_field_reads_as_zero(self) -> None:
        info = shapes.session_info("ses_1")
        del info["cost"]
        store = ClientStore()
        store.load_session(info)
        assert store.readouts("ses_1")[SESSIONS_COST] == "$0.00"


class TestPercent:
    def test_the_limit_follows_the_last_replys_model(self) -> None:
        store = ClientStore(context_limits={"small": 10_000, "scripted/large": 1_000_000})
        store.load_session(shapes.session_info("ses_1"))
        usage = shapes.tokens(input=5_000)
        store.apply(
            shapes.message_updated(
                shapes.assistant_info("msg_1", created=1, usage=usage, model_id="small")
            )
        )
        assert store.readouts("ses_1")[SIDEBAR_PERCENT] == "50%"
        store.apply(
            shapes.message_updated(
                shapes.assistant_info("msg_2", created=2, usage=usage, model_id="large")
            )
        )
        assert store.readouts("ses_1")[SIDEBAR_PERCENT] == "1%"

    def test_an_unconfigured_model_shows_a_dash(self) -> None:
        store = opened_store()
        store.apply(
            shapes.message_updated(
                shapes.assistant_info(
                    "msg_1", created=1, model_id="other", usage=shapes.tokens(input=10)
                )
            )
        )
        assert store.readouts("ses_1")[SIDEBAR_PERCENT] == "—"

    def test_before_any_reply_the_sessions_model_gives_the_limit(self) -> None:
        assert opened_store().readouts("ses_1")[SIDEBAR_PERCENT] == "0%"
        bare = ClientStore()
        bare.load_session(shapes.session_info("ses_1"))
        assert bare.readouts("ses_1")[SIDEBAR_PERCENT] == "—"

    def test_limits_given_later_repaint(self) -> None:
        clock = FakeClock()
        store = ClientStore(clock=clock)
        store.load_session(shapes.session_info("ses_1"))
        changes: list[tuple[str, tuple[str, ...], float]] = []
        store.on_change(lambda *change: changes.append(change))
        store.set_context_limits(LIMITS)
        assert changes == [("ses_1", (SIDEBAR_PERCENT,), clock.now)]


class TestWindow:
    def test_the_client_fix_misses_evicted_messages_cost(self) -> None:
        store = opened_store(client_fix=True, window=3)
        for index in range(5):
            info = shapes.assistant_info(f"msg_{index}", created=index, cost=0.01)
            store.apply(shapes.message_updated(info))
        assert [entry["info"]["id"] for entry in store.messages("ses_1")] == [
            "msg_2",
            "msg_3",
            "msg_4",
        ]
        assert store.readouts("ses_1")[SIDEBAR_COST] == "$0.03"
        assert store.values("ses_1").incomplete is True

    def test_a_message_older_than_a_full_window_stays_out(self) -> None:
        store = opened_store(client_fix=True, window=2)
        for index in (5, 6):
            store.apply(
                shapes.message_updated(
                    shapes.assistant_info(f"msg_{index}", created=index, cost=1.0)
                )
            )
        changed = store.apply(
            shapes.message_updated(shapes.assistant_info("msg_1", created=1, cost=9.0))
        )
        assert changed is False
        assert store.readouts("ses_1")[SIDEBAR_COST] == "$2.00"

    def test_a_snapshot_as_long_as_the_window_may_hide_older_messages(self) -> None:
        store = ClientStore(window=2)
        entries = [shapes.with_parts(shapes.user_info(f"msg_{i}", created=i)) for i in range(2)]
        store.load_messages("ses_1", entries)
        assert store.values("ses_1").incomplete is True
        store.load_messages("ses_1", entries[:1])
        assert store.values("ses_1").incomplete is False

    def test_the_window_must_hold_a_message(self) -> None:
        with pytest.raises(ValueError, match="at least one"):
            ClientStore(window=0)


class TestSnapshots:
    def test_a_fresh_list_replaces_the_old_one(self) -> None:
        store = ClientStore()
        store.load_sessions([shapes.session_info("ses_1"), shapes.session_info("ses_2")])
        store.load_messages(
            "ses_2", [shapes.with_parts(shapes.user_info("msg_1", "ses_2", created=1))]
        )
        store.load_sessions([shapes.session_info("ses_1")])
        assert store.session_ids() == ["ses_1"]
        assert store.messages("ses_2") == []
        with pytest.raises(UnknownSessionError, match="ses_2"):
            store.readouts("ses_2")

    def test_messages_snapshot_replaces_the_window(self) -> None:
        store = opened_store(client_fix=True)
        store.apply(shapes.message_updated(shapes.assistant_info("msg_9", created=9, cost=5.0)))
        entry = shapes.with_parts(
            shapes.assistant_info("msg_1", created=1, cost=0.5),
            shapes.text_part("prt_1", "msg_1", text="hello"),
        )
        store.load_messages("ses_1", [entry])
        assert store.messages("ses_1") == [entry]
        assert store.readouts("ses_1")[SIDEBAR_COST] == "$0.50"

    def test_an_older_snapshot_does_not_overwrite_a_newer_session(self) -> None:
        store = opened_store()
        store.apply(shapes.session_updated(shapes.session_info("ses_1", cost=0.3, updated=3_000)))
        store.load_sessions([shapes.session_info("ses_1", cost=0.1, updated=2_000)])
        store.load_session(shapes.session_info("ses_1", cost=0.1, updated=2_000))
        assert store.readouts("ses_1")[SESSIONS_COST] == "$0.30"

    def test_an_equally_recent_snapshot_wins_because_silent_writes_keep_the_stamp(self) -> None:
        store = opened_store()
        store.load_sessions([shapes.session_info("ses_1", cost=0.3, updated=1_000)])
        assert store.readouts("ses_1")[SESSIONS_COST] == "$0.30"

    def test_a_stale_session_event_is_ignored(self) -> None:
        store = opened_store()
        store.load_session(shapes.session_info("ses_1", cost=0.3, updated=3_000))
        stale = shapes.session_updated(shapes.session_info("ses_1", cost=0.1, updated=2_000))
        assert store.apply(stale) is False
        assert store.readouts("ses_1")[SESSIONS_COST] == "$0.30"

    def test_events_during_the_request_survive_the_snapshot(self) -> None:
        store = opened_store(client_fix=True)
        store.apply(shapes.message_updated(shapes.assistant_info("msg_1", created=1, cost=0.1)))
        store.apply(shapes.message_updated(shapes.assistant_info("msg_2", created=2, cost=0.2)))
        mark = store.event_mark()
        # While GET /session and GET /message are in flight:
        store.apply(shapes.session_created(shapes.session_info("ses_new")))
        store.apply(shapes.message_updated(shapes.assistant_info("msg_2", created=2, cost=0.4)))
        store.apply(shapes.message_removed("ses_1", "msg_1"))
        store.apply(shapes.message_updated(shapes.assistant_info("msg_3", created=3, cost=1.0)))
        # ...the answers were read before those writes:
        store.load_sessions([shapes.session_info("ses_1")], keep_events_after=mark)
        store.load_messages(
            "ses_1",
            [
                shapes.with_parts(shapes.assistant_info("msg_1", created=1, cost=0.1)),
                shapes.with_parts(shapes.assistant_info("msg_2", created=2, cost=0.2)),
            ],
            keep_events_after=mark,
        )
        assert set(store.session_ids()) == {"ses_1", "ses_new"}
        assert [entry["info"]["id"] for entry in store.messages("ses_1")] == ["msg_2", "msg_3"]
        assert store.readouts("ses_1")[SIDEBAR_COST] == "$1.40"

    def test_a_session_deleted_during_the_request_stays_deleted(self) -> None:
        store = opened_store()
        mark = store.event_mark()
        store.apply(shapes.session_deleted(shapes.session_info("ses_1")))
        store.load_sessions([shapes.session_info("ses_1")], keep_events_after=mark)
        store.load_session(shapes.session_info("ses_1"), keep_events_after=mark)
        assert store.session_ids() == []

    def test_without_a_mark_a_snapshot_is_the_whole_truth(self) -> None:
        store = opened_store()
        store.apply(shapes.session_created(shapes.session_info("ses_new")))
        store.load_sessions([shapes.session_info("ses_1")])
        assert store.session_ids() == ["ses_1"]


class TestEvents:
    def test_session_lifecycle(self) -> None:
        store = ClientStore()
        assert store.apply(shapes.session_created(shapes.session_info("ses_1", cost=0.2))) is True
        assert store.readouts("ses_1")[SESSIONS_COST] == "$0.20"
        assert store.apply(shapes.session_deleted(shapes.session_info("ses_1"))) is True
        assert not store.has_session("ses_1")

    @pytest.mark.parametrize(
        "event",
        [
            shapes.server_connected(),
            shapes.session_status("ses_1"),
            shapes.session_idle("ses_1"),
            shapes.session_error("ses_1"),
            shapes.part_updated(shapes.text_part("prt_1", "msg_1")),
            shapes.part_delta("ses_1", "msg_1", "prt_1", "x"),
            shapes.part_removed("ses_1", "msg_1", "prt_1"),
            {"id": "evt_x", "type": "session.compacted", "properties": {"sessionID": "ses_1"}},
            {"id": "evt_y", "type": "tui.toast.show", "properties": {}},
        ],
    )
    def test_events_that_feed_no_readout_say_so(self, event: dict[str, Any]) -> None:
        store = opened_store()
        before = store.readouts("ses_1")
        assert store.apply(event) is False
        assert store.readouts("ses_1") == before

    def test_parts_stream_into_their_message(self) -> None:
        store = opened_store()
        info = shapes.assistant_info("msg_1", created=1)
        store.apply(shapes.part_updated(shapes.text_part("prt_1", "msg_1", text="He")))
        store.apply(shapes.message_updated(info))
        store.apply(shapes.part_delta("ses_1", "msg_1", "prt_1", "llo"))
        store.apply(shapes.part_updated(shapes.step_finish_part("prt_2", "msg_1", cost=0.1)))
        store.apply(shapes.part_removed("ses_1", "msg_1", "prt_2"))
        [entry] = store.messages("ses_1")
        assert entry["info"] == info
        assert [part["text"] for part in entry["parts"]] == ["Hello"]

    def test_status_and_error_are_kept(self) -> None:
        store = opened_store()
        store.apply(shapes.session_status("ses_1", "busy"))
        assert store.status("ses_1") == {"type": "busy"}
        store.apply(shapes.session_idle("ses_1"))
        assert store.status("ses_1") == {"type": "idle"}
        store.apply(shapes.session_error("ses_1", "provider down"))
        assert store.error("ses_1")["data"]["message"] == "provider down"

    def test_the_callers_event_dict_is_not_mutated(self) -> None:
        store = opened_store()
        part = shapes.text_part("prt_1", "msg_1", text="a")
        store.apply(shapes.message_updated(shapes.user_info("msg_1", created=1)))
        store.apply(shapes.part_updated(part))
        store.apply(shapes.part_delta("ses_1", "msg_1", "prt_1", "b"))
        assert part["text"] == "a"


class TestOnChange:
    def test_reports_only_readouts_whose_string_changed(self) -> None:
        clock = FakeClock()
        store = ClientStore(client_fix=True, context_limits=LIMITS, clock=clock)
        changes: list[tuple[str, tuple[str, ...], float]] = []
        store.on_change(lambda *change: changes.append(change))
        store.load_session(shapes.session_info("ses_1"))
        assert changes == [("ses_1", READOUT_NAMES, clock.now)]
        changes.clear()

        usage = shapes.tokens(input=13_000)
        store.apply(
            shapes.message_updated(
                shapes.assistant_info("msg_1", created=1, cost=0.05, usage=usage)
            )
        )
        assert changes == [
            ("ses_1", (SIDEBAR_TOKENS, SIDEBAR_PERCENT, SIDEBAR_COST, FOOTER_TOKENS), clock.now)
        ]
        stamp = clock.now
        changes.clear()

        # Same strings again (a cost change below a cent): nothing to repaint.
        store.apply(
            shapes.message_updated(
                shapes.assistant_info("msg_1", created=1, cost=0.051, usage=usage)
            )
        )
        assert changes == []
        assert store.last_changed_at("ses_1")[SIDEBAR_TOKENS] == stamp
        assert store.last_changed_at("ses_1")[SESSIONS_COST] < stamp

    def test_a_vanishing_session_reports_every_readout(self) -> None:
        store = opened_store()
        changes: list[tuple[str, tuple[str, ...], float]] = []
        store.on_change(lambda *change: changes.append(change))
        store.apply(shapes.session_deleted(shapes.session_info("ses_1")))
        assert [(sid, names) for sid, names, _ in changes] == [("ses_1", READOUT_NAMES)]
        assert store.last_changed_at("ses_1") == {}

    def test_unsubscribe_stops_the_calls(self) -> None:
        store = opened_store()
        changes: list[Any] = []
        unsubscribe = store.on_change(lambda *change: changes.append(change))
        unsubscribe()
        unsubscribe()
        store.apply(shapes.session_updated(shapes.session_info("ses_1", cost=1.0, updated=5_000)))
        assert changes == []
