"""The status comment's hidden state: its values and their encoding in the block.

What the bot must remember about a request (an approval, the engineers it assigned,
the reminders it sent, the dispatches it made) is a ``StatusState``; ``encode_state``
and ``decode_state`` turn it into the block's text and back. A damaged or hand-edited
block decodes to what of it is well formed, never to an error.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

STATE_VERSION = 1
# The ledgers' bounds (bot.core.status_ledger), here because decoding keeps no more.
MAX_RAN = 50  # comments remembered per request; older ids than the kept ones count as run
MAX_TIERS_ASKED = 10


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
class Confirmation:
    by: str
    at: str
    covers: str  # a fingerprint of the hub, dates and attendees it covered (bot.confirm)


@dataclass(frozen=True)
class DispatchRecord:
    kind: str  # "prewarm" or "scale-down"
    at: str
    inputs: dict[str, str]
    ok: bool
    error: str = ""
    comment: int | None = None  # the /prewarm comment that asked for it: done once
    for_start: str | None = None  # the event start it readied nodes for (ISO, UTC)
    hub: str | None = None  # the hub host it was for
    # The workflow run it started (bot.core.runs): "" not followed (older records), QUEUED
    # until the run is found and done, then its conclusion ("success", "failure", ...).
    run: str = ""
    run_id: int | None = None
    run_url: str = ""


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
    # (comment id, when its commands ran): each comment's commands run once (bounded).
    ran: tuple[tuple[int, str], ...] = ()
    # (tier the form asked for, since when): an unnamed /approve-tier approves the tier
    # asked for when its comment was written (bounded).
    tiers_asked: tuple[tuple[str | None, str], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)  # keys from newer versions, kept
    confirmation: Confirmation | None = None  # infrastructure waits for one (bot.confirm)

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
            and (rec.for_start is None or isinstance(rec.for_start, str))
            and (rec.hub is None or isinstance(rec.hub, str))
            and isinstance(rec.run, str) and isinstance(rec.run_url, str)
            and (rec.run_id is None or (isinstance(rec.run_id, int)
                                        and not isinstance(rec.run_id, bool))))


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
        ran=_ran(data.get("ran")),
        tiers_asked=_tiers_asked(data.get("tiers_asked")),
        extra={k: v for k, v in data.items() if k not in known},
        confirmation=_confirmation(data.get("confirmation")),
    )


def _ran(value: Any) -> tuple[tuple[int, str], ...]:
    if not isinstance(value, list):
        return ()
    return tuple((v[0], v[1]) for v in value[-MAX_RAN:]
                 if isinstance(v, list) and len(v) == 2 and isinstance(v[0], int)
                 and not isinstance(v[0], bool) and isinstance(v[1], str))


def _tiers_asked(value: Any) -> tuple[tuple[str | None, str], ...]:
    if not isinstance(value, list):
        return ()
    return tuple((v[0], v[1]) for v in value[-MAX_TIERS_ASKED:]
                 if isinstance(v, list) and len(v) == 2
                 and (v[0] is None or isinstance(v[0], str)) and isinstance(v[1], str))


def _confirmation(value: Any) -> Confirmation | None:
    found: Confirmation | None = _obj(Confirmation, value)
    if found is None or not all(isinstance(v, str) for v in (found.by, found.at, found.covers)):
        return None
    return found


def _opt_count(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 100:
        return value
    return None
