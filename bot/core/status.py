"""The status comment: its hidden state block, its ticked boxes, and finding the bot's own.

GitHub is the database: what the bot must remember about a request (an
approval, the engineers it assigned, the reminders it sent, the dispatches it
made) lives in a hidden block inside the status comment, so the server keeps
nothing of its own and a restart loses nothing.

Every writer can edit that comment, so the block the bot writes is signed for its issue
(``seal_status``, ``bot.core.sealing``) and one read back is believed only when it verifies
(``find_status``); one that does not grants nothing (``untrusted``). The MAC covers the
block alone, so ticking a box in the visible checklist keeps it valid.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from .model import Comment
from .sealing import MAC_CHARS, StateKeys

MARKER = "<!-- event-support-bot:status -->"
# The block's base64, then (in a block the bot wrote) its MAC (``bot.core.sealing``).
_STATE_RE = re.compile(r"<!-- event-support-bot:state ([A-Za-z0-9_=-]{0,200000})"
                       rf"(?: ([A-Za-z0-9_-]{{1,{MAC_CHARS}}}))? -->")
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


def _utc(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _when(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


# --- commands run once ---------------------------------------------------------------

MAX_RAN = 50  # comments remembered per request; older ids than the kept ones count as run
RAN_DAYS = 30  # how long they are remembered: a comment older than this never runs


def has_run(state: StatusState, comment_id: int) -> bool:
    """Whether this comment's commands ran already (GitHub's comment ids only grow, so
    once the record is full, an id below every kept one is an old comment's)."""
    ids = [c for c, _ in state.ran]
    return comment_id in ids or (len(ids) >= MAX_RAN and comment_id < min(ids))


def with_ran(state: StatusState, comment_id: int, now: datetime) -> StatusState:
    """``state`` recording that ``comment_id``'s commands ran at ``now`` (old ones pruned)."""
    cutoff = now - timedelta(days=RAN_DAYS)
    kept = [(c, at) for c, at in state.ran
            if c != comment_id and (when := _when(at)) is not None and when >= cutoff]
    kept = sorted([*kept, (comment_id, _utc(now))])[-MAX_RAN:]
    return replace(state, ran=tuple(kept))


# --- the tier asked for, over time ---------------------------------------------------

MAX_TIERS_ASKED = 10


def with_tier_asked(state: StatusState, tier: str | None, since: datetime) -> StatusState:
    """``state`` knowing the form asks for ``tier`` from ``since`` (when it changed)."""
    if state.tiers_asked and state.tiers_asked[-1][0] == tier:
        return state
    asked = (*state.tiers_asked, (tier, _utc(since)))[-MAX_TIERS_ASKED:]
    return replace(state, tiers_asked=asked)


def tier_asked_at(state: StatusState, at: datetime) -> tuple[bool, str | None]:
    """-> (known, the tier the form asked for at ``at``). Unknown when ``at`` is before
    every version kept; a version seen in the same second as ``at`` counts as after it."""
    found: tuple[bool, str | None] = (False, None)
    for i, (tier, since) in enumerate(state.tiers_asked):
        when = _when(since)
        if when is None:
            continue
        if when < at or (i == 0 and when <= at):
            found = (True, tier)
    return found


def _confirmation(value: Any) -> Confirmation | None:
    found: Confirmation | None = _obj(Confirmation, value)
    if found is None or not all(isinstance(v, str) for v in (found.by, found.at, found.covers)):
        return None
    return found


def _opt_count(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 100:
        return value
    return None


def state_block(state: StatusState) -> str:
    """The block as the pure core renders it: unsigned (the shell seals it, ``seal_status``)."""
    return f"<!-- event-support-bot:state {encode_state(fit_state(state))} -->"


# --- the state-size budget ----------------------------------------------------------------

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


# What a block that fails verification still counts for: what grants nothing. Its own
# labels (the only ones it removes) and the engineers it assigned, so an upgrade or a
# bad edit does not add or assign anything twice. Every other field, and any field
# added later, is ignored unless the block verifies.
HARMLESS_FIELDS = frozenset({"bot_labels", "rotation", "rotation_start", "rotation_size"})
HARMLESS_EXTRA = frozenset({"config_note"})  # a broken override already named (repo_config)


def untrusted(state: StatusState) -> StatusState:
    """``state`` as far as a block that did not verify may be believed (see HARMLESS_*)."""
    kept = {name: getattr(state, name) for name in HARMLESS_FIELDS}
    return StatusState(**kept, extra={k: v for k, v in state.extra.items()
                                      if k in HARMLESS_EXTRA})


def seal_status(body: str, keys: StateKeys, repo: str, number: int) -> str:
    """``body`` with its (last) state block signed for the issue ``repo#number``."""
    blocks = list(_STATE_RE.finditer(body))
    if not blocks:
        return body
    match = blocks[-1]
    blob = match.group(1)
    sealed = f"<!-- event-support-bot:state {blob} {keys.mac(repo, number, blob)} -->"
    return body[:match.start()] + sealed + body[match.end():]


@dataclass(frozen=True)
class StatusComment:
    """The bot's status comment as found on the issue."""

    id: int
    body: str
    state: StatusState
    ticked: frozenset[str]
    verified: bool = True  # its block is one the bot signed for this issue (``find_status``)


def ticked_items(body: str) -> frozenset[str]:
    """Item ids whose box is ticked (``- [x]`` or ``- [X]``), by the hidden item marker."""
    return frozenset(m.group(2) for m in _ITEM_RE.finditer(body) if m.group(1) in "xX")


def listed_items(body: str) -> frozenset[str]:
    return frozenset(m.group(2) for m in _ITEM_RE.finditer(body))


def read_status(body: str, comment_id: int = 0) -> StatusComment:
    """The block as written, believed whole: for text the bot rendered itself. A comment
    read from GitHub is verified first (``find_status``)."""
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


def verify_status(body: str, comment_id: int, keys: StateKeys, repo: str, number: int
                  ) -> StatusComment:
    """The status comment as found on ``repo#number``, its block believed only if it verifies.

    Its ``body`` holds the block unsigned, as the pure core renders it (so an unchanged
    comment plans no edit); one that failed holds the block of what is left of it, and
    ``verified`` is False: the shell writes it again, signed.
    """
    blocks = list(_STATE_RE.finditer(body))
    if not blocks:
        return StatusComment(comment_id, body, StatusState(), ticked_items(body), False)
    match = blocks[-1]
    blob, mac = match.group(1), match.group(2)
    state = decode_state(blob)
    ok = mac is not None and keys.verifies(repo, number, blob, mac)
    if ok:
        block = f"<!-- event-support-bot:state {blob} -->"
    else:
        state = untrusted(state)
        block = state_block(state)
    plain = body[:match.start()] + block + body[match.end():]
    return StatusComment(comment_id, plain, state, ticked_items(body), ok)


def find_status(comments: Iterable[Comment], bot_login: str | None, keys: StateKeys,
                repo: str, number: int) -> tuple[StatusComment | None, tuple[int, ...]]:
    """-> (the oldest status comment of ours, ids of any duplicates to delete), its block
    verified for the issue ``repo#number`` under ``keys`` (``verify_status``)."""
    ours = sorted((c for c in comments if is_status_comment(c, bot_login)), key=lambda c: c.id)
    if not ours:
        return None, ()
    first = ours[0]
    return (verify_status(first.body, first.id, keys, repo, number),
            tuple(c.id for c in ours[1:]))
