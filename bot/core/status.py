"""The status comment: its hidden state block, its ticked boxes, and finding the bot's own.

GitHub is the database: what the bot must remember about a request (an
approval, the engineers it assigned, the reminders it sent, the dispatches it
made) lives in a hidden block inside the status comment, so the server keeps
nothing of its own and a restart loses nothing.

Every writer can edit that comment, so the block the bot writes is signed for its issue
(``seal_status``, ``bot.core.sealing``) and one read back is believed only when it verifies
(``find_status``); one that does not grants nothing (``untrusted``). The MAC covers the
block alone, so ticking a box in the visible checklist keeps it valid.

This module finds, reads and verifies the comment; the state's values and encoding are in
``status_state``, its size budget in ``status_budget``, its ledgers in ``status_ledger``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .model import Comment
from .sealing import MAC_CHARS, StateKeys

# The state, its budget and its ledgers live in their own modules; every public name is
# still importable from here.
from .status_budget import (
    COMMENT_LIMIT,
    FORM_VALUE_CHARS,
    KEEP_DISPATCHES,
    STATE_BUDGET,
    fit_state,
    form_value,
)
from .status_ledger import RAN_DAYS, has_run, tier_asked_at, with_ran, with_tier_asked
from .status_state import (
    MAX_RAN,
    MAX_TIERS_ASKED,
    STATE_VERSION,
    Approval,
    Confirmation,
    Decline,
    DispatchRecord,
    Reschedule,
    StatusState,
    decode_state,
    encode_state,
)

__all__ = [
    "COMMENT_LIMIT", "FORM_VALUE_CHARS", "HARMLESS_EXTRA", "HARMLESS_FIELDS",
    "KEEP_DISPATCHES", "MARKER", "MAX_RAN", "MAX_TIERS_ASKED", "RAN_DAYS", "STATE_BUDGET",
    "STATE_VERSION", "Approval", "Confirmation", "Decline", "DispatchRecord", "Reschedule",
    "StatusComment", "StatusState", "decode_state", "encode_state", "find_status",
    "fit_state", "form_value", "has_run", "is_status_comment", "listed_items",
    "read_status", "seal_status", "state_block", "ticked_items", "tier_asked_at",
    "untrusted", "verify_status", "with_ran", "with_tier_asked",
]

MARKER = "<!-- event-support-bot:status -->"
# The block's base64, then (in a block the bot wrote) its MAC (``bot.core.sealing``).
_STATE_RE = re.compile(r"<!-- event-support-bot:state ([A-Za-z0-9_=-]{0,200000})"
                       rf"(?: ([A-Za-z0-9_-]{{1,{MAC_CHARS}}}))? -->")
# Spaces within a line only: ``\s*`` spanning blank lines backtracked for seconds on many.
_ITEM_RE = re.compile(r"^[^\S\n]*[-*] \[([ xX])\] .*?<!-- item:([a-z0-9_-]+) -->[^\S\n]*$",
                      re.MULTILINE)


def state_block(state: StatusState) -> str:
    """The block as the pure core renders it: unsigned (the shell seals it, ``seal_status``)."""
    return f"<!-- event-support-bot:state {encode_state(fit_state(state))} -->"


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
