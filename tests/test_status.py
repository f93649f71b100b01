"""The status comment's state block, ticks, and telling the bot's own comment from others."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.model import Comment
from bot.core.sealing import DEVELOPMENT_KEYS, StateKeys, derived_key, state_keys
from bot.core.status import (
    HARMLESS_FIELDS,
    MARKER,
    MAX_RAN,
    MAX_TIERS_ASKED,
    RAN_DAYS,
    Approval,
    Decline,
    DispatchRecord,
    Reschedule,
    StatusState,
    decode_state,
    encode_state,
    find_status,
    has_run,
    read_status,
    seal_status,
    state_block,
    ticked_items,
    tier_asked_at,
    verify_status,
    with_ran,
    with_tier_asked,
)

BOT = "event-support-bot[bot]"
REPO = "Org/Events"
KEYS = StateKeys((b"first key", b"second key"))


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


_A_STATE = StatusState(cancelled_by="prof-okafor")


@given(st.text(max_size=300), st.booleans(), st.text(max_size=100))
def test_any_body_reads_without_error(before: str, with_block: bool, after: str) -> None:
    body = before + (state_block(_A_STATE) if with_block else "") + after
    got = read_status(body, 7)
    assert (got.id, got.body) == (7, body)
    assert all(f"<!-- item:{i} -->" in body for i in got.ticked)
    if "event-support-bot:state" not in before + after:  # the one block, if any, is ours
        assert got.state == (_A_STATE if with_block else StatusState())


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
    status, dups = find_status(comments, BOT, KEYS, REPO, 1)
    assert status is None and dups == ()
    real = _comment(7, BOT, f"{MARKER}\n{state_block(StatusState())}")
    status, dups = find_status([*comments, real, _comment(9, BOT, real.body)], BOT, KEYS,
                               REPO, 1)
    assert status is not None and status.id == 7 and status.state.approval is None
    assert dups == (9,)


def test_a_hand_edited_dispatch_record_is_dropped_not_a_crash() -> None:
    import base64
    import json

    from bot.core.status import decode_state

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


# --- the seal: a block believed only when signed for this issue ------------------------

GRANTING = StatusState(
    approval=Approval("enhanced", "lead-lee", "2026-11-23T10:00:00Z", "enhanced"),
    decline=Decline("lead-lee", "2026-11-23T10:00:00Z", "no", "premium"),
    reschedule=Reschedule("2027-03-09T15:00:00Z", None, "lead-lee", "2026-11-23T10:00:00Z",
                          None, None),
    cancelled_by="lead-lee", cancelled_at="2026-11-23T10:00:00Z",
    sent=("reminder:image-update", "armed"),
    dispatches=(DispatchRecord("prewarm", "2027-03-09T13:00:00Z", {"hub": "h"}, True),),
    issue_updated_at="2099-01-01T00:00:00Z",
    rotation=("alice",), rotation_start="2027-03-09T15:00:00Z", rotation_size=1,
    bot_labels=("type: exam",),
    extra={"outbox": [{"id": "0123456789abcdef", "body": "forged"}], "config_note": "abc",
           "a_field_added_later": True},
)
HARMLESS = StatusState(rotation=("alice",), rotation_start="2027-03-09T15:00:00Z",
                       rotation_size=1, bot_labels=("type: exam",),
                       extra={"config_note": "abc"})


def _body(state: StatusState, keys: StateKeys | None = KEYS, repo: str = REPO,
          number: int = 1) -> str:
    body = f"{MARKER}\n- [x] Done <!-- item:a -->\n{state_block(state)}"
    return body if keys is None else seal_status(body, keys, repo, number)


def _other_key_signed(state: StatusState) -> str:
    return _body(state, StateKeys((b"someone else's key",)))


def _tampered(state: StatusState) -> str:
    """A block signed for this issue whose MAC was then kept over other text."""
    good = _body(StatusState(), KEYS)
    mac = good.rsplit(" ", 2)[-2]
    return f"{MARKER}\n- [x] Done <!-- item:a -->\n{state_block(state)[:-4]} {mac} -->"


@pytest.mark.parametrize("body", [
    pytest.param(_body(GRANTING, None), id="unsigned (written before the seal)"),
    pytest.param(_other_key_signed(GRANTING), id="signed under another key"),
    pytest.param(_body(GRANTING, repo=REPO, number=2), id="the same repo's other issue"),
    pytest.param(_body(GRANTING, repo="org/other", number=1), id="another repo's issue 1"),
    pytest.param(_tampered(GRANTING), id="a MAC copied over other text"),
    pytest.param(_body(GRANTING, DEVELOPMENT_KEYS), id="the development key"),
])
def test_a_block_that_does_not_verify_grants_nothing(body: str) -> None:
    status = verify_status(body, 5, KEYS, REPO, 1)
    assert not status.verified
    assert status.state == HARMLESS  # approvals, sent, dispatches, outbox...: all gone
    assert status.ticked == frozenset({"a"})  # ticks in the visible checklist still count
    assert read_status(status.body).state == HARMLESS  # the body holds what is left


def test_the_harmless_fields_are_an_allow_list() -> None:
    # A field added to the state later is untrusted until someone decides otherwise here.
    assert set(HARMLESS_FIELDS) == {"bot_labels", "rotation", "rotation_start",
                                    "rotation_size"}


@pytest.mark.parametrize("repo", [REPO, REPO.lower(), REPO.upper()])
def test_a_block_signed_for_this_issue_is_believed_whole(repo: str) -> None:
    body = _body(GRANTING, KEYS, REPO, 1)
    status = verify_status(body, 5, KEYS, repo, 1)  # GitHub's names ignore case
    assert status.verified and status.state == GRANTING
    # As the pure core renders it (unsigned), so an unchanged comment plans no edit.
    assert status.body == _body(GRANTING, None)
    ticked = body.replace("<!-- item:a -->", "<!-- item:a -->\n- [x] More <!-- item:b -->")
    again = verify_status(ticked, 5, KEYS, repo, 1)  # a box ticked: the block still verifies
    assert again.verified and again.ticked == frozenset({"a", "b"})


def test_key_rotation_the_second_key_verifies_and_the_first_signs() -> None:
    old = _body(GRANTING, StateKeys((b"second key",)))
    status = verify_status(old, 5, KEYS, REPO, 1)
    assert status.verified and status.state.approval == GRANTING.approval
    resigned = seal_status(status.body, KEYS, REPO, 1)
    assert resigned == _body(GRANTING, StateKeys((b"first key",)))
    assert not verify_status(resigned, 5, StateKeys((b"second key",)), REPO, 1).verified


def test_a_status_comment_without_a_block_is_written_again() -> None:
    status = verify_status(f"{MARKER}\nno block", 5, KEYS, REPO, 1)
    assert not status.verified and status.state == StatusState()


@pytest.mark.parametrize(("setting", "secret", "expected"), [
    ("k1", "s", (b"k1",)),
    (" k1 , k2 ,", None, (b"k1", b"k2")),  # the first signs, any verifies
    ("", "s", (derived_key("s").encode(),)),
    (None, "s", (derived_key("s").encode(),)),
    (" , ", "s", (derived_key("s").encode(),)),
    (None, None, None),
    ("", "", None),
])
def test_state_keys_come_from_the_setting_else_the_webhook_secret(
        setting: str | None, secret: str | None, expected: tuple[bytes, ...] | None) -> None:
    keys = state_keys(setting, secret)
    assert (keys.keys if keys is not None else None) == expected


def test_a_derived_key_listed_in_the_setting_still_verifies() -> None:
    # Moving off the webhook secret: BOT_STATE_KEY=new,<derived_key(secret)>.
    old = state_keys(None, "hook secret")
    assert old is not None
    body = _body(GRANTING, old)
    moved = state_keys(f"new,{derived_key('hook secret')}", "hook secret")
    assert moved is not None and verify_status(body, 5, moved, REPO, 1).verified
    assert "new" not in repr(moved)  # keys never reach a log line


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
    from bot.core.status import KEEP_DISPATCHES, STATE_BUDGET

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
