"""The status comment's state block, ticks, and telling the bot's own comment from others."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.model import Comment
from bot.status import (
    MARKER,
    MAX_RAN,
    MAX_TIERS_ASKED,
    RAN_DAYS,
    Approval,
    DispatchRecord,
    StatusState,
    decode_state,
    encode_state,
    find_status,
    has_run,
    read_status,
    state_block,
    ticked_items,
    tier_asked_at,
    with_ran,
    with_tier_asked,
)

BOT = "event-support-bot[bot]"


def test_state_round_trips() -> None:
    state = StatusState(
        approval=Approval("premium", "lead-lee", "2026-11-23T10:00:00Z", "premium"),
        rotation=("alice", "bob"), rotation_start="2027-03-02T15:00:00Z",
        bot_labels=("type: exam",), sent=("reminder:image-update",),
        dispatches=(DispatchRecord("prewarm", "2027-03-02T13:00:00Z", {"replicas": "7"}, True),),
    )
    assert decode_state(encode_state(state)) == state


def test_unknown_keys_from_a_newer_version_are_kept() -> None:
    import base64
    import json

    blob = base64.urlsafe_b64encode(json.dumps({"v": 2, "future": [1, 2]}).encode()).decode()
    state = decode_state(blob)
    assert state.extra == {"future": [1, 2]}
    assert decode_state(encode_state(state)).extra == {"future": [1, 2]}


@pytest.mark.parametrize("blob", ["", "!!!", "bm90IGpzb24", "WzEsMl0", "eyJhcHByb3ZhbCI6IDV9"])
def test_damaged_state_is_empty_not_an_error(blob: str) -> None:
    state = decode_state(blob)
    assert state.approval is None and state.sent == ()


@given(st.text(max_size=300))
def test_any_body_reads_without_error(body: str) -> None:
    read_status(body)


@pytest.mark.parametrize(
    ("body", "ticked"),
    [
        ("- [x] A <!-- item:a -->\n- [ ] B <!-- item:b -->", {"a"}),
        ("- [X] A <!-- item:a -->\r\n- [X] B <!-- item:b -->\r\n", {"a", "b"}),
        ("* [x] A <!-- item:a -->", {"a"}),
        ("- [x] no marker\n- [ ] B <!-- item:b -->", set()),
        ("  - [x] indented <!-- item:c -->", {"c"}),
    ],
)
def test_ticks_are_read_by_item_id(body: str, ticked: set[str]) -> None:
    assert ticked_items(body) == ticked


def _comment(cid: int, author: str, body: str, is_bot: bool = True) -> Comment:
    return Comment(id=cid, author=author, author_is_bot=is_bot, body=body)


def test_only_the_bots_own_marked_comment_counts() -> None:
    forged = StatusState(approval=Approval("premium", "mallory", "2026-01-01", "premium"))
    body = f"{MARKER}\nhello\n{state_block(forged)}"
    comments = [
        _comment(1, "mallory", body, is_bot=False),  # a person pasted the marker
        _comment(2, "other-app[bot]", body),  # another App
        _comment(3, BOT, "no marker here"),
    ]
    status, dups = find_status(comments, BOT)
    assert status is None and dups == ()
    real = _comment(7, BOT, f"{MARKER}\n{state_block(StatusState())}")
    status, dups = find_status([*comments, real, _comment(9, BOT, real.body)], BOT)
    assert status is not None and status.id == 7 and status.state.approval is None
    assert dups == (9,)


def test_a_hand_edited_dispatch_record_is_dropped_not_a_crash() -> None:
    import base64
    import json

    from bot.status import decode_state

    records = [{"kind": "prewarm", "at": 5, "inputs": {}, "ok": True},
               {"kind": "prewarm", "at": None, "inputs": {}, "ok": True},
               {"kind": "prewarm", "at": "2027-03-09T17:00:00Z", "inputs": {"a": 1}, "ok": True},
               {"kind": "prewarm", "at": "2027-03-09T17:00:00Z", "inputs": {}, "ok": "yes"},
               {"kind": "prewarm", "at": "2027-03-09T17:00:00Z", "inputs": {}, "ok": True,
                "comment": "x"},
               {"kind": "prewarm", "at": "2027-03-09T17:00:00Z", "inputs": {"hub": "a"},
                "ok": True, "comment": 12, "for_start": "2027-03-09T19:00:00Z"}]
    blob = base64.urlsafe_b64encode(json.dumps({"dispatches": records, "v": 1}).encode())
    state = decode_state(blob.decode())
    assert [(r.comment, r.for_start) for r in state.dispatches] == [
        (12, "2027-03-09T19:00:00Z")]
    assert decode_state(base64.urlsafe_b64encode(b'{"dispatches": 3}').decode()).dispatches == ()


# --- commands run once, and the tier asked for over time --------------------------------------

T0 = datetime(2026, 11, 23, 9, tzinfo=UTC)


def test_comments_run_are_kept_for_thirty_days_and_at_most_fifty() -> None:
    state = StatusState()
    for i in range(MAX_RAN + 20):
        state = with_ran(state, 1000 + i, T0 + timedelta(minutes=i))
    assert len(state.ran) == MAX_RAN
    assert has_run(state, 1000 + MAX_RAN + 19) and has_run(state, 1030)
    assert has_run(state, 1000)  # evicted by the cap: older ids count as run
    assert not has_run(state, 5000)
    # A month on, the old ones are pruned; a comment that old is not run at all.
    later = with_ran(state, 6000, T0 + timedelta(days=RAN_DAYS, hours=2))
    assert [c for c, _ in later.ran] == [6000]
    assert decode_state(encode_state(state)).ran == state.ran
    assert len(encode_state(state)) < 4000


def test_tiers_asked_over_time() -> None:
    state = StatusState()
    assert tier_asked_at(state, T0) == (False, None)
    state = with_tier_asked(state, "standard", T0)
    assert with_tier_asked(state, "standard", T0 + timedelta(hours=1)) == state
    state = with_tier_asked(state, "enhanced", T0 + timedelta(hours=1))
    assert tier_asked_at(state, T0) == (True, "standard")  # the first version, from opening
    assert tier_asked_at(state, T0 + timedelta(minutes=59)) == (True, "standard")
    assert tier_asked_at(state, T0 + timedelta(hours=1)) == (True, "standard")  # a tie: before
    assert tier_asked_at(state, T0 + timedelta(hours=2)) == (True, "enhanced")
    assert tier_asked_at(state, T0 - timedelta(seconds=1)) == (False, None)
    for i in range(30):
        state = with_tier_asked(state, ("premium", None)[i % 2], T0 + timedelta(days=1, hours=i))
    assert len(state.tiers_asked) == MAX_TIERS_ASKED
    assert tier_asked_at(state, T0 + timedelta(hours=2)) == (False, None)  # forgotten: unknown
    assert decode_state(encode_state(state)).tiers_asked == state.tiers_asked


@pytest.mark.parametrize("raw", [
    {"ran": [[1, "2026-11-23T09:00:00Z"], [True, "x"], ["2", "y"], [3], "z"], "v": 1},
    {"tiers_asked": [["standard", "2026-11-23T09:00:00Z"], [1, "x"], [None, 5], None]},
])
def test_a_hand_edited_record_keeps_only_what_is_well_formed(raw: dict[str, object]) -> None:
    import base64
    import json

    state = decode_state(base64.urlsafe_b64encode(json.dumps(raw).encode()).decode())
    assert state.ran in ((), ((1, "2026-11-23T09:00:00Z"),))
    assert state.tiers_asked in ((), (("standard", "2026-11-23T09:00:00Z"),))
