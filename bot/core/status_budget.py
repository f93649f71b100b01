"""The state-size budget: the state cut to fit its share of the status comment.

GitHub refuses a comment over ``COMMENT_LIMIT`` characters, and every writer of the
state (a forger included) could grow it; ``fit_state`` drops what grants nothing
first, so the comment is always written.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, replace
from typing import Any

from .status_state import StatusState, encode_state

COMMENT_LIMIT = 65_536  # GitHub refuses a comment body longer than this
# The encoded state's share of the status comment; the rest is bounded by render's caps.
STATE_BUDGET = 32_000
KEEP_DISPATCHES = 8  # the newest records, which the lifecycle reads, are kept
_ERROR_CHARS = 200  # as much of a failure's text as any comment shows
_OUTBOX = "outbox"  # bot.core.outbox.OUTBOX_KEY: replies owed
_KNOWN_EXTRA = frozenset({_OUTBOX, "config_note"})
# sent keys this version reads; a key of no family here is dropped last, oldest first
_KNOWN_SENT = ("armed", "summary", "follow-up", "closed", "notices", "confirm-asked",
               "prewarm-refused",
               "scale-down-refused", "start:", "pending:", "rep:", "rep-notice:",
               "reminder:", "dispatch-failed:", "run-failed:")


def _json_len(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=True))


def _fits(state: StatusState, budget: int) -> bool:
    return len(encode_state(state)) <= budget


def _drop_oldest(items: tuple[Any, ...], droppable: set[int], excess: int,
                 size: Any = _json_len) -> tuple[Any, ...]:
    """``items`` without the first of ``droppable`` (indexes) until ``excess`` characters
    of JSON are gone (or none is left to drop)."""
    gone: set[int] = set()
    for i in sorted(droppable):
        if excess <= 0:
            break
        gone.add(i)
        excess -= size(items[i]) + 1
    return tuple(x for i, x in enumerate(items) if i not in gone)


def _old_failures(state: StatusState) -> set[int]:
    """``dispatch-failed:KIND@AT`` keys of episodes over: only the newest of a kind is read."""
    newest: dict[str, tuple[str, int]] = {}
    failures = []
    for i, key in enumerate(state.sent):
        if key.startswith("dispatch-failed:"):
            kind, _, at = key.partition(":")[2].partition("@")
            failures.append(i)
            if kind not in newest or at >= newest[kind][0]:
                newest[kind] = (at, i)
    keep = {i for _, i in newest.values()}
    return {i for i in failures if i not in keep}


def _unknown_sent(state: StatusState) -> set[int]:
    return {i for i, key in enumerate(state.sent)
            if not any(key == k or (k.endswith(":") and key.startswith(k))
                       for k in _KNOWN_SENT)}


def _rep_keys(state: StatusState) -> set[int]:
    """A representative whose key goes may be told again, within the notices' cap."""
    return {i for i, key in enumerate(state.sent) if key.startswith("rep:")}


def fit_state(state: StatusState, budget: int = STATE_BUDGET) -> StatusState:
    """The state cut to ``budget`` encoded characters, whatever was written into it.

    What grants nothing goes first, oldest first: the failure keys of dispatch episodes
    that are over, dispatch records older than the newest ``KEEP_DISPATCHES`` and the
    failure texts beyond what a comment shows, keys of newer versions, then replies still
    owed (each was posted or is lost, never posted twice), ``sent`` keys of no family this
    version knows, and last representatives' keys (the notices' cap still holds). The
    keys that stop a reminder or a notice from being said again are never dropped: each
    family of them is bounded by config or by a cap. A form answer kept to compare with
    (a reschedule's) is kept as a digest when long.
    """
    state = _short_form_values(state)
    if _fits(state, budget):
        return state

    def over() -> int:  # the base64 characters too many, as JSON characters
        return (len(encode_state(state)) - budget) * 3 // 4 + 3

    state = replace(state, sent=_drop_oldest(state.sent, _old_failures(state), over()))
    if _fits(state, budget):
        return state
    old = set(range(max(0, len(state.dispatches) - KEEP_DISPATCHES)))
    state = replace(state, dispatches=_drop_oldest(state.dispatches, old, over(),
                                                   lambda r: _json_len(asdict(r))))
    if _fits(state, budget):
        return state
    state = replace(state, dispatches=tuple(
        replace(r, error=r.error[:_ERROR_CHARS]) for r in state.dispatches))
    if _fits(state, budget):
        return state
    state = replace(state, extra={k: v for k, v in state.extra.items() if k in _KNOWN_EXTRA})
    if _fits(state, budget):
        return state
    owed = state.extra.get(_OUTBOX)
    if isinstance(owed, list):
        kept = _drop_oldest(tuple(owed), set(range(len(owed))), over())
        extra = {k: v for k, v in state.extra.items() if k != _OUTBOX}
        state = replace(state, extra={**extra, **({_OUTBOX: list(kept)} if kept else {})})
        if _fits(state, budget):
            return state
    for droppable in (_unknown_sent, _rep_keys):
        state = replace(state, sent=_drop_oldest(state.sent, droppable(state), over()))
        if _fits(state, budget):
            return state
    # Only a state no version of the bot writes (a forged one) is still over: its newest
    # record, else nothing of it.
    state = replace(state, dispatches=state.dispatches[-1:])
    return state if _fits(state, budget) else StatusState()


FORM_VALUE_CHARS = 200  # a form answer kept in the state longer than this is kept as a digest


def form_value(answer: str | None) -> str | None:
    """A form answer as the state keeps it to compare with later: itself when short, else
    its digest (the same answer gives the same digest; a digest is its own form value)."""
    if answer is None or len(answer) <= FORM_VALUE_CHARS:
        return answer
    return "sha256:" + hashlib.sha256(answer.encode("utf-8", "replace")).hexdigest()


def _short_form_values(state: StatusState) -> StatusState:
    r = state.reschedule
    if r is None or (form_value(r.form_start) == r.form_start
                     and form_value(r.form_end) == r.form_end):
        return state
    return replace(state, reschedule=replace(r, form_start=form_value(r.form_start),
                                             form_end=form_value(r.form_end)))
