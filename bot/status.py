"""The status comment: its hidden state block, its ticked boxes, and finding the bot's own.

GitHub is the database: what the bot must remember about a request (an
approval, the engineers it assigned, the reminders it sent, the dispatches it
made) lives in a hidden block inside the status comment, so the server keeps
nothing of its own and a restart loses nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from .model import Comment

MARKER = "<!-- event-support-bot:status -->"
_STATE_RE = re.compile(r"<!-- event-support-bot:state ([A-Za-z0-9_=-]{0,200000}) -->")
_ITEM_RE = re.compile(r"^\s*[-*] \[([ xX])\] .*?<!-- item:([a-z0-9_-]+) -->\s*$", re.MULTILINE)
STATE_VERSION = 1


@dataclass(frozen=True)
class Approval:
    tier: str
    by: str
    at: str  # ISO 8601 UTC
    requested: str | None  # the tier asked for when it was approved


@dataclass(frozen=True)
class Decline:
    by: str
    at: str
    reason: str
    requested: str | None


@dataclass(frozen=True)
class Reschedule:
    start: str
    end: str | None
    by: str
    at: str
    form_start: str | None  # the form's dates when rescheduled: an edit to them wins again
    form_end: str | None


@dataclass(frozen=True)
class DispatchRecord:
    kind: str  # "prewarm" or "scale-down"
    at: str
    inputs: dict[str, str]
    ok: bool
    error: str = ""
    comment: int | None = None  # the /prewarm comment that asked for it: done once
    for_start: str | None = None  # the event start it readied nodes for (ISO, UTC)


@dataclass(frozen=True)
class StatusState:
    approval: Approval | None = None
    decline: Decline | None = None
    reschedule: Reschedule | None = None
    cancelled_by: str | None = None
    cancelled_at: str | None = None
    rotation_start: str | None = None  # the start the rotation was applied for
    rotation: tuple[str, ...] = ()  # engineers the bot assigned from the rotation
    rotation_size: int | None = None  # how many it was asked for (the type's or the tier's)
    bot_labels: tuple[str, ...] = ()  # labels the bot added (the only ones it removes)
    sent: tuple[str, ...] = ()  # reminders and follow-ups sent, by key
    dispatches: tuple[DispatchRecord, ...] = ()
    issue_updated_at: str | None = None  # the newest issue version planned from
    extra: dict[str, Any] = field(default_factory=dict)  # keys from newer versions, kept

    def with_sent(self, *keys: str) -> StatusState:
        return replace(self, sent=tuple(dict.fromkeys((*self.sent, *keys))))

    def without_sent(self, *keys: str) -> StatusState:
        gone = set(keys)
        return replace(self, sent=tuple(k for k in self.sent if k not in gone))

    def dispatched(self, kind: str) -> DispatchRecord | None:
        for record in reversed(self.dispatches):
            if record.kind == kind and record.ok:
                return record
        return None


def encode_state(state: StatusState) -> str:
    data = asdict(state)
    extra = data.pop("extra", {}) or {}
    data = {k: v for k, v in data.items() if v not in (None, (), [], {})}
    data.update({k: v for k, v in extra.items() if k not in data})
    data["v"] = STATE_VERSION
    raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _obj(cls: type[Any], value: Any) -> Any:
    if not isinstance(value, dict):
        return None
    names = cls.__dataclass_fields__
    try:
        return cls(**{k: v for k, v in value.items() if k in names})
    except TypeError:
        return None


def _strs(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(v for v in value if isinstance(v, str))


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _well_formed(rec: DispatchRecord) -> bool:
    """A dispatch record a hand-edited block cannot turn into a crash on every sync."""
    return (isinstance(rec.kind, str) and isinstance(rec.at, str)
            and isinstance(rec.ok, bool) and isinstance(rec.error, str)
            and isinstance(rec.inputs, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in rec.inputs.items())
            and (rec.comment is None or (isinstance(rec.comment, int)
                                         and not isinstance(rec.comment, bool)))
            and (rec.for_start is None or isinstance(rec.for_start, str)))


def decode_state(blob: str) -> StatusState:
    """A state block's text -> state; a damaged block gives an empty state, never an error."""
    try:
        data = json.loads(base64.urlsafe_b64decode(blob.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return StatusState()
    if not isinstance(data, dict):
        return StatusState()
    dispatches = []
    raw = data.get("dispatches")
    for d in raw if isinstance(raw, list) else []:
        rec = _obj(DispatchRecord, d)
        if rec is not None and _well_formed(rec):
            dispatches.append(rec)
    known = set(StatusState.__dataclass_fields__) | {"v"}
    return StatusState(
        approval=_obj(Approval, data.get("approval")),
        decline=_obj(Decline, data.get("decline")),
        reschedule=_obj(Reschedule, data.get("reschedule")),
        cancelled_by=_opt_str(data.get("cancelled_by")),
        cancelled_at=_opt_str(data.get("cancelled_at")),
        rotation_start=_opt_str(data.get("rotation_start")),
        rotation=_strs(data.get("rotation")),
        rotation_size=_opt_count(data.get("rotation_size")),
        bot_labels=_strs(data.get("bot_labels")),
        sent=_strs(data.get("sent")),
        dispatches=tuple(dispatches),
        issue_updated_at=_opt_str(data.get("issue_updated_at")),
        extra={k: v for k, v in data.items() if k not in known},
    )


def _opt_count(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 100:
        return value
    return None


def state_block(state: StatusState) -> str:
    return f"<!-- event-support-bot:state {encode_state(fit_state(state))} -->"


# --- the state-size budget ----------------------------------------------------------------

COMMENT_LIMIT = 65_536  # GitHub refuses a comment body longer than this
# The encoded state's share of the status comment; the rest is bounded by render's caps.
STATE_BUDGET = 32_000
KEEP_DISPATCHES = 8  # the newest records, which the lifecycle reads, are kept
_ERROR_CHARS = 200  # as much of a failure's text as any comment shows
_OUTBOX = "outbox"  # bot.outbox.OUTBOX_KEY: replies owed
_KNOWN_EXTRA = frozenset({_OUTBOX, "config_note"})
# sent keys this version reads; a key of no family here is dropped last, oldest first
_KNOWN_SENT = ("armed", "summary", "follow-up", "closed", "notices", "prewarm-refused",
               "scale-down-refused", "start:", "pending:", "rep:", "rep-notice:",
               "reminder:", "dispatch-failed:")


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


@dataclass(frozen=True)
class StatusComment:
    """The bot's status comment as found on the issue."""

    id: int
    body: str
    state: StatusState
    ticked: frozenset[str]


def ticked_items(body: str) -> frozenset[str]:
    """Item ids whose box is ticked (``- [x]`` or ``- [X]``), by the hidden item marker."""
    return frozenset(m.group(2) for m in _ITEM_RE.finditer(body) if m.group(1) in "xX")


def listed_items(body: str) -> frozenset[str]:
    return frozenset(m.group(2) for m in _ITEM_RE.finditer(body))


def read_status(body: str, comment_id: int = 0) -> StatusComment:
    # The bot writes its block last: one earlier in the text can only be a forgery.
    blocks = list(_STATE_RE.finditer(body))
    state = decode_state(blocks[-1].group(1)) if blocks else StatusState()
    return StatusComment(id=comment_id, body=body, state=state, ticked=ticked_items(body))


def is_status_comment(comment: Comment, bot_login: str | None) -> bool:
    """Ours only: written by the App's bot user and holding the marker.

    Without a known bot login (dry run) any bot-authored comment with the marker counts;
    a marker pasted by a person never does.
    """
    if MARKER not in comment.body or not comment.author_is_bot:
        return False
    return bot_login is None or comment.author.lower() == bot_login.lower()


def find_status(comments: Iterable[Comment], bot_login: str | None
                ) -> tuple[StatusComment | None, tuple[int, ...]]:
    """-> (the oldest status comment of ours, ids of any duplicates to delete)."""
    ours = sorted((c for c in comments if is_status_comment(c, bot_login)), key=lambda c: c.id)
    if not ours:
        return None, ()
    first = ours[0]
    return read_status(first.body, first.id), tuple(c.id for c in ours[1:])
