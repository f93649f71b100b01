"""The status comment: its hidden state block, its ticked boxes, and finding the bot's own.

GitHub is the database: what the bot must remember about a request (an
approval, the engineers it assigned, the reminders it sent, the dispatches it
made) lives in a hidden block inside the status comment, so the server keeps
nothing of its own and a restart loses nothing.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from .model import Comment

MARKER = "<!-- event-support-bot:status -->"
_STATE_RE = re.compile(r"<!-- event-support-bot:state ([A-Za-z0-9_=-]{0,200000}) -->")
# Spaces within a line only: ``\s*`` spanning blank lines backtracked for seconds on many.
_ITEM_RE = re.compile(r"^[^\S\n]*[-*] \[([ xX])\] .*?<!-- item:([a-z0-9_-]+) -->[^\S\n]*$",
                      re.MULTILINE)
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
    return f"<!-- event-support-bot:state {encode_state(state)} -->"


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
