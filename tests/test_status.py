"""The status comment's state block, ticks, and telling the bot's own comment from others."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.model import Comment
from bot.status import (
    MARKER,
    Approval,
    DispatchRecord,
    StatusState,
    decode_state,
    encode_state,
    find_status,
    read_status,
    state_block,
    ticked_items,
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


# --- the state-size budget: the status comment stays under GitHub's limit ------------------

GITHUB_LIMIT = 65_536
# What must survive any cut: what was approved and assigned, and the keys that stop a
# reminder or a notice from being said again.
KEPT_SENT = ("armed", "notices", "start:2027-03-09T19:00:00Z", "reminder:confirm-details",
             "pending:premium", "rep:prof-okafor", "rep-notice:2026-11-24T09:00:00Z",
             "dispatch-failed:prewarm@2027-03-09T17:10:00Z")


def _record(i: int, error: str = "") -> DispatchRecord:
    return DispatchRecord("prewarm", f"2027-03-{1 + i // 1440:02d}T00:00:00Z",
                          {"cluster": "c", "hub": "h", "replicas": str(i)}, not error, error)


def _base(**changes: object) -> StatusState:
    from dataclasses import replace

    state = StatusState(
        approval=Approval("premium", "lead-lee", "2026-11-23T10:00:00Z", "premium"),
        rotation=("alice", "bob"), bot_labels=("type: exam",), sent=KEPT_SENT,
        dispatches=tuple(_record(i) for i in range(3)))
    return replace(state, **changes)  # type: ignore[arg-type]


def _outbox(n: int, size: int) -> dict[str, object]:
    return {"outbox": [{"id": f"{i:016x}", "body": "x" * size} for i in range(n)]}


BULK = {
    "old failure keys": _base(sent=(*(f"dispatch-failed:prewarm@2027-02-{i:05d}"
                                      for i in range(5000)), *KEPT_SENT)),
    "old dispatch records": _base(dispatches=tuple(_record(i) for i in range(3000))),
    "long failure texts": _base(dispatches=tuple(_record(i, "e" * 8000) for i in range(8))),
    "keys of a newer version": _base(extra={"future": ["y" * 100] * 1000}),
    "replies owed": _base(extra=_outbox(20, 5000)),
    "keys of no known family": _base(sent=(*(f"cmd:{i}" for i in range(5000)),
                                           *KEPT_SENT)),
    "all of it": _base(sent=(*(f"dispatch-failed:scale-down@{i}" for i in range(3000)),
                             *(f"cmd:{i}" for i in range(3000)), *KEPT_SENT),
                       dispatches=tuple(_record(i, "e" * 3000) for i in range(500)),
                       extra={**_outbox(20, 9000), "future": "z" * 50_000}),
}


@pytest.mark.parametrize("state", BULK.values(), ids=BULK.keys())
def test_the_state_block_stays_within_its_budget_and_keeps_what_grants(state: StatusState
                                                                        ) -> None:
    from bot.status import KEEP_DISPATCHES, STATE_BUDGET

    assert len(encode_state(state)) > GITHUB_LIMIT  # the bulk alone would be refused
    block = state_block(state)
    assert len(block) < STATE_BUDGET + 100 < GITHUB_LIMIT // 2
    kept = read_status(block).state
    assert kept.approval == state.approval and kept.rotation == state.rotation
    assert set(KEPT_SENT) <= set(kept.sent)
    newest = state.dispatches[-KEEP_DISPATCHES:]
    assert [(r.at, r.inputs) for r in kept.dispatches[-len(newest):]] == [
        (r.at, r.inputs) for r in newest]


def test_what_grants_nothing_goes_first() -> None:
    """Old failure keys are enough to drop here: the replies owed stay."""
    state = _base(sent=(*(f"dispatch-failed:prewarm@2027-02-{i:05d}" for i in range(5000)),
                        *KEPT_SENT), extra=_outbox(2, 100))
    kept = read_status(state_block(state)).state
    assert kept.extra == state.extra
    old = [k for k in state.sent if k.startswith("dispatch-failed:prewarm@2027-02-")]
    left = [k for k in kept.sent if k.startswith("dispatch-failed:prewarm@2027-02-")]
    assert 0 < len(left) < len(old) and left == old[-len(left):]  # the oldest went


def test_a_state_within_its_budget_is_written_whole() -> None:
    state = _base(extra=_outbox(3, 1000))
    assert decode_state(encode_state(state)) == read_status(state_block(state)).state
